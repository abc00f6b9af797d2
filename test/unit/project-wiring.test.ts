import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { renderEnvImports, renderEnvPy } from '../../src/project/alembic-scaffold.js';
import { findGaps, parseAnalysis, type ProjectAnalysis } from '../../src/project/analysis.js';
import { addProjectDependencies, appendRequirementLines, decodeRequirements, encodeRequirements, planDependencies } from '../../src/project/dependencies.js';
import { applyEdits, removeListItem } from '../../src/project/text-edits.js';
import { renderUnifiedDiff } from '../../src/project/unified-diff.js';
import { chooseUrlSource, planWiring, urlExpression } from '../../src/project/wiring.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
// Analyzer output recorded from python/analyze.py on the fixtures.
const load = (name: string): ProjectAnalysis => parseAnalysis(readFileSync(join(FIXTURES, 'analysis', `${name}.json`), 'utf8'));
const source = (fixture: string, file: string) => readFileSync(join(FIXTURES, fixture, file), 'utf8');
const wired = (fixture: string, a: ProjectAnalysis, envKey: string, removeCreateAll = true) => {
  const plan = planWiring(a, { envKey, removeCreateAll });
  return { plan, files: Object.fromEntries(Object.entries(plan.edits).map(([f, e]) => [f, applyEdits(source(fixture, f), e)])) };
};

describe('wiring decisions from the analysis', () => {
  test('the tutorial gets database_url, an engine on settings.database_url, and no create_all in the lifespan', () => {
    const { plan, files } = wired('tutorial-blog', load('tutorial-blog'), 'DATABASE_URL');
    expect(plan.url).toMatchObject({ module: 'config', name: 'settings', field: 'database_url', expr: 'settings.database_url', reused: false });
    expect(files['config.py']).toContain('    access_token_expire_minutes: int = 30\n    database_url: str\n');
    // The import goes into its own first-party section; the call, now short, is joined.
    expect(files['database.py']).toBe(
      source('tutorial-blog', 'database.py')
        .replace('from sqlalchemy.orm import DeclarativeBase\n', 'from sqlalchemy.orm import DeclarativeBase\n\nfrom config import settings\n')
        .replace('SQLALCHEMY_DATABASE_URL = "sqlite+aiosqlite:///./blog.db"\n\n', '')
        .replace('create_async_engine(\n    SQLALCHEMY_DATABASE_URL,\n    connect_args={"check_same_thread": False},\n)', 'create_async_engine(settings.database_url)'),
    );
    // The comment that announced create_all goes with it; the shutdown comment stays.
    expect(files['main.py']).toContain('async def lifespan(_app: FastAPI):\n    yield\n    # Shutdown: close the connections\n');
    // Base was only used by create_all: its import goes, the others stay.
    expect(files['main.py']).toContain('from database import engine, get_db\n');
  });

  test('the package layout reuses its URL field and drops the SQLite default; an emptied function gets pass', () => {
    const { plan, files } = wired('pkg-layout', load('pkg-layout'), 'SQLALCHEMY_DATABASE_URI');
    expect(plan.url).toMatchObject({ module: 'app.core.config', name: 'config', field: 'sqlalchemy_database_uri', reused: true });
    expect(files['app/core/config.py']).toContain('\n    sqlalchemy_database_uri: str\n');
    expect(files['app/db/session.py']).toContain('async_engine = create_async_engine(config.sqlalchemy_database_uri, pool_pre_ping=True)\n');
    expect(files['app/db/session.py']).toContain('async def init_models() -> None:\n    pass\n');
    expect(files['app/db/session.py']).not.toContain('ModelBase');
    expect(files['app/db/session.py']).toContain('from app.core.config import config\n\nasync_engine');
  });

  test('--migrations none keeps create_all', () => {
    const { plan, files } = wired('tutorial-blog', load('tutorial-blog'), 'DATABASE_URL', false);
    expect(files['main.py']).toBeUndefined();
    expect(plan.notes).toEqual(['kept create_all at main.py:16 (--migrations none)']);
  });

  test('a URL field that reads another env key names --env-key', () => {
    expect(() => chooseUrlSource(load('pkg-layout'), 'DATABASE_URL')).toThrow(/reads the env var SQLALCHEMY_DATABASE_URI/);
    try {
      chooseUrlSource(load('pkg-layout'), 'DATABASE_URL');
    } catch (e) {
      expect((e as { hint: string }).hint).toContain('--env-key SQLALCHEMY_DATABASE_URI');
    }
  });

  test('missing settings and base are reported with the flag that supplies them', () => {
    const a = { ...load('tutorial-blog'), settings: null, base: null };
    expect(findGaps(a)).toEqual([
      { what: 'a pydantic BaseSettings class', flag: '--settings module:obj' },
      { what: 'the declarative base (class Base(DeclarativeBase) or declarative_base())', flag: '--base module:Base' },
    ]);
    expect(() => chooseUrlSource(a, 'DATABASE_URL')).toThrow(/No pydantic settings class/);
  });

  test('URL fields of other types are turned into str for SQLAlchemy', () => {
    expect(urlExpression('settings.db', 'str')).toBe('settings.db');
    expect(urlExpression('settings.db', 'PostgresDsn')).toBe('str(settings.db)');
    expect(urlExpression('settings.db', 'SecretStr')).toBe('settings.db.get_secret_value()');
  });

  test('settings with class Config and no env_file get env_file and extra merged in; create_all at import goes with its imports', () => {
    const { plan, files } = wired('shape-config-class', load('shape-config-class'), 'SQLALCHEMY_DATABASE_URI');
    expect(plan.url).toMatchObject({ field: 'SQLALCHEMY_DATABASE_URI', envKey: 'SQLALCHEMY_DATABASE_URI', reused: true });
    expect(files['app/core/config.py']).toBe(
      source('shape-config-class', 'app/core/config.py')
        .replace('    SQLALCHEMY_DATABASE_URI: str = "sqlite:///./notes.db"\n', '    SQLALCHEMY_DATABASE_URI: str\n')
        .replace('        case_sensitive = True\n', '        case_sensitive = True\n        env_file = ".env"\n        extra = "ignore"\n'),
    );
    expect(files['app/main.py']).not.toMatch(/create_all|base_class|, engine/);
    expect(files['app/db/session.py']).toContain('engine = create_engine(settings.SQLALCHEMY_DATABASE_URI)\n');
  });

  test('env_file names the env file the run writes (--env-file config/app.env)', () => {
    const a = load('shape-config-class');
    const plan = planWiring(a, { envKey: 'SQLALCHEMY_DATABASE_URI', envFile: 'config/app.env', removeCreateAll: true });
    const out = applyEdits(source('shape-config-class', 'app/core/config.py'), plan.edits['app/core/config.py']!);
    expect(out).toContain('        env_file = "config/app.env"\n');
  });

  test('a helper start-up reaches through two modules but a script also calls is kept; the start-up call goes', () => {
    const { plan, files } = wired('shape-indirect', load('shape-indirect'), 'DATABASE_URL');
    expect(Object.keys(files).sort()).toEqual(['app/core/events.py', 'app/core/settings.py']);
    expect(files['app/core/events.py']).toBe(
      source('shape-indirect', 'app/core/events.py').replace('from app.db import create_db_and_tables\n', '').replace('    await create_db_and_tables()\n', ''),
    );
    expect(plan.notes.join('\n')).toMatch(/kept create_db_and_tables \(create_all at app\/db\.py:17\): scripts\/init_db\.py:9 also calls it/);
  });

  test('before the run, doctor\'s reachability counts the kept helper as start-up code (not the call entry)', () => {
    const a = load('shape-indirect');
    const started = a.createAll.filter((c) => c.inStartup && !c.isCall).map((c) => `${c.file}:${c.line}`);
    expect(started).toEqual(['app/db.py:17']);
  });
});

