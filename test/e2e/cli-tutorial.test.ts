/**
 * The mission end to end through the built CLI: the tutorial's SQLite blog, one non-interactive
 * run, then uvicorn serves a request that writes a row into PostgreSQL; a second run changes nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { copyFixture, postJson, snapshot, sql, withApp } from '../helpers/python-project.js';
import { pythonFiles, ruffFindings } from '../helpers/ruff.js';

let cluster: TestCluster;
let dir: string;
let first: CliResult;
let firstMs = 0;
const args = () => ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', 'blog'];

beforeAll(async () => {
  cluster = await startCluster();
  dir = copyFixture('tutorial-blog');
  const t0 = performance.now();
  first = await runCli(args(), { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  firstMs = performance.now() - t0;
  console.log(`pg-setup on the tutorial blog, first run: ${(firstMs / 1000).toFixed(2)} s`);
});
afterAll(() => cluster?.stop());

test('one non-interactive run migrates the tutorial blog: alembic at head, the three tables exist', async () => {
  expect(first.code, first.all).toBe(0);
  expect(first.all).toContain('Done.');
  // --yes gave consent up front; the log still shows each change as a unified diff.
  expect(first.all).toContain('--- a/main.py\n+++ b/main.py');
  expect(first.all).toContain('-        await conn.run_sync(Base.metadata.create_all)');
  const tables = (await sql(cluster, 'blog', `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.tablename);
  expect(tables).toEqual(['alembic_version', 'password_reset_tokens', 'posts', 'users']);
  const head = readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'));
  expect(head).toHaveLength(1);
  const version = await sql(cluster, 'blog', 'SELECT version_num FROM alembic_version');
  expect(head[0]).toContain(String(version[0]?.version_num));
  expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\/blog_user:[^"]+@127\.0\.0\.1:\d+\/blog"\n$/);
});

test('then uvicorn works with no manual step: a POST writes a row that is in PostgreSQL', async () => {
  await withApp(dir, ['uv', 'run', 'uvicorn', 'main:app'], '/health', async (base) => {
    const res = await postJson(`${base}/api/users`, { username: 'grace', email: 'grace@example.com' });
    expect(res.status).toBe(201);
  });
  expect(await sql(cluster, 'blog', 'SELECT username FROM users')).toEqual([{ username: 'grace' }]);
});

test("pg-setup's edits look hand-made: files ruff found clean stay clean (the fixture's width is 100)", async () => {
  const pristine = copyFixture('tutorial-blog');
  const before = await ruffFindings(pristine, pythonFiles(pristine), 100);
  expect(Object.values(before).every((f) => f === '')).toBe(true);
  const after = await ruffFindings(dir, pythonFiles(dir), 100);
  expect(after).toEqual(Object.fromEntries(Object.keys(after).map((f) => [f, ''])));
  // The import sits in its own first-party section, the constant left no doubled blank line.
  expect(readFileSync(join(dir, 'database.py'), 'utf8')).toContain('from sqlalchemy.orm import DeclarativeBase\n\nfrom config import settings\n\nengine = create_async_engine(settings.database_url)\n\n');
  expect(readFileSync(join(dir, 'main.py'), 'utf8')).toContain('async def lifespan(_app: FastAPI):\n    yield\n    # Shutdown: close the connections\n');
});

test('a second run says everything is in place, changes no file and adds no revision', async () => {
  const before = snapshot(dir);
  const r = await runCli(args(), { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  expect(r.code, r.all).toBe(0);
  expect(r.all).toContain('Everything is already in place; nothing changed.');
  expect(snapshot(dir)).toEqual(before);
});

test('doctor passes every check on the migrated blog, including Alembic at head and create_all gone', async () => {
  const r = await runCli(['doctor', '--json'], { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  expect(r.code, r.all).toBe(0);
  const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
  expect(byId.alembic).toMatchObject({ status: 'pass' });
  expect(byId.alembic?.detail).toMatch(/^at head/);
  expect(byId['no-create-all']).toMatchObject({ status: 'pass' });
  expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
});

test('doctor on the unmigrated tutorial blog fails and names create_all in the lifespan with the fix', async () => {
  const fresh = copyFixture('tutorial-blog');
  const r = await runCli(['doctor'], { cwd: fresh, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  expect(r.code).not.toBe(0);
  expect(r.all).toMatch(/create_all still runs at start-up \(main\.py:\d+\)/);
  expect(r.all).toContain('npx pg-setup --yes');
});
