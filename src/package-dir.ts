import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (from src/ or dist/ alike). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Real files copied into the user's project (alembic.ini, env.py, ...). */
export function templatesDir(): string {
  return resolve(ROOT, 'templates');
}

/** pg-setup's Python package (the analyzer and the migration driver) and its entry scripts. */
export function pythonDir(): string {
  return resolve(ROOT, 'python');
}
