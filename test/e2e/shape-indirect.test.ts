/**
 * Shape 6: create_all reached indirectly from start-up: lifespan -> startup() (app/core/events.py)
 * -> create_db_and_tables() (app/db.py) -> create_all. A script also calls the helper, so the
 * helper is kept and only the start-up's call of it goes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-indirect',
    db: 'tasks',
    start: ['uv', 'run', 'uvicorn', 'app.main:app'],
    ready: '/health',
    post: { path: '/tasks', body: { title: 'write tests' }, status: 201 },
    row: { query: 'SELECT title, done FROM tasks', expect: [{ title: 'write tests', done: false }] },
  },
  (r) => {
    test('the start-up call of create_db_and_tables() is gone; the helper the script uses is kept, and the run says so', () => {
      const events = readFileSync(join(r().dir, 'app', 'core', 'events.py'), 'utf8');
      expect(events).not.toContain('create_db_and_tables');
      expect(events).toContain('    logger.info("starting up")\n');
      expect(readFileSync(join(r().dir, 'app', 'db.py'), 'utf8')).toContain('await conn.run_sync(Base.metadata.create_all)');
      expect(r().first.all).toMatch(/kept create_db_and_tables \(create_all at app\/db\.py:\d+\): scripts\/init_db\.py:\d+ also calls it/);
      // The async app keeps the async env.py.
      expect(readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8')).toContain('async_engine_from_config');
    });
  },
);
