import pg from './pg-driver.js';
import { ExitCode, UserError } from '../errors.js';
import { redact } from '../io/secrets.js';
import { run, type RunOptions } from '../io/exec.js';

/** A superuser SQL session, whichever way the provider reaches the server. */
export interface AdminSql {
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
}

/** Open a superuser session over the `pg` driver (TCP or a unix socket dir as host). */
export async function connectAdmin(conn: PgConnection): Promise<AdminSql> {
  const client = new pg.Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database: conn.database ?? 'postgres',
    connectionTimeoutMillis: conn.connectionTimeoutMillis ?? 5000,
    application_name: 'pg-setup',
  });
  client.on('error', () => {
    /* a dropped connection surfaces on the next query */
  });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw sanitizePgError(e);
  }
  return {
    via: `${conn.user ?? process.env.PGUSER ?? 'current user'}@${conn.host}:${conn.port}`,
    async query(sql: string) {
      try {
        const res = await client.query(sql);
        const last = Array.isArray(res) ? res[res.length - 1] : res;
        return (last?.rows ?? []) as Record<string, unknown>[];
      } catch (e) {
        throw sanitizePgError(e);
      }
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * A superuser session through `psql` (peer auth as the postgres OS user, or inside a
 * container). SQL travels on stdin; rows come back as JSON via json_agg.
 */
export function psqlAdmin(
  via: string,
  exec: (sqlOnStdin: string) => Promise<string>,
): AdminSql {
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
