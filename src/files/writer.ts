import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, chmod, copyFile, lstat, mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { forgetOnExit, removeOnExit } from '../io/exit-cleanup.js';
import { testPoint } from '../io/test-point.js';

/** Read a text file, or undefined if it does not exist. A directory in its place is an error. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      throw new UserError(`${path} is a directory, not a file.`, { hint: `Move it away or pass a different path.`, exitCode: ExitCode.files });
    }
    return await readFile(path, 'utf8');
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
  if (opts.mkdirs) await mkdir(dirname(path), { recursive: true });
  const { target, existing } = await checkWritable(path);
  let backup: string | undefined;
  if (existing && opts.backupRoot) backup = await backupFile(target, opts.backupRoot, opts.backupStamp);
  const tmp = join(dirname(target), `.${basename(target)}.pgsetup-${randomBytes(4).toString('hex')}.tmp`);
  const mode = existing ? existing.mode & 0o7777 : (opts.mode ?? 0o644);
  let fh;
  // Registered before it exists: an interrupt between open and rename must not leave it behind.
  removeOnExit(tmp);
  try {
    fh = await open(tmp, 'wx', mode);
    await fh.writeFile(content, typeof content === 'string' ? 'utf8' : undefined);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await testPoint(`write:${basename(path)}`);
    await rename(tmp, target);
    forgetOnExit(tmp);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
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
  const target = await resolveTarget(path);
  const st = await stat(target).catch(() => undefined);
  if (!st || (st.mode & 0o077) === 0) return undefined;
  await chmod(target, st.mode & 0o700);
  return st.mode & 0o7777;
}

/**
 * Refuse early what writeFileAtomic would refuse (a directory in the way, a read-only file, a
 * dangling symlink), so a run can stop before it changes anything. Returns the real target.
 */
export async function checkWritable(path: string): Promise<{ target: string; existing: Stats | undefined }> {
  const target = await resolveTarget(path);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new UserError(`${path} is a directory, not a file.`, { hint: 'Move it away, then run pg-setup again.', exitCode: ExitCode.files });
  }
  if (existing) {
    try {
      await access(target, constants.W_OK);
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
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  await copyFile(path, dest, constants.COPYFILE_EXCL);
  return dest;
}

async function resolveTarget(path: string): Promise<string> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSymbolicLink()) {
    try {
      return await realpath(path);
    } catch {
      throw new UserError(`${path} is a symlink to a file that does not exist.`, { hint: 'Fix or remove the link.', exitCode: ExitCode.files });
    }
  }
  return path;
}
