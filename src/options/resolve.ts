import { statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { checkName, sanitizeName } from '../db/ident.js';
import { readTls } from '../db/tls.js';
import { parseUrl, type Driver } from '../db/url.js';
import { addSecret } from '../io/secrets.js';
import type { Flags } from './parse.js';
import { PROVIDERS, type Options, type ProviderChoice } from './types.js';

export interface ResolveInput {
  flags: Flags;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdinIsTTY: boolean;
  /** The value of the env key already in the env file, if any (read by the caller). */
  envFileValue?: string | undefined;
  /** The env key the project's settings read (from the analysis), used when --env-key is absent. */
  projectEnvKey?: string | undefined;
}

/** Which values the user gave (so prompts ask only for the rest). */
export interface Given {
  dbName: boolean;
  dbUser: boolean;
  dbPassword: boolean;
  provider: boolean;
  sqlite: boolean;
}

/** The env file path a run would use, resolved before reading it. */
export function envFilePath(flags: Flags, cwd: string): string {
  const projectDir = resolve(cwd, flags['project-dir'] ?? '.');
  const f = flags['env-file'] ?? '.env';
  return isAbsolute(f) ? f : resolve(projectDir, f);
}

/**
 * Resolve options: defaults < the URL already in the env file < env vars < flags.
 * Prompts (prompts.ts) fill what is still open afterwards. Pure apart from a stat of the project dir.
 */
export function resolveOptions(input: ResolveInput): { options: Options; given: Given } {
  const { flags, env } = input;
  const projectDir = resolve(input.cwd, flags['project-dir'] ?? '.');
  const st = statSync(projectDir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw usageError(`Project folder ${projectDir} does not exist.`, 'Pass --project-dir <dir> with an existing folder.');

  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  const interactive = !flags['non-interactive'] && input.stdinIsTTY && !ci;

  const provider = (flags.provider ?? 'auto') as ProviderChoice;
  if (!PROVIDERS.includes(provider)) throw usageError(`Unknown provider "${flags.provider}".`, `Pass --provider with one of: ${PROVIDERS.join(', ')}.`);

  const driver = (flags.driver ?? 'psycopg') as Driver;
  if (driver !== 'psycopg' && driver !== 'asyncpg') throw usageError(`Unknown driver "${flags.driver}".`, 'Pass --driver psycopg or --driver asyncpg.');

  // A postgres URL already in the env file supplies defaults, so re-runs reuse it.
  const fromFile = input.envFileValue ? parseUrl(input.envFileValue) : undefined;

  // The admin URL names the server too: the app connects to the same host and port by default.
  const adminRaw = flags['admin-url'] ?? env.PGSETUP_ADMIN_URL;
  const fromAdmin = adminRaw ? parseUrl(adminRaw) : undefined;
  const port = parsePort(flags.port, fromFile?.port ?? fromAdmin?.port);
  const host = flags.host ?? fromFile?.host ?? (fromAdmin && !fromAdmin.host.startsWith('/') ? fromAdmin.host : undefined) ?? 'localhost';

  const dbName = flags['db-name'] ?? fromFile?.database ?? sanitizeName(basename(projectDir));
  const dbUser = flags['db-user'] ?? fromFile?.user ?? `${dbName}_user`;
  for (const [kind, flag, value] of [['database', '--db-name', dbName], ['role', '--db-user', dbUser]] as const) {
    const err = checkName(kind, flag, value);
    if (err) throw err;
  }

  let dbPassword = flags['db-password'] ?? env.PGSETUP_DB_PASSWORD;
  const passwordFromUser = dbPassword !== undefined;
  if (dbPassword === undefined && fromFile && fromFile.user === dbUser && fromFile.password) dbPassword = fromFile.password;
  if (dbPassword !== undefined && dbPassword.length === 0) throw usageError('The database password is empty.', 'Pass --db-password with a non-empty value, or leave it out to generate one.');
  addSecret(dbPassword);

  const adminUrl = flags['admin-url'] ?? env.PGSETUP_ADMIN_URL;
  if (adminUrl) {
    if (!parseUrl(adminUrl)) throw usageError('The admin URL is not a postgres:// URL.', 'Pass --admin-url postgres://USER:PASSWORD@HOST:PORT/postgres.');
  }

  const envKey = flags['env-key'] ?? input.projectEnvKey ?? 'DATABASE_URL';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envKey)) throw usageError(`"${envKey}" is not a valid environment variable name.`, 'Pass --env-key with letters, digits and underscores, e.g. --env-key DATABASE_URL.');

  const timeoutSec = flags.timeout === undefined ? 60 : Number(flags.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw usageError(`--timeout must be a positive number of seconds, not "${flags.timeout}".`);

  const migrations = (flags.migrations ?? 'auto') as Options['migrations'];
  if (!['auto', 'alembic', 'none'].includes(migrations)) throw usageError(`--migrations must be alembic or none, not "${flags.migrations}".`);
  const sqlite = (flags.sqlite ?? 'keep') as Options['sqlite'];
  if (!['keep', 'delete', 'import'].includes(sqlite)) throw usageError(`--sqlite must be keep, delete or import, not "${flags.sqlite}".`);

  const options: Options = {
    command: flags.command,
    interactive,
    yes: flags.yes ?? false,
    projectDir,
    provider,
    host,
    port,
    adminUrl,
    // The app's URL carries the same TLS as the admin connection (one server).
    tls: (adminUrl ? readTls(new URL(adminUrl.trim().replace(/^[^:]+:/, 'http:')).searchParams, env, input.cwd) : undefined) ?? fromFile?.tls ?? readTls(undefined, env, input.cwd),
    dbName,
    dbUser,
    dbPassword,
    dbPasswordSource: passwordFromUser ? 'user' : dbPassword !== undefined ? 'env-file' : undefined,
    resetPassword: flags['reset-password'] ?? false,
    driver,
    envFile: envFilePath(flags, input.cwd),
    envKey,
    envFileValue: input.envFileValue,
    overwriteEnv: flags['overwrite-env'] ?? false,
    dryRun: flags['dry-run'] ?? false,
    json: flags.json ?? false,
    pgVersion: flags['pg-version'],
    containerName: flags['container-name'],
    dockerImage: flags['docker-image'] ?? (env.PGSETUP_DOCKER_IMAGE || undefined),
    timeoutMs: Math.round(timeoutSec * 1000),
    migrations,
    sqlite,
    sqliteImportIntoNonempty: flags['sqlite-import-into-nonempty'] ?? false,
    sqliteFrom: flags.from,
    dataDir: flags['data-dir'],
    volumes: flags.volumes ?? false,
    settings: flags.settings,
    urlField: flags['url-field'],
    base: flags.base,
    models: flags.models?.split(',').map((m) => m.trim()).filter(Boolean),
    envKeyGiven: flags['env-key'] !== undefined,
    portGiven: flags.port !== undefined,
  };
  const given: Given = {
    dbName: flags['db-name'] !== undefined || fromFile !== undefined,
    dbUser: flags['db-user'] !== undefined || fromFile !== undefined,
    dbPassword: dbPassword !== undefined,
    provider: flags.provider !== undefined,
    sqlite: flags.sqlite !== undefined,
  };
  return { options, given };
}

function parsePort(raw: string | undefined, fallback: number | undefined): number | 'auto' {
  if (raw === undefined) return fallback ?? 5432;
  if (raw === 'auto') return 'auto';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`--port must be a number from 1 to 65535 or "auto", not "${raw}".`);
  return n;
}
