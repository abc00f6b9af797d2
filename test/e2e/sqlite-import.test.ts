/**
 * The tutorial blog's own data comes along: users, posts and reset tokens written by the app on
 * SQLite, then one `--sqlite import` run, then the same app on PostgreSQL serves them, accepts a
 * new post without a key collision, and a re-run imports nothing and says so. Then the same with
 * --sqlite delete (import, then the file moved into the backups) and with the asyncpg driver.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { copyFixture, postJson, sql, withApp } from '../helpers/python-project.js';

let cluster: TestCluster;
let dir: string;
let first: CliResult;
let postsOnSqlite: unknown[];
let users: { id: number; username: string }[] = [];
/** What the app itself wrote into blog.db, as text. */
let sqliteText: { posts: [number, string][]; tokens: [string, string][] };
const env = { UV_PYTHON_DOWNLOADS: 'never' };
const setupArgs = (db: string, sqlite: string, extra: string[] = []) => ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', db, '--sqlite', sqlite, ...extra];
const args = () => setupArgs('blog', 'import');
const START = ['uv', 'run', 'uvicorn', 'main:app'];

/** Run Python in the project's own venv (the one `uv run` made). */
function py(projectDir: string, code: string): string {
  const r = spawnSync(join(projectDir, '.venv', 'bin', 'python'), ['-c', code], { cwd: projectDir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/**
 * The app as the tutorial leaves it: SQLite, tables from create_all, users and posts written
 * through its API, reset tokens through its own models. Returns the users and the post list.
 */
async function seedTutorial(projectDir: string): Promise<{ users: { id: number; username: string }[]; posts: unknown[] }> {
  const made: { id: number; username: string }[] = [];
  let posts: unknown[] = [];
  await withApp(projectDir, START, '/health', async (base) => {
    for (const u of ['ada', 'linus']) {
      const res = await postJson(`${base}/api/users`, { username: u, email: `${u}@example.com` });
      made.push((await res.json()) as { id: number; username: string });
    }
    for (const [i, title] of ['Hello, SQLite', 'Zweiter Beitrag — ünïcode ✓', 'Third'].entries()) {
      const res = await postJson(`${base}/api/posts`, { title, content: `post ${i}\nwith a newline`, user_id: made[i % 2]!.id });
      expect(res.status).toBe(201);
    }
    posts = (await (await fetch(`${base}/api/posts`)).json()) as unknown[];
  });
  // Reset tokens have no endpoint: written with the app's own models and session, on SQLite.
  py(
    projectDir,
    `
import asyncio, datetime as dt
import models
from database import AsyncSessionLocal
async def main():
    async with AsyncSessionLocal() as db:
        db.add(models.PasswordResetToken(user_id=1, token_hash="a" * 64, expires_at=dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)))
        db.add(models.PasswordResetToken(user_id=2, token_hash="b" * 64, expires_at=dt.datetime.now(dt.UTC)))
        await db.commit()
asyncio.run(main())
`,
  );
  return { users: made, posts };
}

const rowCounts = async (db: string) =>
  (await sql(cluster, db, `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM posts)::int AS posts, (SELECT count(*) FROM password_reset_tokens)::int AS tokens`))[0];

beforeAll(async () => {
  cluster = await startCluster();
  dir = copyFixture('tutorial-blog');
  ({ users, posts: postsOnSqlite } = await seedTutorial(dir));
  sqliteText = JSON.parse(
    py(
      dir,
      `
import json, sqlite3
c = sqlite3.connect("blog.db")
print(json.dumps({"posts": c.execute("SELECT id, date_posted FROM posts ORDER BY id").fetchall(),
                  "tokens": c.execute("SELECT token_hash, expires_at FROM password_reset_tokens ORDER BY id").fetchall()}))
`,
    ),
  ) as typeof sqliteText;
  first = await runCli(args(), { cwd: dir, env });
}, 480_000);
afterAll(() => cluster?.stop());

test('one --sqlite import run copies every row and prints the verification per table', async () => {
  expect(first.code, first.all).toBe(0);
  expect(first.all).toMatch(/imported 7 rows from blog\.db into 3 tables .*\(one transaction, verified\)/);
  expect(first.all).toContain('users: SQLite 2 rows, PostgreSQL 2 rows, content hash matches');
  expect(first.all).toContain('posts: SQLite 3 rows, PostgreSQL 3 rows, content hash matches');
  expect(first.all).toContain('password_reset_tokens: SQLite 2 rows, PostgreSQL 2 rows, content hash matches');
  expect(first.all).toMatch(/naive SQLite datetimes were taken as UTC in the timestamptz columns .*posts\.date_posted/);
  expect(first.all).toMatch(/taken as UTC .*password_reset_tokens\.expires_at/);
  // --sqlite import keeps the file.
  expect(existsSync(join(dir, 'blog.db'))).toBe(true);
});

test("the app's own SQLite datetimes arrive as the same instants in timestamptz columns", async () => {
  const posts = await sql(cluster, 'blog', `SELECT id, to_char(date_posted AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS t FROM posts ORDER BY id`);
  expect(posts.map((r) => [r.id, r.t])).toEqual(sqliteText.posts);
  const tokens = await sql(cluster, 'blog', `SELECT token_hash, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS t FROM password_reset_tokens ORDER BY id`);
  expect(tokens.map((r) => [r.token_hash, r.t])).toEqual(sqliteText.tokens);
  expect(sqliteText.tokens[0]![1]).toBe('2030-01-02 03:04:05.678901');
});

test('the app on PostgreSQL lists the same posts, knows the old users, and inserts without a key collision', async () => {
  await withApp(dir, START, '/health', async (base) => {
    expect(await (await fetch(`${base}/api/posts`)).json()).toEqual(postsOnSqlite);
    // The app looks the old user up before it accepts the post (404 otherwise).
    const post = await postJson(`${base}/api/posts`, { title: 'First on PostgreSQL', content: 'x', user_id: users[1]!.id });
    expect(post.status).toBe(201);
    expect(((await post.json()) as { id: number }).id).toBe(4);
    const user = await postJson(`${base}/api/users`, { username: 'grace', email: 'grace@example.com' });
    expect(user.status).toBe(201);
    expect(((await user.json()) as { id: number }).id).toBe(3);
  });
});

test('a re-run imports nothing and says so', async () => {
  const r = await runCli(args(), { cwd: dir, env });
  expect(r.code, r.all).toBe(0);
  expect(r.all).toContain('already imported 7 rows from blog.db');
  expect(r.all).toContain('Everything is already in place; nothing changed.');
  const again = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(again.code, again.all).toBe(0);
  expect(again.all).toContain('Nothing to import; nothing changed.');
  expect(await sql(cluster, 'blog', 'SELECT count(*)::int AS n FROM posts')).toEqual([{ n: 4 }]);
  expect(await sql(cluster, 'blog', 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 3 }]);
});

describe('--sqlite delete', () => {
  let project: string;
  let original: Buffer;
  let run: CliResult;
  beforeAll(async () => {
    project = copyFixture('tutorial-blog');
    await seedTutorial(project);
    original = readFileSync(join(project, 'blog.db'));
    run = await runCli(setupArgs('blog_delete', 'delete'), { cwd: project, env });
  }, 480_000);

  /** blog.db as moved into .pg-setup/backups/<time>/ (exactly one). */
  const backups = () => {
    const root = join(project, '.pg-setup', 'backups');
    return readdirSync(root).map((stamp) => join(root, stamp, 'blog.db')).filter((p) => existsSync(p));
  };

  test('imports every row first, then moves the file, byte-identical, into .pg-setup/backups/', async () => {
    expect(run.code, run.all).toBe(0);
    expect(run.all).toMatch(/imported 7 rows from blog\.db into 3 tables .*\(one transaction, verified\)/);
    expect(run.all).toContain('posts: SQLite 3 rows, PostgreSQL 3 rows, content hash matches');
    expect(run.all).toMatch(/moved to \.pg-setup\/backups\/[^/\s]+\/blog\.db/);
    expect(await rowCounts('blog_delete')).toEqual({ users: 2, posts: 3, tokens: 2 });
    expect(existsSync(join(project, 'blog.db'))).toBe(false);
    const moved = backups();
    expect(moved).toHaveLength(1);
    expect(readFileSync(moved[0]!).equals(original)).toBe(true);
  });

  test('a re-run changes nothing', async () => {
    const again = await runCli(setupArgs('blog_delete', 'delete'), { cwd: project, env });
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('Everything is already in place; nothing changed.');
    expect(await rowCounts('blog_delete')).toEqual({ users: 2, posts: 3, tokens: 2 });
    expect(existsSync(join(project, 'blog.db'))).toBe(false);
    const moved = backups();
    expect(moved).toHaveLength(1);
    expect(readFileSync(moved[0]!).equals(original)).toBe(true);
  });
});

describe('--driver asyncpg --sqlite import', () => {
  let project: string;
  let seeded: Awaited<ReturnType<typeof seedTutorial>>;
  let run: CliResult;
  beforeAll(async () => {
    project = copyFixture('tutorial-blog');
    seeded = await seedTutorial(project);
    run = await runCli(setupArgs('blog_async', 'import', ['--driver', 'asyncpg']), { cwd: project, env });
  }, 480_000);

  test('the project has asyncpg and no psycopg, and the import runs with it', () => {
    expect(run.code, run.all).toBe(0);
    expect(py(project, 'import importlib.util as u; print(bool(u.find_spec("asyncpg")), bool(u.find_spec("psycopg")))').trim()).toBe('True False');
    expect(run.all).toMatch(/imported 7 rows from blog\.db into 3 tables .*\(one transaction, verified\)/);
    expect(run.all).toContain('password_reset_tokens: SQLite 2 rows, PostgreSQL 2 rows, content hash matches');
  });

  test('the app, started with its own command on PostgreSQL, lists the imported posts and adds one without a key collision', async () => {
    expect(readFileSync(join(project, '.env'), 'utf8')).toContain('postgresql+asyncpg://');
    await withApp(project, START, '/health', async (base) => {
      expect(await (await fetch(`${base}/api/posts`)).json()).toEqual(seeded.posts);
      const post = await postJson(`${base}/api/posts`, { title: 'First on PostgreSQL (asyncpg)', content: 'x', user_id: seeded.users[0]!.id });
      expect(post.status).toBe(201);
      expect(((await post.json()) as { id: number }).id).toBe(4);
    });
    expect(await rowCounts('blog_async')).toEqual({ users: 2, posts: 4, tokens: 2 });
  });

  test('appending rows whose keys are already there names the row PostgreSQL refused, and commits nothing', async () => {
    // Without its record (and with the new post, no longer the file's own rows) the import appends.
    const stateFile = join(project, '.pg-setup', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { sqliteImports?: unknown };
    delete state.sqliteImports;
    writeFileSync(stateFile, JSON.stringify(state, null, 2));
    const r = await runCli(['import-sqlite', '--sqlite-import-into-nonempty'], { cwd: project, env });
    expect(r.code, r.all).toBe(5);
    expect(r.all).toMatch(/A row of blog\.db clashes with PostgreSQL's constraints: users \(id=1\).*duplicate key/);
    expect(r.all).toContain('Nothing was committed.');
    expect(await rowCounts('blog_async')).toEqual({ users: 2, posts: 4, tokens: 2 });
  });
});
