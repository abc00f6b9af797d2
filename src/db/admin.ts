import type { Socket } from 'node:net';
import type { Client } from 'pg';
import { ExitCode, UserError } from '../errors.js';
import { redact } from '../io/secrets.js';
import { run, type RunOptions } from '../io/exec.js';
import { isVerified, nodeSsl, type TlsSettings } from './tls.js';

/** A SQL session on one server: the superuser's (whichever way the provider reaches it) or the app role's (connectApp). */
export interface SqlSession {
  /** Run one SQL statement (or several, for psql-backed sessions) and return its rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
  /** How we connect, for output: "postgres@localhost:5432", "psql as postgres (peer)". No secret. */
  readonly via: string;
}

export interface PgConnection {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  connectionTimeoutMillis?: number;
  /** TLS with libpq's meaning; undefined = plaintext (as before TLS was supported). */
  tls?: TlsSettings | undefined;
}

/** What TLS a live connection uses: the protocol, and whether the certificate was checked. */
export interface TlsState {
  protocol: string;
  verified: boolean;
  /** verify-full: the host name was checked too. */
  hostChecked: boolean;
}

/** The TLS state of a connected `pg` client; undefined for plaintext. */
export function tlsStateOf(client: Client, tls: TlsSettings | undefined): TlsState | undefined {
  const stream = (client as unknown as { connection?: { stream?: { getProtocol?: () => string | null; authorized?: boolean } } }).connection?.stream;
  const protocol = stream?.getProtocol?.();
  if (!protocol) return undefined;
  const verified = isVerified(tls) && stream?.authorized === true;
  return { protocol, verified, hostChecked: verified && tls?.sslmode === 'verify-full' };
}

/**
 * Open a `pg` client with libpq's sslmode meaning. `prefer` tries TLS first and falls back to
 * plaintext only when the server has no TLS; `allow` the other way round. Every other mode
 * is used as given, so asking for TLS never ends in an unencrypted connection.
 */
export async function openPgClient(conn: PgConnection): Promise<{ client: Client; tls: TlsState | undefined }> {
  const mode = conn.tls?.sslmode;
  const asTls = conn.tls ? { ...conn.tls, sslmode: 'require' as const } : undefined;
  if (mode === 'prefer' || mode === 'allow') {
    const first = mode === 'prefer' ? asTls : undefined;
    try {
      return await openPgClientAs(conn, first);
    } catch (e) {
      const retry = mode === 'prefer' ? isServerWithoutTls(e) : isTlsRequired(e);
      if (!retry) throw e;
      return openPgClientAs(conn, mode === 'prefer' ? undefined : asTls);
    }
  }
  return openPgClientAs(conn, conn.tls);
}

let driver: Promise<typeof import('./pg-driver.js')> | undefined;

/**
 * The pg driver, loaded on first use: `pg-setup status` and `stop` never connect, and
 * loading pg costs them about 55 ms of CPU (a third of `status`).
 */
function loadPgDriver(): Promise<(typeof import('./pg-driver.js'))['default']> {
  driver ??= import('./pg-driver.js');
  return driver.then((m) => m.default);
}

/** Start loading the pg driver for a connection soon to come, while the process would wait anyway (a server starting). */
export function preloadPgDriver(): void {
  loadPgDriver().catch(() => undefined);
}

async function openPgClientAs(conn: PgConnection, tls: TlsSettings | undefined): Promise<{ client: Client; tls: TlsState | undefined }> {
  const pg = await loadPgDriver();
  const client = new pg.Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database ?? 'postgres',
    connectionTimeoutMillis: conn.connectionTimeoutMillis ?? 5000,
    application_name: 'pg-setup',
    // Always explicit: node-postgres would otherwise read PGSSLMODE with its own meaning.
    ssl: conn.host.startsWith('/') ? false : nodeSsl(tls),
  });
  client.on('error', () => {
    /* a dropped connection surfaces on the next query */
  });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
  return { client, tls: tlsStateOf(client, tls) };
}

