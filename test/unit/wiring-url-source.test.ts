import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { renderEnvImports } from '../../src/project/alembic-scaffold.js';
import { findGaps, parseAnalysis, type ProjectAnalysis } from '../../src/project/analysis.js';
import { planDependencies } from '../../src/project/dependencies.js';
import { applyEdits } from '../../src/project/text-edits.js';
import { planWiring } from '../../src/project/wiring.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
// Analyzer output recorded from python/analyze.py on the fixtures (test/e2e/analysis-recorded checks it).
const load = (name: string): ProjectAnalysis => parseAnalysis(readFileSync(join(FIXTURES, 'analysis', `${name}.json`), 'utf8'));
const read = (fixture: string, file: string) => {
  try {
    return readFileSync(join(FIXTURES, fixture, file), 'utf8');
  } catch {
    return '';
  }
};
const wired = (fixture: string, envKey = 'DATABASE_URL') => {
  const plan = planWiring(load(fixture), { envKey, removeCreateAll: true });
  return { plan, files: Object.fromEntries(Object.entries(plan.edits).map(([f, e]) => [f, applyEdits(read(fixture, f), e)])) };
};

describe('no settings class: a URL constant or literal gets the tutorial idiom', () => {
  test('the sql_app constant becomes settings.database_url from a new sql_app/config.py, imported relatively as the package does', () => {
    const { plan, files } = wired('shape-constant');
    expect(plan.url).toMatchObject({ module: 'sql_app.config', name: 'settings', expr: 'settings.database_url', envKey: 'DATABASE_URL' });
    expect(plan.packages.map((p) => p.spec)).toEqual(['pydantic-settings']);
    expect(files['sql_app/config.py']).toContain('class Settings(BaseSettings):\n');
    expect(files['sql_app/config.py']).toContain('env_file=".env", extra="ignore"');
    expect(files['sql_app/config.py']).toMatch(/\n {4}database_url: str\n\n\nsettings = Settings\(\)\n$/);
    expect(files['sql_app/database.py']).toBe(
      read('shape-constant', 'sql_app/database.py')
        .replace('from sqlalchemy.orm import declarative_base\n', 'from sqlalchemy.orm import declarative_base\n\nfrom .config import settings\n')
        // The constant goes with the comment that described it and the blank line after it.
        .replace('# The database lives next to the app while we develop.\nSQLALCHEMY_DATABASE_URL = "sqlite+aiosqlite:///./sql_app.db"\n\n', '')
        .replace('create_async_engine(\n    SQLALCHEMY_DATABASE_URL, connect_args={"check_same_thread": False}\n)', 'create_async_engine(settings.database_url)'),
    );
  });

  test('drop_all in the lifespan goes with create_all, and so does the comment over them', () => {
    const { files } = wired('shape-constant');
    expect(files['sql_app/main.py']).toContain('async def lifespan(app: FastAPI):\n    yield\n    await engine.dispose()\n');
    expect(files['sql_app/main.py']).not.toMatch(/drop_all|clean database/);
  });

  test('a literal inside create_async_engine(...) is replaced the same way; the "# Startup" comment over create_all goes, "# Shutdown" stays', () => {
    const { plan, files } = wired('shape-literal');
    expect(plan.url.module).toBe('config');
    expect(files['db.py']).toContain('from sqlalchemy.orm import DeclarativeBase\n\nfrom config import settings\n\nengine = create_async_engine(settings.database_url, echo=False)\nasync_session');
    expect(files['main.py']).toContain('async def lifespan(_: FastAPI):\n    yield\n    # Shutdown\n    await engine.dispose()\n');
  });

  test('the new settings module is wanted as a dependency', () => {
    const a = load('shape-literal');
    const deps = planDependencies(a, 'psycopg', true, wired('shape-literal').plan.packages);
    expect(deps.commands).toEqual([{ cmd: 'uv', args: ['add', 'psycopg[binary]', 'alembic', 'pydantic-settings'] }]);
  });

  test('no settings gap is reported when pg-setup can take the URL over', () => {
    expect(findGaps(load('shape-literal'))).toEqual([]);
  });
});

describe('no settings class: os.getenv / os.environ keeps its idiom', () => {
  test('os.getenv with a SQLite fallback becomes os.environ[...], and .env is loaded with python-dotenv', () => {
    const { plan, files } = wired('shape-getenv');
    expect(plan.url).toMatchObject({ module: 'os', name: 'environ', expr: 'environ["DATABASE_URL"]', loadDotenv: true });
    expect(plan.packages.map((p) => p.spec)).toEqual(['python-dotenv']);
    expect(files['app/database.py']).toBe(
      read('shape-getenv', 'app/database.py')
        .replace('import os\n\n', 'import os\n\nfrom dotenv import load_dotenv\n')
        .replace('from sqlalchemy.orm import DeclarativeBase\n\n', 'from sqlalchemy.orm import DeclarativeBase\n\nload_dotenv()\n\n')
        .replace('create_async_engine(\n    os.getenv("DATABASE_URL", "sqlite+aiosqlite:///./notes.db")\n)', 'create_async_engine(os.environ["DATABASE_URL"])'),
    );
    expect(Object.keys(files)).not.toContain('app/config.py');
  });

  test('an app that already calls load_dotenv() gets no second one; the fallback of the constant goes', () => {
    const { files } = wired('shape-dotenv');
    expect(files['shop/db.py']).toContain('load_dotenv()\n\nDATABASE_URL = os.environ["DATABASE_URL"]\n\nengine = create_async_engine(DATABASE_URL)\n');
    expect(files['shop/db.py']?.match(/load_dotenv/g)).toHaveLength(2); // the import and the one call
  });

  test('an app that reads another key names --env-key', () => {
    expect(() => wired('shape-getenv', 'APP_DB')).toThrow(/reads its URL from the env var DATABASE_URL/);
  });

  test('env.py loads .env before it imports the app, whose modules read os.environ when imported', () => {
    const { plan } = wired('shape-getenv');
    const imports = renderEnvImports({ url: plan.url, base: { module: 'app.database', name: 'Base' }, models: ['app.models'] });
    expect(imports).toBe(
      'from os import environ\nfrom dotenv import load_dotenv\n\n# The app reads its URL from the environment: load .env as the app does.\nload_dotenv()\n\n' +
        'from app.database import Base  # noqa: E402\nimport app.models  # noqa: F401, E402',
    );
  });
});

describe('SQLite-only workarounds', () => {
  test('.replace(tzinfo=...) on a value read back is flagged with file and line, and not edited', () => {
    const { plan, files } = wired('shape-constant');
    expect(plan.notes.join('\n')).toMatch(/^check sql_app\/main\.py:43: row\.created_at\.replace\(tzinfo=\.\.\.\) relabels a datetime/m);
    expect(files['sql_app/main.py']).toContain('created = row.created_at.replace(tzinfo=UTC)');
  });
});

describe('the FastAPI docs\' sync sql_app', () => {
  test('the constant and its commented-out alternative go, the engine reads settings, create_all at import goes with its imports', () => {
    const { files } = wired('shape-sync-sql-app');
    expect(files['sql_app/database.py']).toBe(
      'from sqlalchemy import create_engine\nfrom sqlalchemy.orm import declarative_base, sessionmaker\n\nfrom .config import settings\n\n' +
        'engine = create_engine(settings.database_url)\nSessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)\n\nBase = declarative_base()\n',
    );
    expect(files['sql_app/main.py']).toContain('from . import crud, schemas\nfrom .database import SessionLocal\n\napp = FastAPI()\n');
  });
});
