/**
 * The wizard a newcomer meets, at a real terminal, on the tutorial's blog with a SQLite file
 * that holds rows: the first question is where PostgreSQL comes from (right under the detection
 * table), no server is listed twice, the SQLite file gets its own question, the code diff is the
 * last question, and pressing Enter throughout ends in exactly the files and database state of
 * `--non-interactive --yes` (byte for byte, passwords and Alembic's random revision id aside).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, ROOT, runCli } from '../helpers/cli.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { FIXTURES, sql, tempDir } from '../helpers/python-project.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

const ENTER = '\r';

/** The tutorial blog in a folder named `blog` (the name feeds the default database name), with a blog.db that has rows. */
function blogWithRows(): string {
  const dir = join(tempDir('pgsetup-wizard-tutorial-'), 'blog');
  mkdirSync(dir);
  cpSync(join(FIXTURES, 'tutorial-blog'), dir, { recursive: true });
  // The shape the tutorial's app leaves behind after a few requests: its tables, a few rows.
  execFileSync('python3', [
    '-c',
    `import sqlite3
con = sqlite3.connect("blog.db")
con.executescript("""
CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(50) UNIQUE NOT NULL, email VARCHAR(120) UNIQUE NOT NULL, image_file VARCHAR(200));
CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL, content TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id));
INSERT INTO users (username, email) VALUES ('ada', 'ada@example.com'), ('grace', 'grace@example.com');
INSERT INTO posts (title, content, user_id) VALUES ('Hello', 'First post', 1);
""")
con.close()`,
  ], { cwd: dir });
  return dir;
}

/** Every file the run leaves (not the venv or caches): path -> mode and content, with what differs by nature masked. */
function projectState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (['.venv', '__pycache__', '.pytest_cache'].includes(name)) continue;
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        walk(full);
        continue;
      }
      const text = readFileSync(full, 'latin1');
      out[normalize(relative(dir, full))] = `${(st.mode & 0o777).toString(8)} ${normalize(text)}`;
    }
  };
  walk(dir);
  return out;
}

/** Passwords, backup stamps and Alembic's random revision id and date are the only differences two runs may have. */
function normalize(s: string): string {
  return s
    .replace(/(postgresql\+psycopg:\/\/[^:]+:)[^@]+@/g, '$1PASSWORD@')
    .replace(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z/g, 'STAMP')
    .replace(/(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])/g, 'REVISION')
    .replace(/^Create Date: .*$/m, 'Create Date: DATE');
}

/** What the database holds: role attributes, owner, every column, index and constraint, row counts, alembic_version. */
async function databaseState(): Promise<unknown> {
  const q = (db: string, text: string) => sql(cluster, db, text);
  return {
    role: await q('postgres', `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = 'blog_user'`),
    database: await q('postgres', `SELECT datname, pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = 'blog'`),
    tables: await q('blog', `SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`),
    columns: await q('blog', `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, ordinal_position`),
    indexes: await q('blog', `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`),
    constraints: await q('blog', `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`),
    rows: await q('blog', `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM posts)::int AS posts`),
    alembic: (await q('blog', 'SELECT version_num FROM alembic_version')).map((r) => normalize(String(r.version_num))),
  };
}

async function dropBlog(): Promise<void> {
  await sql(cluster, 'postgres', 'DROP DATABASE blog');
  await sql(cluster, 'postgres', 'DROP ROLE blog_user');
}

