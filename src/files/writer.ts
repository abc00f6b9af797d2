import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, copyFileSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { forgetOnExit, removeOnExit } from '../io/exit-cleanup.js';
import { testPoint } from '../io/test-point.js';

/*
 * The files this module reads and writes are small (.env, .gitignore, state.json, app modules),
 * so it calls the file system synchronously: each call is a system call of a few microseconds,
 * where fs/promises would hand it to libuv's thread pool and wait for the answer (about 0.3 ms a
 * call on two cores, 5-10 ms an atomic write). Nothing else runs in the process meanwhile.
 * The functions stay async, so callers and the test seam between write and rename are unchanged.
 */

/** Read a text file, or undefined if it does not exist. A directory in its place is an error. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      throw new UserError(`${path} is a directory, not a file.`, { hint: `Move it away or pass a different path.`, exitCode: ExitCode.files });
    }
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export interface WriteOptions {
  /** Mode for a new file (an existing file keeps its own). */
  mode?: number;
  /** Project root, for the backup folder. When set and the file exists, a backup is kept. */
  backupRoot?: string;
  /** The run's backup folder name (one per run); default: now. */
  backupStamp?: string;
  /** Create missing parent folders. */
  mkdirs?: boolean;
}

/** A filesystem-safe timestamp for backup folders. */
export function makeStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * The one file writer: write to a temp file in the same folder, fsync, then rename over the
 * target, so a crash or a full disk never leaves a truncated file. A symlink is followed (the
 * link stays a link); a read-only file or a directory in the way is refused with a clear error.
 * Returns the backup path when one was made.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, opts: WriteOptions = {}): Promise<string | undefined> {
  if (opts.mkdirs) mkdirSync(dirname(path), { recursive: true });
  const { target, existing } = await checkWritable(path);
  let backup: string | undefined;
  if (existing && opts.backupRoot) backup = await backupFile(target, opts.backupRoot, opts.backupStamp);
  const tmp = join(dirname(target), `.${basename(target)}.pgsetup-${randomBytes(4).toString('hex')}.tmp`);
  const mode = existing ? existing.mode & 0o7777 : (opts.mode ?? 0o644);
  let fd: number | undefined;
  // Registered before it exists: an interrupt between open and rename must not leave it behind.
  removeOnExit(tmp);
  try {
    fd = openSync(tmp, 'wx', mode);
    let rest = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    await testPoint(`write:${basename(path)}`);
    renameSync(tmp, target);
    forgetOnExit(tmp);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Already failing; the temp file goes below.
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // Never made, or already gone.
    }
    forgetOnExit(tmp);
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`Could not write ${path}: ${(e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'The disk is full; free some space and run pg-setup again. The file was left as it was.' : 'The file was left as it was.',
      exitCode: ExitCode.files,
      cause: e,
    });
  }
  return backup;
}

/**
 * Make an existing file readable by its owner only (before a secret goes in). Returns the old
 * mode when it was changed, undefined when the file is absent or already private.
 */
export async function makePrivate(path: string): Promise<number | undefined> {
  const target = resolveTarget(path);
  const st = statIfAny(target);
  if (!st || (st.mode & 0o077) === 0) return undefined;
  chmodSync(target, st.mode & 0o700);
  return st.mode & 0o7777;
}

/**
 * Refuse early what writeFileAtomic would refuse (a directory in the way, a read-only file, a
 * dangling symlink), so a run can stop before it changes anything. Returns the real target.
 */
export async function checkWritable(path: string): Promise<{ target: string; existing: Stats | undefined }> {
  const target = resolveTarget(path);
  const existing = statIfAny(target);
  if (existing?.isDirectory()) {
    throw new UserError(`${path} is a directory, not a file.`, { hint: 'Move it away, then run pg-setup again.', exitCode: ExitCode.files });
  }
  if (existing) {
    try {
      accessSync(target, constants.W_OK);
      // root passes access(W_OK) on any file; the mode bits still say what the owner meant.
      if ((existing.mode & 0o222) === 0) throw new Error('read-only');
    } catch {
      throw new UserError(`${path} is read-only; pg-setup will not change it.`, {
        hint: `Make it writable (chmod u+w ${path}) or pass another path.`,
        exitCode: ExitCode.files,
      });
    }
  }
  return { target, existing };
}

/** Copy a file into `<root>/.pg-setup/backups/<timestamp>/<relative path>`. Returns the copy's path. */
export async function backupFile(path: string, root: string, stamp = makeStamp()): Promise<string> {
  let rel = relative(root, path);
  if (rel.startsWith('..')) rel = basename(path);
  const dest = join(root, '.pg-setup', 'backups', stamp, rel);
  mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
  copyFileSync(path, dest, constants.COPYFILE_EXCL);
  return dest;
}

function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function resolveTarget(path: string): string {
  let st: Stats | undefined;
  try {
    st = lstatSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isSymbolicLink()) {
    try {
      return realpathSync(path);
    } catch {
      throw new UserError(`${path} is a symlink to a file that does not exist.`, { hint: 'Fix or remove the link.', exitCode: ExitCode.files });
    }
  }
  return path;
}
