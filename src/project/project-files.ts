import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { backupFile, writeFileAtomic } from '../files/writer.js';
export { makeStamp } from '../files/writer.js';
import { run, which } from '../io/exec.js';

/** `.pg-setup/backups/<stamp>` for this run: one folder per run, stamp fixed at first use. */
export function backupDir(projectDir: string, stamp: string): string {
  return join(projectDir, '.pg-setup', 'backups', stamp);
}

/** Copy a project file into the run's backup folder (same relative path). Returns the copy. */
export async function backupProjectFile(projectDir: string, stamp: string, file: string): Promise<string> {
  return backupFile(file, projectDir, stamp);
}

/** Move a file (the SQLite database) into the run's backup folder: nothing is deleted. */
export async function moveToBackup(projectDir: string, stamp: string, file: string): Promise<string> {
  const rel = relative(projectDir, file);
  const dest = join(backupDir(projectDir, stamp), rel.startsWith('..') ? basename(file) : rel);
  await mkdir(dirname(dest), { recursive: true });
  await rename(file, dest);
  return dest;
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
