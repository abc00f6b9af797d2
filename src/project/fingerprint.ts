import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders the analyzer never reads, and which change for reasons of their own during a run. */
const SKIPPED = new Set(['.git', '.hg', 'node_modules', '__pycache__', '.pg-setup', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.tox', '.nox']);

/**
 * The files pg-setup's provisioning writes before the project steps read the project, and that
 * python/analyze.py never opens: the env file, its example and .gitignore. A change to another
 * file name (an env file named otherwise) only makes the next analysis run again.
 */
function isIgnoredFile(name: string): boolean {
  return name === '.gitignore' || name === '.env' || name.startsWith('.env.');
}

/**
 * A fingerprint of what python/analyze.py reads in `projectDir`: every file's path, size,
 * modification time (ns) and inode (pg-setup writes by renaming, which always gives a new
 * inode), and for a virtual environment its pyvenv.cfg and the site-packages folders (whose
 * times change when a package is added or removed), without walking the installed packages.
 * Equal fingerprints mean the analysis would print the same JSON.
 */
export async function projectFingerprint(projectDir: string): Promise<string> {
  const parts: string[] = [];
  await walk(projectDir, '', parts);
  return parts.join('\n');
}

async function walk(dir: string, rel: string, parts: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.some((e) => e.name === 'pyvenv.cfg' && !e.isDirectory())) {
    await venvParts(dir, rel, parts);
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (SKIPPED.has(e.name)) continue;
      parts.push(`${r}/`);
      await walk(path, r, parts);
    } else if (!isIgnoredFile(e.name)) {
      // A symlink counts by its target (the analyzer opens files through links, and never walks into linked folders).
      parts.push(`${r} ${await statLine(path)}`);
    }
  }
}

async function venvParts(dir: string, rel: string, parts: string[]): Promise<void> {
  parts.push(`${rel}/pyvenv.cfg ${await statLine(join(dir, 'pyvenv.cfg'))}`);
  const libs = [join(dir, 'Lib', 'site-packages')];
  for (const lib of ['lib', 'lib64']) {
    for (const v of await readdir(join(dir, lib)).catch(() => [] as string[])) libs.push(join(dir, lib, v, 'site-packages'));
  }
  for (const sp of libs) parts.push(`${sp} ${await statLine(sp)}`);
}

async function statLine(path: string): Promise<string> {
  const s = await stat(path, { bigint: true }).catch(() => undefined);
  return s ? `${s.size} ${s.mtimeNs} ${s.ino}` : 'missing';
}
