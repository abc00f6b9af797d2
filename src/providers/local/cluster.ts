import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { generatePassword } from '../../db/scram.js';
import { ExitCode, UserError } from '../../errors.js';
import { readTextIfExists, writeFileAtomic } from '../../files/writer.js';
import { isAlive } from '../../io/alive.js';
import { launch, run, type Launched, type RunResult } from '../../io/exec.js';
import { passwdEntries } from '../../io/passwd.js';
import { addSecret } from '../../io/secrets.js';
import { LOOPBACK } from '../../net/free-port.js';

/**
 * A PostgreSQL cluster owned by the project: `initdb` into a data folder, loopback only, on a
 * port remembered in `.pg-setup/local.json`, started and stopped with `pg_ctl`. As root it runs
 * as an unprivileged OS user, because initdb and postgres refuse to run as root.
 */

/** The superuser initdb creates; the name is the libpq default so tools find it. */
export const SUPERUSER = 'postgres';

export interface LocalPaths {
  /** `<project>/.pg-setup`: state and password (read by pg-setup only). */
  stateDir: string;
  /**
   * The folder the server's OS user works in: log, socket, initdb's temp file, and by default
   * the data. `.pg-setup` itself, or, for root with a private project folder, a folder under
   * SHARED_SERVER_ROOT (see relocatedServerDir).
   */
  serverDir: string;
  stateFile: string;
  passwordFile: string;
  logFile: string;
  dataDir: string;
}

/** What pg-setup remembers about the cluster so re-runs and `start` use the same port and binaries. */
export interface LocalState {
  port: number;
  dataDir: string;
  binDir: string;
  /** PostgreSQL version the binaries report, e.g. 18.4. */
  version: string;
  source: 'installed' | 'npm';
  /** The npm package version when source is npm. */
  package?: string | undefined;
  /** Set when the server's folder is not the project's `.pg-setup` (root, private project folder). */
  serverDir?: string | undefined;
}

/** Who runs initdb/pg_ctl: undefined means the current user. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/**
 * Where everything lives for a project; `dataDirFlag` (--data-dir) is relative to the project.
 * `stored` is what `.pg-setup/local.json` recorded (data folder, and the server folder when
 * it is not `.pg-setup`).
 */
export function localPaths(projectDir: string, dataDirFlag?: string, stored?: string, storedServerDir?: string): LocalPaths {
  const stateDir = join(projectDir, '.pg-setup');
  const serverDir = storedServerDir ?? stateDir;
  const dataDir = dataDirFlag !== undefined ? resolve(projectDir, dataDirFlag) : (stored ?? join(serverDir, 'data'));
  return {
    stateDir,
    serverDir,
    stateFile: join(stateDir, 'local.json'),
    passwordFile: join(stateDir, 'superuser-password'),
    logFile: join(serverDir, 'postgres.log'),
    dataDir,
  };
}

/** Where root keeps the clusters of projects that the server's OS user cannot reach. */
export const SHARED_SERVER_ROOT = '/var/lib/pg-setup';

/**
 * `/var/lib/pg-setup/<folder name>-<hash of the project path>`: one folder per project, so two
 * projects never share a data folder, and the name says whose it is.
 */
export function relocatedServerDir(projectDir: string, root = SHARED_SERVER_ROOT): string {
  const slug = basename(projectDir).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'project';
  return join(root, `${slug}-${createHash('sha256').update(resolve(projectDir)).digest('hex').slice(0, 12)}`);
}

/** Can OS user `runAs` enter `dir` (every parent folder included)? */
export async function canEnter(runAs: RunAs, dir: string): Promise<boolean> {
  return (await run('test', ['-x', dir], { user: runAs.user, cwd: '/', reject: false })).exitCode === 0;
}

/**
 * Ports held by the other clusters kept under SHARED_SERVER_ROOT (running or not), read from
 * the `port =` line pg-setup appended to each one's postgresql.conf: a stopped cluster's port
 * looks free, but its project's URL still names it.
 */
export async function claimedPorts(except: string | undefined, root = SHARED_SERVER_ROOT): Promise<Map<number, string>> {
  const claimed = new Map<number, string>();
  const names = await readdir(root).catch(() => [] as string[]);
  for (const n of names) {
    const dir = join(root, n);
    if (dir === except) continue;
    const conf = (await readTextIfExists(join(dir, 'data', 'postgresql.conf')).catch(() => undefined)) ?? '';
    const port = [...conf.matchAll(/^port = (\d+)$/gm)].at(-1)?.[1];
    if (port) claimed.set(Number(port), dir);
  }
  return claimed;
}

