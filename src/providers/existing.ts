import { connectAdmin, type SqlSession, type PgConnection } from '../db/admin.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readTls } from '../db/tls.js';
import { parseUrl } from '../db/url.js';
import { describePortState, probePort } from '../net/probe.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import { addSecret } from '../io/secrets.js';
import { askConfirm, askFilePath, askServerUrl } from '../options/prompts.js';
import type { Options, RunConfig } from '../options/types.js';
import type { Step } from '../plan/step.js';
import type { Endpoint, Provider, ProviderStatus } from './types.js';

/** Unix socket folders libpq builds commonly use. */
const SOCKET_DIRS = ['/var/run/postgresql', '/tmp'];

/** Check the server once with a superuser session (the step has nothing to run). */
function checkServerStep(endpoint: Endpoint, admin: () => Promise<SqlSession>): Step {
  return {
    title: `Check PostgreSQL on ${endpoint.host}:${endpoint.port}`,
    async check() {
      const s = await admin();
      const rows = await s.query('SHOW server_version');
      return `PostgreSQL ${String(rows[0]?.server_version ?? '').split(' ')[0]}, admin ${s.via}`;
    },
    async run() {
      return undefined;
    },
    describe: () => [`connect as a superuser to ${endpoint.host}:${endpoint.port}`],
  };
}

/** A protocol probe, no login: detection must not need credentials. */
async function detectExisting(endpoint: Endpoint): Promise<ProviderStatus> {
  const s = await probePort(endpoint.host, endpoint.port);
  const where = `${endpoint.host}:${endpoint.port}`;
  if (s.kind === 'postgres') return { name: 'existing', state: 'running', detail: `${describePortState(s)} on ${where}`, version: s.version, port: endpoint.port };
  return { name: 'existing', state: 'unavailable', detail: s.kind === 'free' ? `nothing listens on ${where}` : `${where} is taken by ${describePortState(s)}` };
}

/**
 * A server that is already running: pg-setup only provisions on it. The superuser session
 * comes from --admin-url / PGSETUP_ADMIN_URL, else from libpq conventions (PG* variables,
 * ~/.pgpass, the unix socket).
 */
export function createExistingProvider(opts: Readonly<Options>): Provider {
  if (opts.port === 'auto') throw usageError('--port auto picks a port for a server pg-setup starts; an existing server has a port already.', 'Pass --port <port> with the port your server listens on.');
  const endpoint: Endpoint = { host: opts.host, port: opts.port };
  // One superuser session per run: the readiness check opens it and provisioning reuses it.
  let session: Promise<SqlSession> | undefined;
  const admin = () => (session ??= openAdmin(opts, endpoint).catch((e: unknown) => {
    session = undefined;
    throw e;
  }));
  const steps = [checkServerStep(endpoint, admin)];
  return {
    name: 'existing',
    detect: () => detectExisting(endpoint),
    steps: () => steps,
    endpoint: () => endpoint,
    admin,
  };
}

