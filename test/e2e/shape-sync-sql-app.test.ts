/**
 * Issue 11 shape 1(a), sync: the FastAPI docs' classic sql_app (create_engine, sessionmaker,
 * create_all at import time in main.py, the commented-out PostgreSQL URL under the constant).
 */
import { describe, expect } from 'vitest';
import { describeShape } from '../helpers/shape-suite.js';

// A sync app keeps its sync engine, and Alembic gets the sync env.py (no greenlet needed).
describe('the sync sql_app', () => describeShape({
  fixture: 'shape-sync-sql-app',
  dbName: 'sql_app_sync',
  start: ['uv', 'run', 'uvicorn', 'sql_app.main:app'],
  readyPath: '/health',
  write: { path: '/users/', body: {} },
  table: 'users',
  column: 'email',
  changes: ['sql_app/config.py', 'sql_app/database.py', 'sql_app/main.py'],
  says: [/added .*pydantic-settings/],
  files: {
    'sql_app/database.py': (t) => {
      expect(t).toContain('from .config import settings\n\nengine = create_engine(settings.database_url)\n');
      expect(t).not.toContain('SQLALCHEMY_DATABASE_URL');
    },
    // create_all at import goes, and so do the imports only it used.
    'sql_app/main.py': (t) => expect(t).toContain('from . import crud, schemas\nfrom .database import SessionLocal\n\napp = FastAPI()\n'),
  },
}));