/**
 * Log out as libpq's PQfinish does: send Terminate and close our side of the socket, then go
 * on without waiting the 3-5 ms the server's backend takes to exit and close its side (pg's
 * `end()` waits for that). Once our side is closed the socket no longer keeps the process
 * alive. Never throws.
 */
export function closeClient(client: Client): Promise<void> {
  const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  const ended = client.end().catch(() => undefined);
  if (!socket || typeof socket.unref !== 'function' || socket.destroyed) return ended;
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.unref();
      resolve();
    };
    // 'finish': Terminate is written and our FIN sent; 'close' and end() cover a socket that fails first.
    if (socket.writableFinished) done();
    socket.once('finish', done);
    socket.once('close', done);
    void ended.then(done);
  });
}

/** The server answered the SSLRequest with "no": it has ssl = off. */
export function isServerWithoutTls(e: unknown): boolean {
  return /does not support SSL/i.test((e as Error)?.message ?? '');
}

/** pg_hba.conf has a rule for this connection only with TLS (hostssl), none for plaintext. */
export function isTlsRequired(e: unknown): boolean {
  return (e as { code?: string })?.code === '28000' && /no encryption/i.test((e as Error).message ?? '');
}

const CA_ERRORS = [
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
];

/**
 * A TLS failure in plain words with the fix, or undefined when `e` is no TLS failure. Exit 3
 * when the server's side is wrong (no TLS, an unexpected certificate), 4 when pg_hba.conf
 * refuses the unencrypted connection.
 */
