/** Issue 11 shape 1(b): the SQLite URL is a literal inside create_async_engine(...). */
import { expect } from 'vitest';
import { describeShape } from '../helpers/shape-suite.js';

describeShape({
  fixture: 'shape-literal',
  dbName: 'todos',
  start: ['uv', 'run', 'uvicorn', 'main:app'],
  readyPath: '/todos',
  write: { path: '/todos', body: {} },
  table: 'todos',
  column: 'title',
  changes: ['config.py', 'db.py', 'main.py'],
  says: [/added .*pydantic-settings/],
  files: {
    'db.py': (t) => expect(t).toContain('from sqlalchemy.orm import DeclarativeBase\n\nfrom config import settings\n\nengine = create_async_engine(settings.database_url, echo=False)\n'),
    // The tutorial's "# Startup" comment goes with the block it announced; "# Shutdown" stays.
    'main.py': (t) => expect(t).toContain('async def lifespan(_: FastAPI):\n    yield\n    # Shutdown\n'),
  },
});
