/**
 * Shape 5 (plain src/): modules in src/ without an __init__.py, imported as `src.config` and
 * started as `uvicorn src.main:app`; settings with no config at all (a model_config is added);
 * create_all in an @app.on_event("startup") handler, with two of three imported names only it used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-src-plain',
    db: 'polls',
    start: ['uv', 'run', 'uvicorn', 'src.main:app'],
    ready: '/',
    post: { path: '/polls', body: { question: 'Tabs or spaces?' }, status: 201 },
    row: { query: 'SELECT question, votes FROM polls', expect: [{ question: 'Tabs or spaces?', votes: 0 }] },
  },
  (r) => {
    test('env.py imports src.* as the start command does, from the project root; model_config is added to the settings', () => {
      const env = readFileSync(join(r().dir, 'alembic', 'env.py'), 'utf8');
      expect(env).toContain('from src.config import config as app_config');
      expect(env).toContain('import src.models  # noqa: F401');
      expect(readFileSync(join(r().dir, 'alembic.ini'), 'utf8')).toContain('\nprepend_sys_path = .\n');
      const config = readFileSync(join(r().dir, 'src', 'config.py'), 'utf8');
      expect(config).toContain('from pydantic_settings import BaseSettings, SettingsConfigDict\n');
      expect(config).toContain('class Config(BaseSettings):\n    model_config = SettingsConfigDict(env_file=".env", extra="ignore")\n\n    database_url: str\n');
      expect(readFileSync(join(r().dir, 'src', 'main.py'), 'utf8')).toContain('from src.database import SessionLocal\n');
      expect(r().first.all).toContain('start it as usual: uv run uvicorn src.main:app');
    });
  },
);
