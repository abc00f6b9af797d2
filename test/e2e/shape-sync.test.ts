/**
 * Shape 3: the classic sync app (create_engine, sessionmaker, a Session dependency,
 * create_all(bind=engine) at import) stays sync: psycopg 3 serves it, Alembic's sync env.py.
 * Its model_config has no env_file (shape 2, the multi-line model_config variant).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sql } from '../helpers/python-project.js';
import { shapeArgs, shapeSuite } from '../helpers/shape.js';

/** shop.db as create_all left it on SQLite, with one category and no products. */
const SQLITE_SHOP = `
import sqlite3
c = sqlite3.connect("shop.db")
c.executescript('''
CREATE TABLE categories (id INTEGER NOT NULL, name VARCHAR(60) NOT NULL, PRIMARY KEY (id), UNIQUE (name));
CREATE TABLE products (id INTEGER NOT NULL, name VARCHAR(120) NOT NULL, price NUMERIC(10, 2) NOT NULL, category_id INTEGER, PRIMARY KEY (id), FOREIGN KEY(category_id) REFERENCES categories (id));
INSERT INTO categories (id, name) VALUES (7, 'Lamps');
''')
c.commit()
`;

shapeSuite(
  {
    fixture: 'shape-sync',
    db: 'shop',
    start: ['uv', 'run', 'uvicorn', 'main:app'],
    ready: '/',
    post: { path: '/products/', body: { name: 'lamp', price: 19.5 }, status: 201 },
    row: { query: 'SELECT name, price::text AS price FROM products', expect: [{ name: 'lamp', price: '19.50' }] },
    prepare(dir) {
      // The app ran on SQLite before, and the project already had a world-readable .env.
      const made = spawnSync('python3', ['-c', SQLITE_SHOP], { cwd: dir, encoding: 'utf8' });
      if (made.status !== 0) throw new Error(made.stderr);
      writeFileSync(join(dir, '.env'), 'APP_NAME=Shop\n', { mode: 0o644 });
    },
  },
  (r) => {
    test('the app stays sync: create_engine on postgresql+psycopg, the sync env.py, check_same_thread gone', () => {
      const db = readFileSync(join(r().dir, 'database.py'), 'utf8');
      // check_same_thread gone, the call now fits on one line and is joined, as a person would.
      expect(db).toContain('engine = create_engine(settings.database_url, echo=False)\n');
      expect(readFileSync(join(r().dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\//m);
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('engine_from_config(');
      expect(env).not.toMatch(/async|asyncio/);
      expect(readFileSync(join(r().dir, 'main.py'), 'utf8')).not.toMatch(/create_all|engine/);
    });
    test('the existing .env readable by others is tightened to 600 before the password goes in, with a note', () => {
      expect(statSync(join(r().dir, '.env')).mode & 0o777).toBe(0o600);
      expect(r().first.all).toContain('mode tightened from 644 to 600');
      expect(readFileSync(join(r().dir, '.env'), 'utf8')).toMatch(/^APP_NAME=Shop\nDATABASE_URL="postgresql\+psycopg:/);
    });
    test('--sqlite delete on a re-run finds the SQLite file the first run kept, imports its rows and moves it into the backups', async () => {
      expect(r().first.all).toContain('kept shop.db');
      const res = await runCli(shapeArgs(r().cluster, 'shop', ['--sqlite', 'delete']), { cwd: r().dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
      expect(res.code, res.all).toBe(0);
      expect(res.all).toContain('categories: SQLite 1 rows, PostgreSQL 1 rows, content hash matches');
      expect(await sql(r().cluster, 'shop', 'SELECT id, name FROM categories')).toEqual([{ id: 7, name: 'Lamps' }]);
      expect(existsSync(join(r().dir, 'shop.db'))).toBe(false);
      const stamps = readdirSync(join(r().dir, '.pg-setup', 'backups'));
      expect(stamps.some((s) => existsSync(join(r().dir, '.pg-setup', 'backups', s, 'shop.db')))).toBe(true);
    });
    test('model_config gains env_file and extra, one item a line as written', () => {
      const config = readFileSync(join(r().dir, 'config.py'), 'utf8');
      expect(config).toContain('    model_config = SettingsConfigDict(\n        case_sensitive=False,\n        env_file=".env",\n        extra="ignore",\n    )\n');
      expect(config).toContain('    database_url: str\n');
    });
  },
);
