/**
 * Shape 2 (and a re-run on another env key): settings with pydantic's old `class Config` and no
 * env_file, a URL field read from SQLALCHEMY_DATABASE_URI, a sync engine and create_all at import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { copyFixture } from '../helpers/python-project.js';
import { shapeArgs, shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-config-class',
    db: 'notes',
    start: ['uv', 'run', 'uvicorn', 'app.main:app'],
    ready: '/health',
    post: { path: '/api/v1/notes/', body: { title: 'first', body: 'hello' } },
    row: { query: 'SELECT title, body FROM notes', expect: [{ title: 'first', body: 'hello' }] },
  },
  (r) => {
    test('the settings now read .env (env_file merged into class Config) and the env file holds SQLALCHEMY_DATABASE_URI', () => {
      const config = readFileSync(join(r().dir, 'app', 'core', 'config.py'), 'utf8');
      expect(config).toContain('    class Config:\n        case_sensitive = True\n        env_file = ".env"\n        extra = "ignore"\n');
      expect(config).toContain('    SQLALCHEMY_DATABASE_URI: str\n');
      expect(readFileSync(join(r().dir, '.env'), 'utf8')).toMatch(/^SQLALCHEMY_DATABASE_URI="postgresql\+psycopg:\/\/notes_user:/);
      expect(r().first.all).toContain('start it as usual: uv run uvicorn app.main:app');
    });
    test('--settings naming the engine says what it found there, changes nothing and leaves no .pg-setup/', async () => {
      const fresh = copyFixture('shape-config-class');
      const res = await runCli(shapeArgs(r().cluster, 'notes_flag', ['--settings', 'app.db.session:engine']), { cwd: fresh, env: { UV_PYTHON_DOWNLOADS: 'never' } });
      expect(res.code).not.toBe(0);
      expect(res.all).toContain('--settings app.db.session:engine does not name a settings object: found engine = create_engine(...) in app/db/session.py:6');
      expect(existsSync(join(fresh, '.pg-setup'))).toBe(false);
      expect(existsSync(join(fresh, '.env'))).toBe(false);
    });
    test('create_all at import is gone with the imports only it used; the sync engine keeps create_engine', () => {
      const main = readFileSync(join(r().dir, 'app', 'main.py'), 'utf8');
      expect(main).not.toContain('create_all');
      expect(main).toContain('from app.db.session import SessionLocal\n');
      expect(main).not.toContain('base_class');
      const session = readFileSync(join(r().dir, 'app', 'db', 'session.py'), 'utf8');
      expect(session).toContain('engine = create_engine(settings.SQLALCHEMY_DATABASE_URI)');
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('from sqlalchemy import engine_from_config, pool');
      expect(env).not.toContain('async');
    });
  },
);
