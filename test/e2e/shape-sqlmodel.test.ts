/**
 * Shape 4: a SQLModel app (table=True models, create_all in an @app.on_event("startup") helper):
 * target_metadata = SQLModel.metadata, and revisions import sqlmodel (AutoString).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-sqlmodel',
    db: 'heroes',
    start: ['uv', 'run', 'uvicorn', 'main:app'],
    ready: '/',
    post: { path: '/heroes/', body: { name: 'Deadpond', secret_name: 'Dive Wilson' } },
    row: { query: 'SELECT name, secret_name FROM hero', expect: [{ name: 'Deadpond', secret_name: 'Dive Wilson' }] },
  },
  (r) => {
    test('env.py targets SQLModel.metadata and the revision imports sqlmodel for AutoString', () => {
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('from sqlmodel import SQLModel');
      expect(env).toContain('target_metadata = SQLModel.metadata');
      const versions = join(r().dir, 'alembic', 'versions');
      const [rev] = readdirSync(versions).filter((f) => f.endsWith('.py'));
      const text = readFileSync(join(versions, rev!), 'utf8');
      expect(text).toContain('import sqlmodel\n');
      expect(text).toContain('sqlmodel.sql.sqltypes.AutoString()');
      expect(readFileSync(join(r().dir, 'database.py'), 'utf8')).not.toContain('create_all');
    });
  },
);
