import { readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sqlAs } from '../helpers/sql.js';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useClusterSuite } from '../helpers/suite.js';

const suite = useClusterSuite();
const project = suite.project;
const base = suite.base;

function envOf(dir: string, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(dir, file), 'utf8').split(/\r?\n/)) {
    const m = /^([A-Z_]+)="?(.*?)"?$/.exec(line);
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}


describe('setup on a running server', () => {
  test('first run creates role, database, .env, .env.example and .gitignore; the URL logs in as a non-superuser', async () => {
    const dir = project('my-blog');
    const r = await runCli([...base()], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    const url = envOf(dir).DATABASE_URL as string;
    expect(url).toMatch(/^postgresql\+psycopg:\/\/my_blog_user:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/my_blog$/);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    const rows = await sqlAs(url, "select current_user as u, current_database() as d, (select rolsuper from pg_roles where rolname = current_user) as su, (select rolcreaterole from pg_roles where rolname = current_user) as cr, pg_encoding_to_char((select encoding from pg_database where datname = current_database())) as enc");
    expect(rows[0]).toEqual({ u: 'my_blog_user', d: 'my_blog', su: false, cr: false, enc: 'UTF8' });
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toBe('DATABASE_URL="postgresql+psycopg://USER:PASSWORD@localhost:5432/DBNAME"\n');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    // The password is never printed.
    const pw = decodeURIComponent(/:([^:@]+)@/.exec(url.replace('postgresql+psycopg://', ''))?.[1] ?? '');
    expect(r.all).not.toContain(pw);
    expect(r.all).toContain('postgresql+psycopg://my_blog_user:****@');
  });

  test('a second run exits 0, says everything is in place, and changes no byte and no password', async () => {
    const dir = project('shop');
    expect((await runCli(base(), { cwd: dir })).code).toBe(0);
    const files = ['.env', '.env.example', '.gitignore'];
    const before = files.map((f) => readFileSync(join(dir, f)));
    const url = envOf(dir).DATABASE_URL as string;
    const verifierBefore = await sqlAs(suite.cluster().adminUrl, "select rolpassword from pg_authid where rolname = 'shop_user'");
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(r.all).toContain('Everything is already in place; nothing changed.');
    files.forEach((f, i) => expect(readFileSync(join(dir, f)).equals(before[i] as Buffer), f).toBe(true));
    expect(await sqlAs(suite.cluster().adminUrl, "select rolpassword from pg_authid where rolname = 'shop_user'")).toEqual(verifierBefore);
    expect((await sqlAs(url, 'select 1 as one'))[0]).toEqual({ one: 1 });
    expect(existsSync(join(dir, '.pg-setup', 'backups'))).toBe(false);
  });

  test('an existing .env with other keys, comments, CRLF and no final newline is preserved exactly', async () => {
    const dir = project('crlf_app');
    const original = '# settings\r\nSECRET_KEY="abc"\r\n\r\nexport DEBUG=1\r\n# trailing comment';
    writeFileSync(join(dir, '.env'), original);
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(0);
    const after = readFileSync(join(dir, '.env'), 'utf8');
    expect(after.startsWith(original + '\r\n')).toBe(true);
    expect(after.slice(original.length)).toMatch(/^\r\nDATABASE_URL="postgresql\+psycopg:\/\/crlf_app_user:[^"]+"\r\n$/);
  });

  test('passwords with @ : / % # ? & and spaces round-trip through the URL and log in', async () => {
    const dir = project('weird_pw');
    const password = 'p@ss:w/rd %41#frag?q=1&x y';
    const r = await runCli([...base(), '--db-password', password], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    const url = envOf(dir).DATABASE_URL as string;
    const c = new pg.Client({ host: '127.0.0.1', port: suite.cluster().port, user: 'weird_pw_user', password, database: 'weird_pw' });
    await c.connect();
    await c.end();
    expect(decodeURIComponent(new URL(url.replace('postgresql+psycopg', 'http')).password)).toBe(password);
    expect((await sqlAs(url, 'select current_user as u'))[0]).toEqual({ u: 'weird_pw_user' });
    expect(r.all).not.toContain(password);
  });

  test('--dry-run changes nothing (no role, no files) and --json prints parseable JSON with no secret', async () => {
    const dir = project('dry');
    const password = 'dry-run-secret-123456';
    const r = await runCli([...base(), '--dry-run', '--db-password', password, '--json'], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(await sqlAs(suite.cluster().adminUrl, "select 1 from pg_roles where rolname = 'dry_user'")).toEqual([]);
    expect(r.stderr).toContain('CREATE ROLE "dry_user"');
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: true, dryRun: true, database: 'dry', role: 'dry_user' });
    expect(r.all).not.toContain(password);
    expect(r.all).not.toContain(suite.cluster().superPassword);

    const real = await runCli([...base(), '--json'], { cwd: dir });
    expect(real.code).toBe(0);
    const j = JSON.parse(real.stdout);
    expect(j.url).toMatch(/^postgresql\+psycopg:\/\/dry_user:\*\*\*\*@/);
    const pw = decodeURIComponent(new URL((envOf(dir).DATABASE_URL as string).replace('postgresql+psycopg', 'http')).password);
    expect(real.stdout).not.toContain(pw);
  });

  test('an existing role whose password is unknown needs --reset-password; then the new URL logs in', async () => {
    const dir = project('legacy');
    await sqlAs(suite.cluster().adminUrl, "create role legacy_user login password 'old-password-1'");
    const r = await runCli(base(), { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Role "legacy_user" already exists/);
    expect(r.stderr).toContain('--reset-password');
    expect(existsSync(join(dir, '.env'))).toBe(false);
    // The right password given: kept, nothing reset.
    const ok = await runCli([...base(), '--db-password', 'old-password-1'], { cwd: dir });
    expect(ok.code, ok.all).toBe(0);
    const reset = await runCli([...base(), '--reset-password'], { cwd: project('legacy') });
    expect(reset.code, reset.all).toBe(0);
  });

  test('a different value already in .env needs --overwrite-env, and replacing keeps a backup', async () => {
    const dir = project('taken');
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=sqlite+aiosqlite:///./blog.db\nOTHER=1\n');
    const r = await runCli(base(), { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--overwrite-env');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('DATABASE_URL=sqlite+aiosqlite:///./blog.db\nOTHER=1\n');
    const r2 = await runCli([...base(), '--overwrite-env'], { cwd: dir });
    expect(r2.code, r2.all).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\/taken_user:[^"]+"\nOTHER=1\n$/);
    const backups = join(dir, '.pg-setup', 'backups');
    const stamp = readdirSync(backups)[0] as string;
    expect(readFileSync(join(backups, stamp, '.env'), 'utf8')).toBe('DATABASE_URL=sqlite+aiosqlite:///./blog.db\nOTHER=1\n');
  });

  test('a SQLite URL in .env is the value this migration replaces: --yes replaces it (backup kept); any other value still needs --overwrite-env', async () => {
    const dir = project('lite');
    writeFileSync(join(dir, '.env'), 'OTHER=1\nDATABASE_URL=sqlite+aiosqlite:///./blog.db\n');
    const without = await runCli(base(), { cwd: dir });
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/SQLite URL this migration replaces: pass --yes/);
    const r = await runCli([...base(), '--yes'], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/^OTHER=1\nDATABASE_URL="postgresql\+psycopg:\/\/lite_user:[^"]+@127\.0\.0\.1:\d+\/lite"\n$/);
    const stamp = readdirSync(join(dir, '.pg-setup', 'backups'))[0] as string;
    expect(readFileSync(join(dir, '.pg-setup', 'backups', stamp, '.env'), 'utf8')).toBe('OTHER=1\nDATABASE_URL=sqlite+aiosqlite:///./blog.db\n');

    const other = project('elsewhere');
    const mysql = 'DATABASE_URL=mysql+aiomysql://app:secret@db.internal/app\n';
    writeFileSync(join(other, '.env'), mysql);
    const kept = await runCli([...base(), '--yes'], { cwd: other });
    expect(kept.code).toBe(2);
    expect(kept.stderr).toContain('Pass --overwrite-env');
    expect(readFileSync(join(other, '.env'), 'utf8')).toBe(mysql);
  });
});

test('a DATABASE_URL in the shell that would shadow .env gets a warning naming the fix', async () => {
  const dir = project('shadowed');
  const r = await runCli(base(), { cwd: dir, env: { DATABASE_URL: 'sqlite:///old.db' } });
  expect(r.code, r.all).toBe(0);
  expect(r.all).toMatch(/warning: DATABASE_URL is also set in your shell environment.*unset DATABASE_URL/);
});

describe('bad input', () => {
  test.each([
    [['--db-name', '1blog'], /starts with a digit/, '--db-name'],
    [['--db-name', 'a'.repeat(64)], /64 bytes; PostgreSQL allows at most 63/, '--db-name'],
    [['--db-name', ''], /Database name is empty/, '--db-name'],
    [['--db-user', 'x"; drop role postgres; --'], /may only contain/, '--db-user'],
    [['--port', 'abc'], /--port must be a number/, '--port'],
    [['--provider', 'nope'], /Unknown provider/, '--provider'],
    [['--driver', 'psycopg2'], /Unknown driver/, '--driver'],
    [['--frobnicate'], /Unknown option '--frobnicate'/, '--help'],
  ])('%j exits 2 and names the flag', async (args, message, flag) => {
    const r = await runCli(args as string[], { cwd: project('bad') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(flag);
  });

  test('an unreachable server names host:port and suggests a provider', async () => {
    const r = await runCli(['--provider', 'existing', '--host', '127.0.0.1', '--port', '1'], { cwd: project('nowhere') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('127.0.0.1:1');
    expect(r.stderr).toMatch(/--provider/);
  });
});
