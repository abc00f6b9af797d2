/**
 * Shape 3: the classic sync app (create_engine, sessionmaker, a Session dependency,
 * create_all(bind=engine) at import) stays sync: psycopg 3 serves it, Alembic's sync env.py.
 * Its model_config has no env_file (shape 2, the multi-line model_config variant).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-sync',
    db: 'shop',
    start: ['uv', 'run', 'uvicorn', 'main:app'],
    ready: '/',
    post: { path: '/products/', body: { name: 'lamp', price: 19.5 }, status: 201 },
    row: { query: 'SELECT name, price::text AS price FROM products', expect: [{ name: 'lamp', price: '19.50' }] },
  },
  (r) => {
    test('the app stays sync: create_engine on postgresql+psycopg, the sync env.py, check_same_thread gone', () => {
      const db = readFileSync(join(r().dir, 'database.py'), 'utf8');
      expect(db).toContain('engine = create_engine(\n    settings.database_url,\n    echo=False,\n)');
      expect(readFileSync(join(r().dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\//);
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('engine_from_config(');
      expect(env).not.toMatch(/async|asyncio/);
      expect(readFileSync(join(r().dir, 'main.py'), 'utf8')).not.toMatch(/create_all|engine/);
    });
    test('model_config gains env_file and extra, one item a line as written', () => {
      const config = readFileSync(join(r().dir, 'config.py'), 'utf8');
      expect(config).toContain('    model_config = SettingsConfigDict(\n        case_sensitive=False,\n        env_file=".env",\n        extra="ignore",\n    )\n');
      expect(config).toContain('    database_url: str\n');
    });
  },
);
