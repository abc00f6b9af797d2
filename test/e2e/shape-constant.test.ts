/** Issue 11 shape 1(a): the FastAPI docs' sql_app, async: a URL constant beside the engine, drop_all + create_all in the lifespan. */
import { expect } from 'vitest';
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
  says: [/added .*pydantic-settings/, /Check sql_app\/main\.py:43 \(row\.created_at\.replace\(tzinfo=UTC\)\)/],
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
