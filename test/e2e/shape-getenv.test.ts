/** Issue 11 shape 1(c) without load_dotenv: os.getenv("DATABASE_URL", "sqlite...") inline in the engine call. */
import { expect } from 'vitest';
import { describeShape } from '../helpers/shape-suite.js';

describeShape({
  fixture: 'shape-getenv',
  dbName: 'notes',
  start: ['uv', 'run', 'uvicorn', 'app.main:app'],
  readyPath: '/health',
  write: { path: '/notes', body: {} },
  table: 'notes',
  column: 'title',
  changes: ['app/database.py', 'app/main.py'],
  says: [/added .*python-dotenv/],
  files: {
    'app/database.py': (t) =>
      expect(t).toContain('import os\n\nfrom dotenv import load_dotenv\nfrom sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\nfrom sqlalchemy.orm import DeclarativeBase\n\nload_dotenv()\n\nengine = create_async_engine(os.environ["DATABASE_URL"])\n'),
    'pyproject.toml': (t) => expect(t).toMatch(/"python-dotenv>=/),
  },
});