describe('text edits', () => {
  test('removing the last call argument takes the comma before it', () => {
    const src = 'f(a, b)\n';
    const spans = [{ line: 1, col: 2, endLine: 1, endCol: 3 }, { line: 1, col: 5, endLine: 1, endCol: 6 }];
    expect(applyEdits(src, [removeListItem(spans, 1, 'x')])).toBe('f(a)\n');
    expect(applyEdits(src, [removeListItem(spans, 0, 'x')])).toBe('f(b)\n');
  });

  test('columns count code points, so text after non-ASCII characters is edited in place', () => {
    const src = 'x = "é😀"; y = 1\n';
    expect(applyEdits(src, [{ start: { line: 1, col: 10 }, end: { line: 1, col: 11 }, text: 'z', reason: '' }])).toBe('x = "é😀"; z = 1\n');
  });

  test('CRLF line endings are kept', () => {
    const src = 'a = 1\r\nb = 2\r\nc = 3\r\n';
    expect(applyEdits(src, [{ start: { line: 2, col: 0 }, end: { line: 3, col: 0 }, text: '', reason: '' }])).toBe('a = 1\r\nc = 3\r\n');
  });
});

describe('unified diff', () => {
  test('equal texts give no diff', () => {
    expect(renderUnifiedDiff('a.py', 'x\n', 'x\n')).toBe('');
  });

  test('a change is shown with three lines of context and correct hunk ranges', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const after = before.replace('5\n', 'five\n');
    expect(renderUnifiedDiff('m.py', before, after)).toBe(
      ['--- a/m.py', '+++ b/m.py', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });

  test('distant changes make separate hunks; an insertion has its own counts', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const before = lines.join('\n') + '\n';
    const after = ['l0', ...lines.slice(0, 18), 'l19x', 'l20'].join('\n') + '\n';
    const diff = renderUnifiedDiff('f.py', before, after);
    expect(diff).toContain('@@ -1,3 +1,4 @@\n+l0\n l1\n');
    expect(diff).toContain('@@ -16,5 +17,5 @@\n l16\n l17\n l18\n-l19\n+l19x\n l20\n');
  });
});

