/**
 * Shape 5: a src/ layout (src/bookshelf/...) started with `uvicorn bookshelf.main:app --app-dir src`:
 * env.py imports what the start command imports, and alembic.ini puts src/ on sys.path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-src-layout',
    db: 'bookshelf',
    start: ['uv', 'run', 'uvicorn', 'bookshelf.main:app', '--app-dir', 'src'],
    ready: '/health',
    post: { path: '/books/', body: { title: 'Dune', author: 'Frank Herbert' }, status: 201 },
    row: { query: 'SELECT title, author FROM books', expect: [{ title: 'Dune', author: 'Frank Herbert' }] },
  },
  (r) => {
    test('env.py imports the package as the start command does; prepend_sys_path is src; Next steps name --app-dir src', () => {
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('from bookshelf.config import settings');
      expect(env).toContain('from bookshelf.database import Base');
      expect(env).toContain('import bookshelf.models  # noqa: F401');
      expect(readFileSync(join(r().dir, 'alembic.ini'), 'utf8')).toContain('\nprepend_sys_path = src\n');
      expect(r().first.all).toContain('start it as usual: uv run uvicorn bookshelf.main:app --app-dir src');
    });
  },
);
