import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Loading a CommonJS bundle of dist/ with V8's code cache, on every Node pg-setup supports.
 *
 * Compiling the commands bundle (pg-setup, pg, execa, listr2: about 1 MB of JavaScript) is most
 * of what a re-run costs beyond starting Node. V8 can keep the compiled code (a "code cache")
 * and reuse it the next time: Node 22.3+ offers that for whole modules (module.enableCompileCache)
 * but Node 20 has no such switch. `vm.Script` takes a code cache on all of them, so the bundle
 * is compiled here, as Node's own CommonJS loader would, with the cache the last run left.
 *
 * The cache is code that runs, so it is read only from a folder of the user's own that nobody
 * else can write: $XDG_CACHE_HOME/pg-setup/code or ~/.cache/pg-setup/code, mode 700, owned by
 * this user, not a symbolic link, in folders only this user (or root) can write. Anything else
 * (no home, a read-only one, a folder someone else owns) means no cache, never an error. Its file name carries the bundle's name, which the build
 * gives a hash of the bundle's content, and the Node version and architecture: another build
 * or another Node never reads it (V8 would also refuse a cache made by another V8 or for
 * another source length; a refused cache is made anew). NODE_DISABLE_COMPILE_CACHE=1, Node's
 * own switch for its compile cache, turns this one off too.
 */

export type Shared = Record<string, unknown>;

/** What the bundle's wrapper function receives, beyond CommonJS's own five parameters. */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __pgSetupShared) {';
const WRAPPER_TAIL = '\n})';

/**
 * Runs the CommonJS bundle `file` (with `shared` as its `__pgSetupShared`: the modules it takes
 * from the bundle that loads it) and returns its exports. `writeLater` is called with a function
 * that stores the cache when there was none; call it once the run's work is done, so the cache
 * holds the functions the run compiled along the way, not only the top level.
 */
export function loadBundle(file: string, shared: Shared, writeLater: (store: () => void) => void, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const source = readFileSync(file, 'utf8');
  const cacheFile = cachePath(file, env);
  const cached = cacheFile ? readCache(cacheFile) : undefined;
  const script = new Script(WRAPPER_HEAD + source + WRAPPER_TAIL, {
    filename: file,
    cachedData: cached,
    // No importModuleDynamically: Node 20 takes one only with --experimental-vm-modules, and
    // setting it loads Node's vm module machinery. The bundle has no import() (the build checks);
    // modules outside it come through src/io/import-outside.ts.
  });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file), shared);
  if (cacheFile && (cached === undefined || script.cachedDataRejected === true)) {
    writeLater(() => writeCache(cacheFile, script.createCachedData()));
  }
  return module.exports;
}

/** The cache's file for `file` under this Node, or undefined when there is no safe folder for it. */
export function cachePath(file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  let base: string;
  try {
    base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  } catch {
    return undefined;
  }
  const dir = join(base, 'pg-setup', 'code');
  if (!ownFolder(dir)) return undefined;
  return join(dir, `${basename(file, '.cjs')}-node${process.versions.node}-${process.arch}.v8cache`);
}

/**
 * `dir` exists (made mode 700 if it did not, its parent pg-setup/ 755 as the local provider's
 * binaries there need) in a cache home of this user's, and neither it nor a folder above it up
 * to the cache home can be written by anyone but this user (or root): nobody else can put a file
 * in it or swap it for theirs.
 */
function ownFolder(dir: string): boolean {
  try {
    const parent = dirname(dir);
    const uid = process.getuid?.();
    // Nothing is made in a cache home of someone else's (root under sudo with the user's HOME):
    // the user would then find a pg-setup/ there they cannot write.
    const ownerOf = (path: string) => {
      try {
        return lstatSync(path).uid;
      } catch {
        return undefined;
      }
    };
    const home = dirname(parent);
    if (uid !== undefined && (ownerOf(home) ?? ownerOf(dirname(home))) !== uid) return false;
    // Folders made here get exactly these modes, whatever the umask (002 would leave them group-writable).
    const made = mkdirSync(parent, { recursive: true, mode: 0o755 });
    if (made !== undefined) for (let d = parent; d.length >= made.length; d = dirname(d)) chmodSync(d, 0o755);
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
    const safe = (path: string, mine: boolean) => {
      const st = lstatSync(path);
      const owner = uid === undefined || st.uid === uid || (!mine && st.uid === 0);
      return st.isDirectory() && owner && (st.mode & 0o022) === 0;
    };
    return safe(dir, true) && safe(parent, false) && safe(dirname(parent), false);
  } catch {
    return false;
  }
}

function readCache(cacheFile: string): Buffer | undefined {
  try {
    const st = lstatSync(cacheFile);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid)) return undefined;
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

/**
 * Written beside and renamed into place: a run reading it meanwhile sees the old file or the new
 * one, whole. The caches of earlier builds under this same Node go: one file per Node, not one
 * per version of pg-setup ever run.
 */
function writeCache(cacheFile: string, data: Buffer): void {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, cacheFile);
    const name = basename(cacheFile);
    const stem = name.slice(0, name.indexOf('-'));
    const tail = name.slice(name.indexOf('-node'));
    for (const other of readdirSync(dirname(cacheFile))) {
      if (other !== name && other.startsWith(`${stem}-`) && other.endsWith(tail)) unlinkSync(join(dirname(cacheFile), other));
    }
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Nothing was written.
    }
  }
}
