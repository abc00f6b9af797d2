/**
 * TLS settings for a PostgreSQL connection, with libpq's meaning (sslmode, sslrootcert,
 * sslcert, sslkey), mapped explicitly onto node's TLS options (node-postgres gives its own
 * sslmode values other meanings: its "require" verifies, and PGSSLMODE is read behind our back)
 * and onto each Python driver's URL form.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ExitCode, UserError, usageError } from '../errors.js';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface TlsSettings {
  sslmode: SslMode;
  /** A CA file (absolute path), or "system" for the system's trusted CAs. */
  sslrootcert?: string | undefined;
  sslcert?: string | undefined;
  sslkey?: string | undefined;
}

/** Does this mode encrypt (at least when the server agrees)? */
export function isEncrypted(t: TlsSettings | undefined): boolean {
  return t !== undefined && ['require', 'verify-ca', 'verify-full'].includes(t.sslmode);
}

/** Does this mode check the server certificate against a CA? (libpq: require + a root cert = verify-ca) */
export function isVerified(t: TlsSettings | undefined): boolean {
  return t !== undefined && (t.sslmode === 'verify-ca' || t.sslmode === 'verify-full' || (t.sslmode === 'require' && t.sslrootcert !== undefined));
}

/**
 * TLS settings from a URL's query (sslmode / asyncpg's ssl, sslrootcert, sslcert, sslkey),
 * else from PGSSLMODE / PGSSLROOTCERT / PGSSLCERT / PGSSLKEY. Undefined when nothing asks for TLS.
 * Relative file paths are made absolute against `cwd`, since the app runs elsewhere.
 */
export function readTls(query: URLSearchParams | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): TlsSettings | undefined {
  // asyncpg's form keeps file paths in the query of a dsn= parameter (see driverTlsQuery).
  const dsn = query?.get('dsn');
  const inner = dsn && dsn.includes('?') ? new URLSearchParams(dsn.slice(dsn.indexOf('?') + 1)) : undefined;
  const q = (k: string) => query?.get(k) ?? inner?.get(k) ?? undefined;
  const fromQuery = q('sslmode') ?? q('ssl');
  const mode = fromQuery ?? env.PGSSLMODE;
  const pick = (k: string, envKey: string) => q(k) ?? (fromQuery === undefined || env[envKey] !== undefined ? env[envKey] : undefined);
  const rootcert = pick('sslrootcert', 'PGSSLROOTCERT');
  if (mode === undefined && rootcert === undefined) return undefined;
  const sslmode = (mode ?? (rootcert ? 'verify-full' : 'prefer')) as SslMode;
  if (!SSL_MODES.includes(sslmode)) {
    throw usageError(`sslmode "${mode}" is not one of ${SSL_MODES.join(', ')}.`, 'Pass ?sslmode=verify-full&sslrootcert=/path/to/ca.pem in --admin-url (or set PGSSLMODE).');
  }
  const abs = (p: string | undefined) => (p === undefined || p === 'system' || isAbsolute(p) ? p : resolve(cwd, p.replace(/^~(?=\/)/, homedir())));
  return { sslmode, sslrootcert: abs(rootcert), sslcert: abs(pick('sslcert', 'PGSSLCERT')), sslkey: abs(pick('sslkey', 'PGSSLKEY')) };
}

/**
 * The `ssl` option for node-postgres with libpq's meaning. Always explicit (false or an object),
 * so node-postgres never applies its own reading of PGSSLMODE. `prefer` and `allow` are
 * returned as plaintext or TLS by the caller's retry (see connectAdmin); here they map to TLS.
 */
export function nodeSsl(t: TlsSettings | undefined): false | ConnectionOptions {
  if (!t || t.sslmode === 'disable') return false;
  const files: ConnectionOptions = {};
  if (t.sslcert) files.cert = readPem(t.sslcert, 'sslcert');
  if (t.sslkey) files.key = readPem(t.sslkey, 'sslkey');
  if (!isVerified(t)) return { ...files, rejectUnauthorized: false };
  const ca = rootCa(t);
  const base: ConnectionOptions = { ...files, rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  // verify-ca checks the chain only; verify-full also the host name (node's default check).
  return t.sslmode === 'verify-full' ? base : { ...base, checkServerIdentity: () => undefined };
}

/** The CA certificates to trust: the sslrootcert file, ~/.postgresql/root.crt as libpq does, or the system's. */
function rootCa(t: TlsSettings): string | undefined {
  if (t.sslrootcert === 'system') return undefined;
  if (t.sslrootcert) return readPem(t.sslrootcert, 'sslrootcert');
  const dflt = join(homedir(), '.postgresql', 'root.crt');
  if (existsSync(dflt)) return readPem(dflt, 'sslrootcert');
  throw new UserError(`sslmode=${t.sslmode} needs a CA certificate to check the server against, and none was given (no sslrootcert, no ~/.postgresql/root.crt).`, {
    hint: "Add sslrootcert=/path/to/ca.pem to --admin-url (the CA your provider publishes), or sslrootcert=system for a publicly trusted certificate.",
    exitCode: ExitCode.usage,
  });
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`Cannot read the ${what} file ${path}: ${(e as Error).message}`, `Pass ${what}= with a readable PEM file.`);
  }
}

/** URL query parameters carrying `t` in the driver's own form (psycopg: libpq's; asyncpg: ssl=...). */
export function driverTlsQuery(driver: 'psycopg' | 'asyncpg', t: TlsSettings | undefined): [string, string][] {
  if (!t) return [];
  if (driver === 'psycopg') {
    return [
      ['sslmode', t.sslmode],
      ...(t.sslrootcert ? [['sslrootcert', t.sslrootcert] as [string, string]] : []),
      ...(t.sslcert ? [['sslcert', t.sslcert] as [string, string]] : []),
      ...(t.sslkey ? [['sslkey', t.sslkey] as [string, string]] : []),
    ];
  }
  // asyncpg takes ssl=<mode> as a keyword, and file paths only in its own DSN's query (or as an
  // SSLContext in connect_args). SQLAlchemy hands every URL query key to asyncpg.connect(), so
  // dsn=postgresql://?sslrootcert=... carries the files with no change to the app's code.
  const files = (['sslrootcert', 'sslcert', 'sslkey'] as const)
    .filter((k) => t[k] !== undefined && t[k] !== 'system')
    .map((k) => `${k}=${encodeURIComponent(t[k] as string).replace(/%2F/g, '/')}`);
  return [['ssl', t.sslmode], ...(files.length ? [['dsn', `postgresql://?${files.join('&')}`] as [string, string]] : [])];
}

/** A host that is this machine: no traffic leaves it, so unverified TLS is no risk there. */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host.startsWith('/');
}