/** Connect as a superuser, trying the admin URL, then TCP with PG* defaults, then unix sockets. */
async function openAdmin(opts: Readonly<Options>, endpoint: Endpoint): Promise<SqlSession> {
  if (opts.adminUrl) {
    const u = parseUrl(opts.adminUrl);
    if (!u) throw usageError('The admin URL is not a postgres:// URL.', 'Pass --admin-url postgres://USER:PASSWORD@HOST:PORT/postgres.');
    addSecret(u.password);
    // opts.tls: the URL's own sslmode/sslrootcert, with PGSSLMODE/PGSSLROOTCERT filling the gaps, as in libpq.
    return connectOrExplain({ host: u.host, port: u.port, user: u.user, password: u.password || undefined, database: u.database || 'postgres', tls: opts.tls });
  }
  const envTls = opts.tls;
  const attempts: PgConnection[] = [
    { host: endpoint.host, port: endpoint.port, user: process.env.PGUSER, database: process.env.PGDATABASE ?? 'postgres', tls: envTls },
  ];
  if (['localhost', '127.0.0.1', '::1'].includes(endpoint.host)) {
    for (const dir of SOCKET_DIRS) attempts.push({ host: dir, port: endpoint.port, user: process.env.PGUSER, database: 'postgres' });
  }
  const reasons: string[] = [];
  for (const conn of attempts) {
    try {
      const session = await connectAdmin({ ...conn, connectionTimeoutMillis: 3000 });
      if (isAdminEnough(await adminPowers(session))) return session;
      reasons.push(`${session.via}: neither a superuser nor CREATEROLE and CREATEDB`);
      await session.close();
    } catch (e) {
      if (e instanceof UserError) throw e; // a TLS failure says exactly what to fix
      reasons.push(`${conn.host}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const unreachable = reasons.every((r) => /ECONNREFUSED|ENOENT|timeout|ENOTFOUND|EHOSTUNREACH/i.test(r));
  if (unreachable) throw serverUnreachable(endpoint);
  throw new UserError(`Could not open a superuser session on ${endpoint.host}:${endpoint.port} (${reasons.join('; ')}).`, {
    hint: 'Pass --admin-url postgres://postgres:PASSWORD@HOST:PORT/postgres (or set PGSETUP_ADMIN_URL), or set PGUSER/PGPASSWORD.',
    exitCode: ExitCode.auth,
  });
}

/** Connect with the admin URL's credentials and prove they are a superuser's. */
async function connectOrExplain(conn: PgConnection): Promise<SqlSession> {
  let session: SqlSession;
  try {
    session = await connectAdmin(conn);
  } catch (e) {
    if (e instanceof UserError) throw e; // TLS failures arrive explained
    const err = e as Error & { code?: string };
    if (/ECONNREFUSED|ENOTFOUND|timeout|EHOSTUNREACH/i.test(`${err.code} ${err.message}`)) throw serverUnreachable(conn);
    throw new UserError(`The admin credentials were rejected by ${conn.host}:${conn.port}: ${err.message}`, {
      hint: 'Check the user and password in --admin-url / PGSETUP_ADMIN_URL.',
      exitCode: ExitCode.auth,
    });
  }
  const powers = await adminPowers(session);
  if (!isAdminEnough(powers)) {
    await session.close();
    const missing = [powers.createrole ? '' : 'CREATEROLE', powers.createdb ? '' : 'CREATEDB'].filter(Boolean).join(' and ');
    throw new UserError(`The admin URL's user "${conn.user ?? ''}" on ${conn.host}:${conn.port} lacks ${missing}, so it cannot create the app's role and database; nothing was changed.`, {
      hint: `Use an admin that has them (a managed service's main user does), or as a superuser: ALTER ROLE ${JSON.stringify(conn.user ?? '')} CREATEROLE CREATEDB;`,
      exitCode: ExitCode.auth,
    });
  }
  return session;
}

/** What the admin may do, from pg_roles (readable without superuser, unlike pg_authid). */
async function adminPowers(session: SqlSession): Promise<{ superuser: boolean; createrole: boolean; createdb: boolean }> {
  const rows = await session.query(`SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`);
  const r = rows[0] ?? {};
  return { superuser: r.rolsuper === true, createrole: r.rolcreaterole === true, createdb: r.rolcreatedb === true };
}

/** A superuser, or CREATEROLE + CREATEDB (a managed service's admin): enough to provision. */
function isAdminEnough(p: { superuser: boolean; createrole: boolean; createdb: boolean }): boolean {
  return p.superuser || (p.createrole && p.createdb);
}

/** The error for "nothing answers there", with the providers that could start a server. */
export function serverUnreachable(ep: { host: string; port: number }): UserError {
  return new UserError(`No PostgreSQL server answers on ${ep.host}:${ep.port}.`, {
    hint: 'Start your server, or let pg-setup start one: --provider auto (or apt, brew, docker, local).',
    exitCode: ExitCode.server,
  });
}

/**
 * Wizard only, before the task list: ask for the server's admin URL (pasted as the provider
 * shows it, password masked), then for a CA file when the URL names none, and offer
 * sslmode=verify-full when there is one. Returns the admin URL, TLS, host and port it settles.
 */
export async function askExistingServer(opts: RunConfig): Promise<Partial<Pick<Options, 'adminUrl' | 'tls' | 'host' | 'port'>>> {
  const pasted = await askServerUrl('Admin URL of the server (paste it; Enter: PG* variables)');
  if (!pasted) return {};
  const u = parseUrl(pasted)!;
  addSecret(u.password);
  const url = new URL(pasted.replace(/^[^:]+:/, 'http:'));
  const q = url.searchParams;
  if (!q.get('sslrootcert')) {
    const ca = await askFilePath('CA file of the server (PEM; Enter if none)', (p) => existsSync(resolve(opts.projectDir, p)));
    if (ca) q.set('sslrootcert', resolve(opts.projectDir, ca));
  }
  if (q.get('sslrootcert') && q.get('sslmode') !== 'verify-full') {
    const full = await askConfirm('Verify the server certificate and host name with that CA (sslmode=verify-full)?', true);
    if (full) q.set('sslmode', 'verify-full');
  }
  const query = [...q.entries()].map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2F/g, '/')}`).join('&');
  return {
    adminUrl: `${pasted.replace(/\?.*$/, '')}${query ? `?${query}` : ''}`,
    tls: readTls(new URLSearchParams(query), process.env, opts.projectDir),
    host: u.host,
    port: u.port,
  };
}
