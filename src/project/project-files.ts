import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { run, which } from '../io/exec.js';

/** `.pg-setup/backups/<stamp>` for this run: one folder per run, stamp fixed at first use. */
export function backupDir(projectDir: string, stamp: string): string {
  return join(projectDir, '.pg-setup', 'backups', stamp);
}

/** A filesystem-safe timestamp for backup folders. */
export function makeStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** Copy a project file into the run's backup folder (same relative path). Returns the copy. */
export async function backupProjectFile(projectDir: string, stamp: string, file: string): Promise<string> {
  const dest = join(backupDir(projectDir, stamp), relative(projectDir, file));
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(file, dest);
  return dest;
}

/** Move a file (the SQLite database) into the run's backup folder: nothing is deleted. */
export async function moveToBackup(projectDir: string, stamp: string, file: string): Promise<string> {
  const rel = relative(projectDir, file);
  const dest = join(backupDir(projectDir, stamp), rel.startsWith('..') ? basename(file) : rel);
  await mkdir(dirname(dest), { recursive: true });
  await rename(file, dest);
  return dest;
}

/**
 * Write a file atomically: a temp file in the same folder, fsync, rename over the target,
 * so an interrupted run never leaves half a source file. An existing file keeps its mode.
 */
export async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const existing = await stat(path).catch(() => undefined);
  const tmp = join(dirname(path), `.${basename(path)}.pgsetup-${randomBytes(4).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx', existing ? existing.mode & 0o7777 : 0o644);
    await fh.writeFile(content, 'utf8');
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new UserError(`Could not write ${path}: ${(e as Error).message}`, {
      hint: 'The file was left as it was; fix the permissions or free disk space and run pg-setup again.',
      exitCode: ExitCode.files,
      cause: e,
    });
  }
}

/** Files (relative) among `files` with uncommitted git changes; empty outside a git repo. */
export async function listUncommitted(projectDir: string, files: string[]): Promise<string[]> {
  if (files.length === 0 || !which('git')) return [];
  const r = await run('git', ['status', '--porcelain', '--', ...files], { cwd: projectDir, reject: false });
  if (r.exitCode !== 0) return [];
  // Porcelain paths are relative to the repository root, which may be above the project.
  const dirty = r.stdout.split('\n').filter((l) => l.trim()).map((l) => l.slice(3).trim());
  return files.filter((f) => dirty.some((d) => d === f || d.endsWith(`/${f}`)));
}