/** Does this project have a local cluster pg-setup created (its state file)? */
export function hasLocalCluster(projectDir: string): boolean {
  return existsSync(localPaths(projectDir).stateFile);
}

/** Unix socket paths are limited to 107 bytes (103 on macOS); keep headroom for `/.s.PGSQL.65535`. */
const MAX_SOCKET_DIR = 103 - '/.s.PGSQL.65535'.length;

/**
 * The server's unix socket folder: `.pg-setup/run`, or, when that path is too long for a
 * socket, a per-project folder under the temp dir named after a hash of the project path.
 */
export function socketDirFor(stateDir: string, temp = tmpdir()): string {
  const inProject = join(stateDir, 'run');
  if (Buffer.byteLength(inProject) <= MAX_SOCKET_DIR) return inProject;
  return join(temp, `pg-setup-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`);
}

/** Read `.pg-setup/local.json`, or undefined when there is none. */
export async function readLocalState(paths: LocalPaths): Promise<LocalState | undefined> {
  const text = await readTextIfExists(paths.stateFile);
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as LocalState;
    if (typeof s.port === 'number' && typeof s.dataDir === 'string' && typeof s.binDir === 'string') return s;
  } catch {
    /* fall through */
  }
  throw new UserError(`${paths.stateFile} is not valid pg-setup state.`, { hint: 'Delete it and run pg-setup again; the data folder is kept.', exitCode: ExitCode.files });
}

/** Remember the cluster's port, data folder and binaries. */
export async function writeLocalState(paths: LocalPaths, state: LocalState, runAs: RunAs | undefined): Promise<void> {
  await writeFileAtomic(paths.stateFile, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  await chownTo(paths.stateFile, runAs);
}

/** Has initdb created a cluster in `dataDir`? Returns its major version. */
export async function clusterMajor(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.trim());
}

/** The superuser password from its 0600 file (registered as a secret), or undefined. */
export async function readSuperPassword(paths: LocalPaths): Promise<string | undefined> {
  const pw = (await readTextIfExists(paths.passwordFile))?.trim();
  addSecret(pw);
  return pw || undefined;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Who runs the cluster. A normal user runs it directly. Root cannot (initdb refuses), so it
 * runs as the owner of the project folder when that is not root (the cluster then belongs to
 * the developer, as if they had run pg-setup), else as the `postgres` OS user.
 */
export async function resolveRunAs(projectDir: string): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined;
  const owner = (await stat(projectDir)).uid;
  if (owner !== 0) {
    const known = passwdEntry((e) => e.uid === owner);
    if (known) return known;
    const name = await run('id', ['-nu', String(owner)], { reject: false });
    if (name.exitCode === 0 && name.stdout.trim()) return idsOf(name.stdout.trim());
  }
  const pg = passwdEntry((e) => e.user === SUPERUSER) ?? (await idsOf(SUPERUSER).catch(() => undefined));
  if (pg) return pg;
  throw new UserError('PostgreSQL refuses to run as root, and there is no unprivileged user to run it as (the project folder belongs to root and there is no "postgres" OS user).', {
    hint: 'Run pg-setup as a normal user, or create one for the server (useradd --system postgres) and run again.',
    exitCode: ExitCode.server,
  });
}

/** A user from /etc/passwd (read, not spawned: this runs on every start). */
function passwdEntry(match: (e: RunAs) => boolean): RunAs | undefined {
  const e = passwdEntries().find(match);
  return e && { user: e.user, uid: e.uid, gid: e.gid };
}

