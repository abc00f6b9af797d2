import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { projectSteps } from '../../src/steps/project/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyFixture, createAppDb, makeContext, postJson, runSteps, snapshot, sql, withApp, writeEnv } from '../helpers/python-project.js';

let cluster: TestCluster;
let dir: string;
let url: string;
let firstRun: Awaited<ReturnType<typeof runSteps>>;
let firstRunMs = 0;

beforeAll(async () => {
  cluster = await startCluster();
  dir = copyFixture('tutorial-blog');
  url = await createAppDb(cluster, 'blog_user', 'blog');
  writeEnv(dir, 'DATABASE_URL', url);
  // A leftover SQLite file from the tutorial's earlier parts: its tables, no rows.
  const made = spawnSync('python3', ['-c', 'import sqlite3; c = sqlite3.connect("blog.db"); c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT)"); c.commit()'], { cwd: dir, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  process.env.PGSETUP_TRACE_EXEC = join(dir, '.pg-setup-trace');
  const t0 = performance.now();
  firstRun = await runSteps(projectSteps(makeContext(cluster, dir, url, 'blog_user', { sqlite: 'delete' })));
  firstRunMs = performance.now() - t0;
  delete process.env.PGSETUP_TRACE_EXEC;
  console.log(`full run of the project steps on tutorial-blog: ${(firstRunMs / 1000).toFixed(2)} s`);
  for (const o of firstRun) console.log(`  [${o.status}] ${o.title}: ${o.detail}`);
});
afterAll(() => cluster?.stop());

const uv = (args: string[]) => run('uv', args, { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });

describe('tutorial blog, fresh database', () => {
  test('every step did its work on the first run; --sqlite delete had no rows to import before the move', () => {
    expect(firstRun.map((o) => o.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'present', 'done']);
    expect(firstRun[6]).toMatchObject({ title: 'Import the SQLite rows into PostgreSQL', detail: 'blog.db has no rows: nothing to import' });
  });

  test('Python reads the app once, then only what each step changed: the dependencies, the wired code, the Alembic files', () => {
    const reads = readFileSync(join(dir, '.pg-setup-trace'), 'utf8').split('\n').filter((l) => l.includes('analyze.py'));
    // The whole project before any change and after the wiring; after the dependencies only
    // the manager's part, after the scaffold only the Alembic files. The migration's own
    // report serves the check after it.
    expect(reads.filter((l) => !l.includes('-only'))).toHaveLength(2);
    expect(reads.filter((l) => l.includes('--manager-only'))).toHaveLength(1);
    expect(reads.filter((l) => l.includes('--alembic-only'))).toHaveLength(1);
  });

  test('no child process got the database password in its argv', () => {
    const trace = readFileSync(join(dir, '.pg-setup-trace'), 'utf8');
    expect(trace).toContain('migrate.py');
    expect(trace).not.toContain('pw-blog_user');
    expect(trace).not.toContain(encodeURIComponent('pw-blog_user%x'));
    rmSync(join(dir, '.pg-setup-trace'));
  });

  test('the code is wired like the tutorial: settings.database_url, no check_same_thread, no create_all', () => {
    const config = readFileSync(join(dir, 'config.py'), 'utf8');
    expect(config).toMatch(/^ {4}database_url: str$/m);
    const database = readFileSync(join(dir, 'database.py'), 'utf8');
    expect(database).toContain('from config import settings');
    expect(database).toContain('settings.database_url');
    expect(database).not.toContain('check_same_thread');
    expect(database).not.toContain('sqlite');
    const main = readFileSync(join(dir, 'main.py'), 'utf8');
    expect(main).not.toContain('create_all');
    expect(main).toContain('await engine.dispose()');
    expect(readdirSync(join(dir, '.pg-setup', 'backups'))).toHaveLength(1);
  });

  test('psycopg[binary] and alembic are project dependencies', () => {
    const pyproject = readFileSync(join(dir, 'pyproject.toml'), 'utf8');
    expect(pyproject).toMatch(/"psycopg\[binary\]/);
    expect(pyproject).toMatch(/"alembic/);
  });

  test('alembic current is at head and the tables exist in PostgreSQL', async () => {
    const current = await uv(['run', 'alembic', 'current']);
    expect(current.stdout).toMatch(/\(head\)/);
    const tables = (await sql(cluster, 'blog', `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.tablename);
    expect(tables).toEqual(['alembic_version', 'password_reset_tokens', 'posts', 'users']);
    const versions = readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'));
    expect(versions).toHaveLength(1);
    expect(readFileSync(join(dir, 'alembic', 'versions', versions[0]!), 'utf8')).toContain("op.create_table('users'");
  });

  test('the SQLite file was moved into the backup folder, not deleted', () => {
    const stamp = readdirSync(join(dir, '.pg-setup', 'backups'))[0]!;
    expect(readdirSync(dir)).not.toContain('blog.db');
    expect(readFileSync(join(dir, '.pg-setup', 'backups', stamp, 'blog.db'), 'utf8')).toContain('SQLite format 3');
  });

  test('the app started with uvicorn writes a row into PostgreSQL', async () => {
    await withApp(dir, [join(dir, '.venv', 'bin', 'python'), '-m', 'uvicorn', 'main:app'], '/health', async (base) => {
      const res = await postJson(`${base}/api/users`, { username: 'ada', email: 'ada@example.com' });
      expect(res.status).toBe(201);
    });
    const rows = await sql(cluster, 'blog', `SELECT username, email FROM users`);
    expect(rows).toEqual([{ username: 'ada', email: 'ada@example.com' }]);
  });

  test('a dry run on the wired project reports without touching anything', async () => {
    const before = snapshot(dir);
    const dry = await runSteps(projectSteps(makeContext(cluster, dir, url, 'blog_user', { dryRun: true, sqlite: 'delete' })));
    expect(dry.filter((o) => o.status === 'done').map((o) => o.title)).toEqual(['Read the Python project', 'Check the tables and alembic_version in PostgreSQL']);
    expect(snapshot(dir)).toEqual(before);
  });

  test('a second run changes nothing and adds no revision', async () => {
    const before = snapshot(dir);
    const second = await runSteps(projectSteps(makeContext(cluster, dir, url, 'blog_user', { sqlite: 'delete' })));
    for (const o of second) console.log(`  second run [${o.status}] ${o.title}: ${o.detail}`);
    expect(second.filter((o) => o.status === 'done').map((o) => o.title)).toEqual(['Read the Python project', 'Check the tables and alembic_version in PostgreSQL']);
    expect(snapshot(dir)).toEqual(before);
  });

  test("the tutorial's next step works: likes on Post autogenerates add_column and upgrades", async () => {
    const models = join(dir, 'models.py');
    let src = readFileSync(models, 'utf8');
    src = src.replace('from sqlalchemy import DateTime,', 'from sqlalchemy import DateTime, text,');
    src = src.replace(
      '    author: Mapped[User]',
      '    likes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))\n\n    author: Mapped[User]',
    );
    writeFileSync(models, src);
    await uv(['run', 'alembic', 'revision', '--autogenerate', '-m', 'add likes to posts']);
    const file = readdirSync(join(dir, 'alembic', 'versions')).find((f) => f.includes('add_likes_to_posts'))!;
    expect(readFileSync(join(dir, 'alembic', 'versions', file), 'utf8')).toContain("op.add_column('posts'");
    await uv(['run', 'alembic', 'upgrade', 'head']);
    const cols = await sql(cluster, 'blog', `SELECT column_default FROM information_schema.columns WHERE table_name = 'posts' AND column_name = 'likes'`);
    expect(cols).toEqual([{ column_default: '0' }]);
  });
});