describe('dependencies and env.py', () => {
  test('a uv project without the driver gets one uv add with both packages', () => {
    const plan = planDependencies(load('tutorial-blog'), 'psycopg', true);
    expect(plan.commands).toEqual([{ cmd: 'uv', args: ['add', 'psycopg[binary]', 'alembic'] }]);
  });

  test('asyncpg is added instead of psycopg when that driver is chosen; nothing when already declared', () => {
    const a = load('tutorial-blog');
    expect(planDependencies(a, 'asyncpg', false).missing).toEqual(['asyncpg']);
    a.manager.dependencies.push({ name: 'asyncpg', extras: [] });
    expect(planDependencies(a, 'asyncpg', false).commands).toEqual([]);
  });

  test('requirements.txt keeps its encoding (UTF-8, UTF-8 BOM, UTF-16 LE/BE BOM) and its line endings when lines are added', () => {
    const original = 'fastapi>=0.115\r\nsqlalchemy  # ORM\r\n';
    for (const enc of ['utf8', 'utf8-bom', 'utf16le', 'utf16be'] as const) {
      const bytes = encodeRequirements(original, enc);
      const decoded = decodeRequirements(bytes);
      expect(decoded).toEqual({ text: original, encoding: enc });
      const out = encodeRequirements(appendRequirementLines(decoded.text, ['psycopg[binary]', 'alembic']), decoded.encoding);
      expect(decodeRequirements(out)).toEqual({ text: `${original}psycopg[binary]\r\nalembic\r\n`, encoding: enc });
      // The BOM (or its absence) is written back byte for byte.
      expect(out.subarray(0, 2).equals(bytes.subarray(0, 2))).toBe(true);
    }
    expect(appendRequirementLines('fastapi', ['alembic'])).toBe('fastapi\nalembic\n');
  });

  test('a pip project with only pyproject.toml lists the new packages in [project].dependencies, in its own layout', () => {
    const multi = '[project]\nname = "x"\ndependencies = [\n    "fastapi>=0.115",\n    "sqlalchemy[asyncio]"  # ORM\n]\n\n[tool.ruff]\nline-length = 100\n';
    expect(addProjectDependencies(multi, ['psycopg[binary]', 'alembic'])).toBe(
      '[project]\nname = "x"\ndependencies = [\n    "fastapi>=0.115",\n    "sqlalchemy[asyncio]",  # ORM\n    "psycopg[binary]",\n    "alembic",\n]\n\n[tool.ruff]\nline-length = 100\n',
    );
    expect(addProjectDependencies('[project]\r\ndependencies = ["fastapi", "uvicorn[standard]"]\r\n', ['alembic'])).toBe('[project]\r\ndependencies = ["fastapi", "uvicorn[standard]", "alembic"]\r\n');
    expect(addProjectDependencies('[project]\ndependencies = []\n', ['alembic'])).toBe('[project]\ndependencies = ["alembic"]\n');
    // dependencies of another table are not [project]'s.
    expect(addProjectDependencies('[tool.x]\ndependencies = ["a"]\n', ['alembic'])).toBeUndefined();
  });

  test('a pip project without a venv is refused: never the global Python', () => {
    const a = load('tutorial-blog');
    a.manager = { kind: 'pip', evidence: 'requirements.txt', dependencies: [], venv: null };
    expect(() => planDependencies(a, 'psycopg', true)).toThrow(/never installs into the global Python/);
  });

  test('env.py imports settings, base and models and escapes % for configparser', () => {
    const url = chooseUrlSource(load('tutorial-blog'), 'DATABASE_URL');
    const inputs = { url, base: { module: 'database', name: 'Base' }, models: ['models'] };
    expect(renderEnvImports(inputs)).toBe('from config import settings\nfrom database import Base\nimport models  # noqa: F401');
    const env = renderEnvPy('{{IMPORTS}}\nx({{URL_EXPR}}.replace("%", "%%"))\nt = {{METADATA_EXPR}}\n', inputs);
    expect(env).toContain('x(settings.database_url.replace("%", "%%"))\nt = Base.metadata\n');
  });
});
