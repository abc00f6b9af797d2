/** Issue 11 shape 1(a): the FastAPI docs' sql_app, async: a URL constant beside the engine, drop_all + create_all in the lifespan. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { previewProjectChanges } from '../../src/steps/project/index.js';
import { copyFixture } from '../helpers/python-project.js';
import { describeShape } from '../helpers/shape-suite.js';

describeShape({
  fixture: 'shape-constant',
  dbName: 'sql_app',
  start: ['uv', 'run', 'uvicorn', 'sql_app.main:app'],
  readyPath: '/health',
  write: { path: '/users/', body: {} },
  table: 'users',
  column: 'email',
  changes: ['sql_app/config.py', 'sql_app/database.py', 'sql_app/main.py'],
  says: [
    /added .*pydantic-settings/,
    // Flagged before the changes and again in the summary, with file and line; never edited.
    /warning: Check sql_app\/main\.py:43: row\.created_at\.replace\(tzinfo=UTC\): /,
    /Check by hand \(SQLite-only code that PostgreSQL changes; not edited\)\n {2}sql_app\/main\.py:43: row\.created_at\.replace\(tzinfo=UTC\): .*timestamptz/,
  ],
  files: {
    'sql_app/config.py': (t) => expect(t).toContain('model_config = SettingsConfigDict(env_file=".env", extra="ignore")\n\n    database_url: str\n'),
    'sql_app/database.py': (t) => {
      expect(t).toContain('from sqlalchemy.orm import declarative_base\n\nfrom .config import settings\n\nengine = create_async_engine(settings.database_url)\n');
      expect(t).not.toContain('SQLALCHEMY_DATABASE_URL');
      expect(t).not.toContain('lives next to the app');
    },
    // drop_all goes with create_all: left alone it would empty PostgreSQL at every start.
    'sql_app/main.py': (t) => expect(t).toContain('async def lifespan(app: FastAPI):\n    yield\n    await engine.dispose()\n'),
  },
});

test('--settings module:CONST names a URL constant that does not look like SQLite, and pg-setup takes it over the same way', async () => {
  const dir = copyFixture('shape-constant');
  const file = join(dir, 'sql_app', 'database.py');
  writeFileSync(file, readFileSync(file, 'utf8').replace('sqlite+aiosqlite:///./sql_app.db', 'postgresql+asyncpg://localhost/dev'));
  const ctx = { projectDir: dir, envKey: 'DATABASE_URL', databaseUrl: '', driver: 'psycopg', yes: true, dryRun: false, migrations: 'auto', sqlite: 'keep', admin: () => Promise.reject(new Error('no admin')), appRole: 'x' } as const;
  await expect(previewProjectChanges(ctx)).rejects.toThrow(/No pydantic settings class/);
  const { changes } = await previewProjectChanges({ ...ctx, settings: 'sql_app.database:SQLALCHEMY_DATABASE_URL' });
  expect(changes.map((c) => c.file)).toEqual(['sql_app/config.py', 'sql_app/database.py', 'sql_app/main.py']);
  const database = changes.find((c) => c.file === 'sql_app/database.py')!.after;
  expect(database).toContain('engine = create_async_engine(settings.database_url)\n');
  expect(database).not.toContain('SQLALCHEMY_DATABASE_URL');
});
