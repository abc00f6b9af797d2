import { addSecret } from '../io/secrets.js';
import { driverTlsQuery, readTls, type TlsSettings } from './tls.js';

export type Driver = 'psycopg' | 'asyncpg';

export interface DbUrlParts {
  driver: Driver;
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
  /** TLS requirements, written in the driver's own form (psycopg: sslmode=..., asyncpg: ssl=...). */
  tls?: TlsSettings | undefined;
}

/** Build the SQLAlchemy URL the app reads: postgresql+psycopg://user:pw@host:port/db[?sslmode=...]. */
export function buildUrl(p: DbUrlParts): string {
  const user = encodeURIComponent(p.user);
  const pw = encodeURIComponent(p.password);
  const query = driverTlsQuery(p.driver, p.tls)
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2F/g, '/')}`)
    .join('&');
  return `postgresql+${p.driver}://${user}:${pw}@${formatHost(p.host)}:${p.port}/${encodeURIComponent(p.database)}${query ? `?${query}` : ''}`;
}

/** A SQLAlchemy SQLite URL (sqlite://, sqlite+aiosqlite://, ...): the value this migration replaces. */
export function isSqliteUrl(url: string): boolean {
  return /^sqlite(\+[a-z0-9_]+)?:\/\//i.test(url.trim());
}

/** Parse a postgres URL (any of postgres://, postgresql://, postgresql+driver://). */
export function parseUrl(url: string): (Omit<DbUrlParts, 'driver'> & { driver: string }) | undefined {
  const m = /^(postgres|postgresql)(?:\+([a-z0-9_]+))?:\/\//i.exec(url.trim());
  if (!m) return undefined;
  let u: URL;
  try {
    u = new URL(url.trim().replace(/^[^:]+:/, 'http:'));
  } catch {
    return undefined;
  }
  const parts = {
    driver: m[2] ?? '',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    // Only the URL's own parameters: PG* variables are the admin connection's business (readTls with env).
    tls: readTls(u.searchParams, {}),
  };
  addSecret(parts.password);
  return parts;
}

/** The URL with its password replaced by ****, for output. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z0-9+]+:\/\/[^:/@]*:)([^@]*)@/i, '$1****@');
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