async function idsOf(user: string): Promise<RunAs> {
  const uid = await run('id', ['-u', user]);
  const gid = await run('id', ['-g', user]);
  return { user, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Give a file or folder pg-setup created to the user the cluster runs as (root only). */
export async function chownTo(path: string, runAs: RunAs | undefined): Promise<void> {
  if (runAs) await chown(path, runAs.uid, runAs.gid);
}

/** Run a PostgreSQL program as the cluster's user, from a folder that user can enter. */
function runPg(binDir: string, program: string, args: string[], runAs: RunAs | undefined, cwd: string, reject = true): Promise<RunResult> {
  return run(join(binDir, program), args, { user: runAs?.user, cwd, reject, env: { LC_ALL: 'C' } });
}

/** runPg without waiting for the program to exit. */
function launchPg(binDir: string, program: string, args: string[], runAs: RunAs | undefined, cwd: string, onSpawn?: () => void): Promise<Launched> {
  return launch(join(binDir, program), args, { user: runAs?.user, cwd, env: { LC_ALL: 'C' }, onSpawn });
}

/**
 * Folders the cluster needs, owned by its user: `.pg-setup`, the data folder (0700, as
 * PostgreSQL demands) and the socket folder (0700). A socket folder under /tmp that someone
 * else created, or that is a link, is refused.
 */
export async function prepareFolders(paths: LocalPaths, runAs: RunAs | undefined): Promise<string> {
  await mkdir(paths.stateDir, { recursive: true });
  await chownTo(paths.stateDir, runAs);
  const socketDir = socketDirFor(paths.serverDir);
  const dirs = paths.serverDir === paths.stateDir ? [paths.dataDir, socketDir] : [paths.serverDir, paths.dataDir, socketDir];
  // The shared parent must be traversable by the server's user; each project's folder below it is 0700.
  if (paths.serverDir !== paths.stateDir) await mkdir(dirname(paths.serverDir), { recursive: true, mode: 0o755 });
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    const owner = runAs?.uid ?? process.getuid?.();
    if (!st.isDirectory() || (owner !== undefined && st.uid !== owner && !(runAs && st.uid === 0))) {
      throw new UserError(`${dir} is not a folder owned by ${runAs?.user ?? 'you'}.`, { hint: 'Remove it and run pg-setup again.', exitCode: ExitCode.files });
    }
    await chownTo(dir, runAs);
  }
  if (runAs) {
    // A private parent folder (a home at 0700) would only surface later as an obscure initdb error.
    const r = await run('test', ['-w', paths.dataDir, '-a', '-w', socketDir, '-a', '-w', paths.serverDir], { user: runAs.user, cwd: '/', reject: false });
    if (r.exitCode !== 0) {
      throw new UserError(`The OS user "${runAs.user}" that runs PostgreSQL (it refuses to run as root) cannot reach ${paths.serverDir}: a parent folder is private.`, {
        hint: `Run pg-setup as a normal user, or put the project (or --data-dir) where "${runAs.user}" can reach it.`,
        exitCode: ExitCode.server,
      });
    }
  }
  return socketDir;
}

/** The postgresql.conf lines that make the cluster project-local. */
export function localConfig(port: number, socketDir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  return [
    '',
    '# pg-setup: a project-local server, reachable from this machine only.',
    `listen_addresses = ${q(LOOPBACK)}`,
    `port = ${port}`,
    `unix_socket_directories = ${q(socketDir)}`,
    '',
  ].join('\n');
}

/**
 * initdb with SCRAM auth and a generated superuser password: the password goes to a 0600
 * file beside the data folder, and reaches initdb through a 0600 temp file (never argv),
 * removed afterwards. Then the loopback-only settings are appended to postgresql.conf.
 */
export async function initCluster(o: { paths: LocalPaths; binDir: string; port: number; runAs: RunAs | undefined }): Promise<void> {
  const { paths, binDir, runAs } = o;
  const socketDir = await prepareFolders(paths, runAs);
  const password = (await readSuperPassword(paths)) ?? generatePassword();
  addSecret(password);
  await writeFileAtomic(paths.passwordFile, password + '\n', { mode: 0o600 });
  await chownTo(paths.passwordFile, runAs);
  const pwTemp = join(paths.serverDir, `.initdb-pw-${process.pid}`);
  await writeFileAtomic(pwTemp, password + '\n', { mode: 0o600 });
  await chownTo(pwTemp, runAs);
  try {
    const args = ['-D', paths.dataDir, '-U', SUPERUSER, '--pwfile', pwTemp, '-E', 'UTF8', '--locale', 'C', '--auth', 'scram-sha-256'];
    const r = await runPg(binDir, 'initdb', args, runAs, paths.serverDir, false);
    if (r.exitCode !== 0) {
      throw new UserError(`initdb failed:\n${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`, {
        hint: `Look at the message above; the data folder is ${paths.dataDir}.`,
        exitCode: ExitCode.server,
      });
    }
  } finally {
    await rm(pwTemp, { force: true });
  }
  const conf = join(paths.dataDir, 'postgresql.conf');
  await writeFileAtomic(conf, ((await readTextIfExists(conf)) ?? '') + localConfig(o.port, socketDir));
  await chownTo(conf, runAs);
}

/** Change the port in the settings pg-setup appended to postgresql.conf (the last `port =` line wins). */
export async function setConfigPort(paths: LocalPaths, port: number, runAs: RunAs | undefined): Promise<void> {
  const conf = join(paths.dataDir, 'postgresql.conf');
  const lines = ((await readTextIfExists(conf)) ?? '').split('\n');
  const last = lines.map((l) => /^port = \d+$/.test(l)).lastIndexOf(true);
  if (last === -1) lines.push(`port = ${port}`);
  else lines[last] = `port = ${port}`;
  await writeFileAtomic(conf, lines.join('\n'));
  await chownTo(conf, runAs);
}

export type ClusterState = 'running' | 'stopped' | 'missing';

/**
 * Running, stopped, or no cluster in the data folder. Reads postmaster.pid and asks the kernel
 * whether that process lives, as `pg_ctl status` does, without spawning it.
 */
export async function clusterState(paths: LocalPaths, _binDir: string, _runAs: RunAs | undefined): Promise<ClusterState> {
  if ((await clusterMajor(paths.dataDir)) === undefined) return 'missing';
  const pidText = await readFile(join(paths.dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidText?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? 'running' : 'stopped';
}

/**
 * Start the cluster and wait for the postmaster to report ready; a failure shows the log tail.
 * `onSpawn` runs while the server starts.
 *
 * pg_ctl -w decides success and failure, but it looks at postmaster.pid only every 100 ms: a
 * server ready 5 ms after a look is seen 95 ms late. So the same file is also read here every
 * POLL_MS, and once it says this server is ready, pg_ctl (which has only its own wait left) is
 * released instead of waited for.
 */
export async function startLocalCluster(o: { paths: LocalPaths; binDir: string; runAs: RunAs | undefined; timeoutMs: number; onSpawn?: () => void }): Promise<void> {
  // An existing cluster's folders were checked when it was made; a new one's are checked now.
  if (!existsSync(join(o.paths.dataDir, 'PG_VERSION')) || !existsSync(socketDirFor(o.paths.serverDir))) await prepareFolders(o.paths, o.runAs);
  const seconds = String(Math.max(1, Math.ceil(o.timeoutMs / 1000)));
  const since = Math.floor(Date.now() / 1000);
  const pgCtl = await launchPg(o.binDir, 'pg_ctl', ['start', '-D', o.paths.dataDir, '-l', o.paths.logFile, '-w', '-t', seconds, '-s'], o.runAs, o.paths.serverDir, o.onSpawn);
  const watching = new AbortController();
  const first = await Promise.race([pgCtl.exited, postmasterReady(o.paths.dataDir, since, watching.signal)]);
  watching.abort();
  if (first === 'ready') {
    pgCtl.release();
    return;
  }
  if (first.exitCode !== 0) {
    const tail = await logTail(o.paths.logFile);
    throw new UserError(`PostgreSQL did not start (pg_ctl exited with ${first.exitCode}).${tail ? `\nServer log (last lines):\n${tail}` : ''}`, {
      hint: /address already in use|could not bind/i.test(tail)
        ? 'Another program took the port; stop it, or remove .pg-setup/local.json and run pg-setup --port auto to pick a new one (the URL in .env changes).'
        : `Look at the log above (${o.paths.logFile}), fix the cause, then run pg-setup start.`,
      exitCode: ExitCode.server,
    });
  }
}

const POLL_MS = 5;

/**
 * Resolves 'ready' once postmaster.pid says a postmaster started at `since` (epoch seconds, less
 * the 2 s pg_ctl allows) or later, and still alive, is ready for connections: pg_ctl's own test.
 * Never settles when aborted first.
 */
async function postmasterReady(dataDir: string, since: number, signal: AbortSignal): Promise<'ready'> {
  const file = join(dataDir, 'postmaster.pid');
  while (!signal.aborted) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n');
    // Lines: pid, data folder, start time, port, socket folder, listen address, shared memory key, status.
    const pid = Number(lines[0]);
    if (lines[7]?.trim() === 'ready' && Number(lines[2]) >= since - 2 && Number.isInteger(pid) && pid > 0 && isAlive(pid)) return 'ready';
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return new Promise(() => undefined);
}

/** Stop the cluster (fast shutdown: open sessions are ended, data is safe). */
export async function stopLocalCluster(o: { paths: LocalPaths; binDir: string; runAs: RunAs | undefined; timeoutMs: number }): Promise<void> {
  const seconds = String(Math.max(1, Math.ceil(o.timeoutMs / 1000)));
  const r = await runPg(o.binDir, 'pg_ctl', ['stop', '-D', o.paths.dataDir, '-m', 'fast', '-w', '-t', seconds, '-s'], o.runAs, o.paths.serverDir, false);
  if (r.exitCode !== 0) {
    throw new UserError(`PostgreSQL did not stop: ${(r.stderr || r.stdout).trim()}`, { hint: `Look at ${o.paths.logFile}, then run pg-setup stop again.`, exitCode: ExitCode.server });
  }
}

/** The last lines of the server log, indented, or '' when there is none. */
export async function logTail(logFile: string, lines = 15): Promise<string> {
  const text = (await readTextIfExists(logFile).catch(() => undefined)) ?? '';
  return text.trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n').trimEnd();
}
