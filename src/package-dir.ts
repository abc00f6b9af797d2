import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The installed package's root: the nearest folder above this module that holds a package.json
 * (dist/.. for the bundle, src/.. under the tests, the repository for the bench's compiled copy).
 */
function packageRoot(): string {
  if (root === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    root = dir;
  }
  return root;
}

/** Real files copied into the user's project (alembic.ini, env.py, ...). */
export function templatesDir(): string {
  return resolve(packageRoot(), 'templates');
}

/** pg-setup's Python package (the analyzer and the migration driver) and its entry scripts. */
export function pythonDir(): string {
  return resolve(packageRoot(), 'python');
}