export function explainTlsError(e: unknown, conn: { host: string; port: number; tls?: TlsSettings | undefined }, what: string): UserError | undefined {
  const code = (e as { code?: string })?.code ?? '';
  const msg = redact((e as Error)?.message ?? String(e));
  const where = `${conn.host}:${conn.port}`;
  const mode = conn.tls?.sslmode;
  if (isTlsRequired(e)) {
    return new UserError(`PostgreSQL on ${where} accepts only TLS connections, and ${what} asked for none (pg_hba.conf: ${msg}).`, {
      hint: 'Add ?sslmode=verify-full&sslrootcert=/path/to/ca.pem to the URL (or set PGSSLMODE=verify-full and PGSSLROOTCERT=/path/to/ca.pem): the CA file is the one your provider publishes.',
      exitCode: ExitCode.auth,
    });
  }
  if (isServerWithoutTls(e)) {
    return new UserError(`PostgreSQL on ${where} does not offer TLS, and ${what} asks for sslmode=${mode}; pg-setup never falls back to an unencrypted connection.`, {
      hint: 'Turn TLS on in the server (postgresql.conf: ssl = on, ssl_cert_file, ssl_key_file; then reload), or, only on a network you trust, pass sslmode=disable.',
      exitCode: ExitCode.server,
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new UserError(`The certificate of PostgreSQL on ${where} is not issued for "${conn.host}" (${msg}).`, {
      hint: 'Connect with the host name the certificate names (the endpoint your provider shows, not an IP or an alias), or use sslmode=verify-ca to check only the CA.',
      exitCode: ExitCode.server,
    });
  }
  if (CA_ERRORS.includes(code)) {
    const ca = conn.tls?.sslrootcert ?? '~/.postgresql/root.crt';
    return new UserError(`The certificate of PostgreSQL on ${where} is not signed by the CA in ${ca} (${msg}).`, {
      hint: "Pass sslrootcert= with your provider's CA bundle (the server's issuer), or sslrootcert=system if its certificate is publicly trusted.",
      exitCode: ExitCode.server,
    });
  }
  if (/requires a valid client certificate|certificate authentication failed/i.test(msg)) {
    return new UserError(`PostgreSQL on ${where} requires a client certificate from ${what} (${msg}).`, {
      hint: 'Add sslcert=/path/to/client.crt&sslkey=/path/to/client.key to the URL (or set PGSSLCERT and PGSSLKEY); the key file must be mode 600.',
      exitCode: ExitCode.auth,
    });
  }
  if (/^CERT_|^ERR_TLS_|^ERR_SSL_|EPROTO/.test(code) || /SSL routines|certificate/i.test(msg)) {
    return new UserError(`TLS with PostgreSQL on ${where} failed: ${msg}`, {
      hint: 'Check the sslmode, sslrootcert, sslcert and sslkey in the URL (or the PGSSL* variables).',
      exitCode: ExitCode.server,
    });
  }
  return undefined;
}

/** Open a superuser session over the `pg` driver (TCP or a unix socket dir as host). */
export async function connectAdmin(conn: PgConnection): Promise<SqlSession> {
  let client: Client;
  let tls: TlsState | undefined;
  try {
    ({ client, tls } = await openPgClient(conn));
  } catch (e) {
    throw explainTlsError(e, conn, 'the admin connection') ?? sanitizePgError(e);
  }
  const tlsNote = tls ? ` over ${tls.protocol}${tls.hostChecked ? ', certificate and host verified' : tls.verified ? ', certificate verified' : ', certificate NOT verified'}` : '';
  return {
    via: `${conn.user ?? process.env.PGUSER ?? 'current user'}@${conn.host}:${conn.port}${tlsNote}`,
    async query(sql: string) {
      try {
        const res = await client.query(sql);
        const last = Array.isArray(res) ? res[res.length - 1] : res;
        return (last?.rows ?? []) as Record<string, unknown>[];
      } catch (e) {
        throw sanitizePgError(e);
      }
    },
    close: () => closeClient(client),
  };
}

/**
 * A superuser session through `psql` (peer auth as the postgres OS user, or inside a
 * container). SQL travels on stdin; rows come back as JSON via json_agg.
 */
export function psqlAdmin(
  via: string,
  exec: (sqlOnStdin: string) => Promise<string>,
): SqlSession {
  return {
    via,
    async query(sql: string) {
      const trimmed = sql.trim().replace(/;\s*$/, '');
      const returnsRows = /^(select|with|values|show)\b/i.test(trimmed);
      const wrapped = returnsRows
        ? `SELECT coalesce(json_agg(t), '[]'::json) FROM (${trimmed}) t;`
        : `${trimmed};`;
      const out = await exec(wrapped);
      if (!returnsRows) return [];
      const line = out.trim().split('\n').pop() ?? '[]';
      return JSON.parse(line) as Record<string, unknown>[];
    },
    async close() {},
  };
}

/** Arguments for a quiet, machine-readable psql reading SQL from stdin. */
export const PSQL_ARGS = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];

/** Run psql with SQL on stdin via the one exec wrapper; throws with psql's stderr on failure. */
export async function runPsql(cmd: string, args: string[], sql: string, opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, [...args], { ...opts, input: sql });
  return r.stdout;
}

/**
 * `pg` errors carry the server's message and code; keep those, drop anything secret. A lost
 * connection (the server stopped mid-run) becomes a UserError with exit 3 and the next step.
 */
export function sanitizePgError(e: unknown): Error {
  if (!(e instanceof Error)) return new Error(redact(String(e)));
  if (isConnectionLost(e)) {
    return new UserError(`The connection to PostgreSQL was lost: ${redact(e.message)}`, {
      hint: 'Start the server again, then run pg-setup again: it picks up where it stopped (what was created is kept and reused).',
      exitCode: ExitCode.server,
    });
  }
  const err = new Error(redact(e.message)) as Error & { code?: string };
  const code = (e as { code?: string }).code;
  if (code) err.code = code;
  return err;
}

function isConnectionLost(e: Error): boolean {
  const code = (e as { code?: string }).code ?? '';
  // 57P01-57P03: the server is shutting down or restarting; the rest: the socket went away.
  return /^57P0[123]$/.test(code) || ['ECONNRESET', 'EPIPE'].includes(code) || /Connection terminated|not queryable/i.test(e.message);
}