test('Enter throughout the wizard on the tutorial blog asks the provider first, the SQLite file, the diff last, and ends like --non-interactive --yes', async () => {
  const env = {
    UV_PYTHON_DOWNLOADS: 'never',
    PGSETUP_ADMIN_URL: cluster.adminUrl,
    // No Docker engine is ever contacted: the socket named here does not exist.
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  };
  const wizardDir = blogWithRows();
  const spec = {
    argv: [process.execPath, BIN, '--port', String(cluster.port)],
    cwd: wizardDir,
    env: { ...env, NO_COLOR: '1' },
    size: [40, 100],
    timeout: 240,
    steps: [
      ['Which PostgreSQL should this project use\\?', ENTER],
      ['Database name', ENTER],
      ['Database user \\(role\\)', ENTER],
      ['Password for that role', ENTER],
      ['The SQLite database blog\\.db \\(3 rows\\) holds data\\. What should happen to it\\?', ENTER],
      ['Apply these changes to', ENTER],
    ],
  };
  const { stdout } = await promisify(execFile)('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const result = JSON.parse(stdout) as { code: number | null; output: string; screen?: string; screens?: string[]; waiting_for?: string };
  // README "What it looks like" shows these: the screen at the first question, and at the end.
  if (process.env.PGSETUP_SCREEN_FILE) writeFileSync(process.env.PGSETUP_SCREEN_FILE, `${result.screens?.[0] ?? ''}\n----\n${result.screen ?? ''}`);
  console.log(`wizard screen:\n${result.screen ?? result.output}`);
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  const screen = result.output;

  // The detection table, then the provider question as the very first one.
  const tableAt = screen.search(/Provider\s+State\s+Details/);
  const table = screen.slice(tableAt, screen.indexOf('Which PostgreSQL'));
  const questions = [...screen.matchAll(/^\? (.+?)(?:\s\(|$)/gm)].map((m) => m[1]);
  expect(questions[0], screen).toMatch(/^Which PostgreSQL should this project use\?/);
  expect(tableAt).toBeGreaterThanOrEqual(0);
  expect(tableAt).toBeLessThan(screen.indexOf('Which PostgreSQL'));
  // One row per server: no provider twice, and no two running rows on one port.
  const rows = table.split('\n').slice(1).filter((l) => /^\w+( \*)?\s{2}/.test(l));
  const names = rows.map((l) => l.split(/\s+/)[0]);
  expect(new Set(names).size, table).toBe(names.length);
  const runningPorts = rows.filter((l) => /\brunning\b/.test(l)).map((l) => /:(\d+)|port (\d+)/.exec(l)?.slice(1).find(Boolean));
  expect(new Set(runningPorts).size, table).toBe(runningPorts.length);
  // The recommended row is starred in the table and preselected in the question.
  expect(table).toMatch(/^existing \*\s+running\s+PostgreSQL.* on 127\.0\.0\.1:\d+$/m);
  expect(table).toContain('* existing recommended');
  expect(screen).toMatch(/❯ existing \(running\) - recommended/);
  // Names and password next, the SQLite file, and the diff with its question last, before the task list.
  const order = ['Which PostgreSQL', 'Database name', 'Database user', 'Password for that role', 'The SQLite database blog.db', '+++ b/database.py', 'Apply these changes', 'Done.'];
  const at = order.map((s) => screen.indexOf(s));
  expect(at.every((i) => i >= 0), screen).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(screen).toContain('❯ Keep it where it is');
  expect(screen.slice(screen.indexOf('Apply these changes'))).not.toMatch(/^\? /m);
  // At the first question the screen holds the table and the provider menu, the recommended one preselected.
  expect(result.screens?.[0]).toMatch(/^Provider\s+State\s+Details\n[\s\S]*\* existing recommended\n\? Which PostgreSQL should this project use\?\n❯ existing \(running\) - recommended\n/);
  // The screen a person sees at the end: one answered line per question, in the order asked.
  const answered = (result.screen ?? '').split('\n').filter((l) => /^✔ .*\?/.test(l) || /^✔ (Database|Password)/.test(l));
  expect(answered.map((l) => l.slice(2, 20))).toEqual(['Which PostgreSQL s', 'Database name blog', 'Database user (rol', 'Password for that ', 'The SQLite databas', 'Apply these change']);

  const wizardFiles = projectState(wizardDir);
  const wizardDb = await databaseState();
  await dropBlog();

  const scriptedDir = blogWithRows();
  const scripted = await runCli(['--non-interactive', '--yes', '--port', String(cluster.port)], { cwd: scriptedDir, env, timeoutMs: 240_000 });
  expect(scripted.code, scripted.all).toBe(0);

  expect(projectState(scriptedDir)).toEqual(wizardFiles);
  expect(await databaseState()).toEqual(wizardDb);
  // What the comparison covers: the migrated code, the env file, the SQLite file kept in place.
  expect(Object.keys(wizardFiles)).toEqual(expect.arrayContaining(['.env', 'alembic.ini', 'alembic/env.py', 'blog.db', 'database.py', 'main.py', '.pg-setup/state.json']));
  expect(wizardFiles['.env']).toMatch(/^600 DATABASE_URL="postgresql\+psycopg:\/\/blog_user:PASSWORD@127\.0\.0\.1:\d+\/blog"\n$/);
}, 480_000); // two full runs, each with uv add and a migration
