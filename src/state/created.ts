import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../files/writer.js';

/**
 * What pg-setup created on one server, so teardown drops only that. Never what merely existed.
 * `container` and `volume` are for providers that start servers (docker).
 */
export interface ServerRecord {
  provider: string;
  roles: string[];
  databases: string[];
  container?: string;
  volume?: string;
}

/** `.pg-setup/state.json`: servers keyed by "host:port" as the app's URL names them. */
export interface CreatedState {
  version: 1;
  servers: Record<string, ServerRecord>;
  /** SQLite files (relative to the project) the app used before its code was wired to PostgreSQL:
   * the wiring removes their URLs, so a later `--sqlite delete` finds them only here. */
  sqliteFiles?: string[];
}

export type CreatedKind = 'roles' | 'databases';

/** Path of the state record (inside the gitignored `.pg-setup/`). */
export function statePath(projectDir: string): string {
  return join(projectDir, '.pg-setup', 'state.json');
}

/** The key a server is recorded under. */
export function serverKey(ep: { host: string; port: number }): string {
  return `${ep.host}:${ep.port}`;
}

/** Read the record; an absent file is an empty record, a corrupt one a clear error. */
export async function readCreated(projectDir: string): Promise<CreatedState> {
  const text = await readTextIfExists(statePath(projectDir));
  if (text === undefined) return { version: 1, servers: {} };
  try {
    const s = JSON.parse(text) as CreatedState;
    if (s.version === 1 && typeof s.servers === 'object' && s.servers) return s;
  } catch {
    /* fall through to the error */
  }
  throw new UserError(`${statePath(projectDir)} is not a pg-setup state record.`, {
    hint: 'Restore it from git history or a backup; pg-setup will not guess what it created.',
    exitCode: ExitCode.files,
  });
}

/** Was `name` created by pg-setup on this server? */
export async function isRecordedCreated(projectDir: string, key: string, kind: CreatedKind, name: string): Promise<boolean> {
  const s = await readCreated(projectDir);
  return s.servers[key]?.[kind].includes(name) ?? false;
}

/**
 * Record that pg-setup is creating `name`. Called right before the CREATE, after the run saw
 * that the object did not exist: written ahead, so an interrupt between the CREATE and this
 * write cannot leave an object pg-setup made but does not know about.
 */
export async function recordCreated(projectDir: string, key: string, provider: string, kind: CreatedKind, name: string): Promise<void> {
  await updateCreated(projectDir, (s) => {
    const rec = (s.servers[key] ??= { provider, roles: [], databases: [] });
    if (!rec[kind].includes(name)) rec[kind].push(name);
  });
}

/** Forget `name` (it was dropped, or its CREATE failed). */
export async function forgetCreated(projectDir: string, key: string, kind: CreatedKind, name: string): Promise<void> {
  await updateCreated(projectDir, (s) => {
    const rec = s.servers[key];
    if (!rec) return;
    rec[kind] = rec[kind].filter((n) => n !== name);
    if (rec.roles.length === 0 && rec.databases.length === 0 && !rec.container && !rec.volume) delete s.servers[key];
  });
}

/** Remember the SQLite files the app used (kept by this run), for a later --sqlite delete. */
export async function recordSqliteFiles(projectDir: string, files: string[]): Promise<void> {
  const s = await readCreated(projectDir);
  const all = [...new Set([...(s.sqliteFiles ?? []), ...files])].sort();
  if (all.length === (s.sqliteFiles ?? []).length) return;
  await updateCreated(projectDir, (st) => {
    st.sqliteFiles = all;
  });
}

/** Forget SQLite files that were moved into the backups. */
export async function forgetSqliteFiles(projectDir: string, files: string[]): Promise<void> {
  const s = await readCreated(projectDir);
  if (!s.sqliteFiles?.some((f) => files.includes(f))) return;
  await updateCreated(projectDir, (st) => {
    st.sqliteFiles = (st.sqliteFiles ?? []).filter((f) => !files.includes(f));
    if (st.sqliteFiles.length === 0) delete st.sqliteFiles;
  });
}

/** Read, change and write the record atomically (mode 0600). */
export async function updateCreated(projectDir: string, change: (s: CreatedState) => void): Promise<void> {
  const s = await readCreated(projectDir);
  change(s);
  mkdirSync(join(projectDir, '.pg-setup'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(statePath(projectDir), JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}

/**
 * Create an object and keep the record true: recorded ahead of `create`, forgotten again if
 * `create` fails (then pg-setup did not make it).
 */
export async function createRecorded(
  projectDir: string,
  key: string,
  provider: string,
  kind: CreatedKind,
  name: string,
  create: () => Promise<unknown>,
): Promise<void> {
  await recordCreated(projectDir, key, provider, kind, name);
  try {
    await create();
  } catch (e) {
    await forgetCreated(projectDir, key, kind, name).catch(() => undefined);
    throw e;
  }
}
