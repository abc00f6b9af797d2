/** Issue 11 shape 1(c) with load_dotenv: the app loads .env itself and reads os.environ.get(...) with a SQLite fallback. */
import { expect } from 'vitest';
import { describeShape } from '../helpers/shape-suite.js';

describeShape({
  fixture: 'shape-dotenv',
  dbName: 'shop',
  start: ['uv', 'run', 'uvicorn', 'shop.main:app'],
  readyPath: '/health',
  write: { path: '/products', body: { price: '9.50' } },
  table: 'products',
  column: 'name',
  changes: ['shop/db.py', 'shop/main.py'],
  files: {
    // The project's own idiom stays: one load_dotenv(), os.environ, no second settings system.
    'shop/db.py': (t) => {
      expect(t.match(/load_dotenv\(\)/g)).toHaveLength(1);
      expect(t).toContain('DATABASE_URL = os.environ["DATABASE_URL"]\n\nengine = create_async_engine(DATABASE_URL)\n');
    },
  },
});
