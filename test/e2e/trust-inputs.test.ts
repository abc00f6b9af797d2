import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { useClusterSuite } from '../helpers/suite.js';
import { runCli } from '../helpers/cli.js';
import { countObjects, envUrl, leftovers, sqlAs, urlPassword } from '../helpers/pg.js';
import { ENV_CASES, NAME_CASES, byId, caseTitle } from './fault-cases.js';
import { quoteIdent, quoteLiteral } from '../../src/db/ident.js';

const suite = useClusterSuite();
const project = suite.project;
const base = suite.base;
const allNames = async () => sqlAs(suite.cluster().adminUrl, 'select (select count(*) from pg_roles)::int as r, (select count(*) from pg_database)::int as d');

describe('hostile names are refused before any SQL runs', () => {
  test.each(NAME_CASES.map((c) => [caseTitle(c), c] as const))('%s', async (_t, c) => {
    const before = await allNames();
    const r = await runCli([...base(), c.flag, c.value], { cwd: project('names') });
    expect(r.code, r.all).toBe(c.exit);
    expect(r.stderr).toMatch(c.message);
    expect(r.stderr).toContain(c.flag);
    expect(await allNames()).toEqual(before);
  });

  test('quoteIdent and quoteLiteral round-trip hostile strings on a real server and never run a second statement', async () => {
    const hostile = ['a"b', "a'b", 'a;b', 'a\\b', "x'); DROP ROLE postgres; --", 'x"; DROP ROLE postgres; --', 'café 😀', 'select', '$$ $x$', '\\\'; SELECT 1; --'];
    for (const s of hostile) {
      expect(await sqlAs(suite.cluster().adminUrl, `SELECT ${quoteLiteral(s)} AS v`)).toEqual([{ v: s }]);
      const name = s.slice(0, 60);
      await sqlAs(suite.cluster().adminUrl, `CREATE ROLE ${quoteIdent(name)} NOLOGIN`);
      expect(await sqlAs(suite.cluster().adminUrl, `SELECT rolname FROM pg_roles WHERE rolname = ${quoteLiteral(name)}`)).toEqual([{ rolname: name }]);
      await sqlAs(suite.cluster().adminUrl, `DROP ROLE ${quoteIdent(name)}`);
    }
    expect(await sqlAs(suite.cluster().adminUrl, "select count(*)::int as n from pg_roles where rolname = 'postgres'")).toEqual([{ n: 1 }]);
  });
});

describe('.env in every shape: preserved exactly, or a clear error and nothing changed', () => {
  const line = (dir: string, eol = '\n') => `DATABASE_URL="${envUrl(dir)}"${eol}`;
  const okCases = ENV_CASES.filter((c) => ['E01', 'E03', 'E04'].includes(c.id));
  test.each(okCases.map((c) => [caseTitle(c), c] as const))('%s', async (_t, c) => {
    const dir = project(`env_${c.id.toLowerCase()}`);
    writeFileSync(join(dir, '.env'), c.content as string);
    const r = await runCli([...base(), ...(c.args ?? [])], { cwd: dir });
    expect(r.code, r.all).toBe(c.exit);
    const eol = c.content?.includes('\r\n') ? '\r\n' : '\n';
    const sep = c.content?.endsWith('\n') ? '' : eol;
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`${c.content}${sep}${line(dir, eol)}`);
    expect(await sqlAs(envUrl(dir) as string, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  test(caseTitle(byId('E02')), async () => {
    const dir = project('env_export');
    writeFileSync(join(dir, '.env'), 'export DATABASE_URL=sqlite:///./app.db\nOTHER=1\n');
    const r = await runCli([...base(), '--overwrite-env'], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`export ${line(dir)}OTHER=1\n`);
    expect(readdirSync(join(dir, '.pg-setup', 'backups'))).toHaveLength(1);
  });

  test(caseTitle(byId('E05')), async () => {
    const dir = project('env_dup');
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=sqlite:///a.db\nX=1\nDATABASE_URL=sqlite:///b.db\n');
    const r = await runCli([...base(), '--overwrite-env'], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(r.stderr + r.stdout).toMatch(/set more than once/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`DATABASE_URL=sqlite:///a.db\nX=1\n${line(dir)}`);
  });

  test(caseTitle(byId('E06')), async () => {
    const dir = project('env_link');
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'app.env'), 'A=1\n');
    symlinkSync('conf/app.env', join(dir, '.env'));
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(lstatSync(join(dir, '.env')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'conf', 'app.env'), 'utf8')).toMatch(/^A=1\nDATABASE_URL="postgresql\+psycopg:\/\/env_link_user:/);
  });

  test(caseTitle(byId('E07')), async () => {
    const dir = project('env_ro');
    writeFileSync(join(dir, '.env'), 'A=1\n');
    chmodSync(join(dir, '.env'), 0o444);
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(6);
    expect(r.stderr).toMatch(/read-only/);
    expect(r.stderr).toMatch(/chmod u\+w/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('A=1\n');
    expect(await countObjects(suite.cluster().adminUrl, 'env_ro_user', 'env_ro')).toEqual({ roles: 0, dbs: 0 });
  });

  test(caseTitle(byId('E08')), async () => {
    const dir = project('env_dir');
    mkdirSync(join(dir, '.env'));
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(6);
    expect(r.stderr).toMatch(/is a directory/);
    expect(await countObjects(suite.cluster().adminUrl, 'env_dir_user', 'env_dir')).toEqual({ roles: 0, dbs: 0 });
  });

  const canMount = process.getuid?.() === 0;
  test.skipIf(!canMount)(caseTitle(byId('E09')), async (ctx) => {
    const dir = project('env_full');
    const mnt = join(dir, '..', 'tiny');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    } catch {
      return ctx.skip('mount -t tmpfs is not permitted here');
    }
    try {
      const envFile = join(mnt, '.env');
      writeFileSync(envFile, 'KEEP=me\n');
      // Fill the filesystem to the last byte.
      try {
        writeFileSync(join(mnt, 'filler'), Buffer.alloc(128 * 1024));
      } catch {
        /* ENOSPC: full, as intended */
      }
      const r = await runCli([...base(), '--env-file', envFile], { cwd: dir });
      expect(r.code, r.all).toBe(6);
      expect(r.stderr).toMatch(/disk is full/);
      expect(readFileSync(envFile, 'utf8')).toBe('KEEP=me\n');
      expect(leftovers(mnt)).toEqual([]);
      execFileSync('rm', ['-f', join(mnt, 'filler')]);
      const again = await runCli([...base(), '--env-file', envFile], { cwd: dir });
      expect(again.code, again.all).toBe(0);
      expect(readFileSync(envFile, 'utf8')).toMatch(/^KEEP=me\nDATABASE_URL="postgresql/);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('secrets never reach argv, output, JSON or errors', () => {
  test(caseTitle(byId('S01')), async () => {
    const dir = project('sec_full');
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const trace = join(dir, '..', 'trace.jsonl');
    const appPw = 'app-secret-pw-0123456789';
    const r = await runCli([...base(), '--db-password', appPw, '--json'], { cwd: dir, env: { PGSETUP_TRACE_EXEC: trace } });
    expect(r.code, r.all).toBe(0);
    const argvs = readFileSync(trace, 'utf8');
    expect(argvs).toMatch(/"git"/); // the trace really recorded children
    for (const s of [appPw, encodeURIComponent(appPw), suite.cluster().superPassword]) {
      expect(argvs).not.toContain(s);
      expect(r.all).not.toContain(s);
    }
    expect(JSON.parse(r.stdout).url).toMatch(/:\*\*\*\*@/);
    const d = await runCli(['doctor', '--json'], { cwd: dir, env: { PGSETUP_TRACE_EXEC: trace } });
    expect(d.all).not.toContain(appPw);
    expect(readFileSync(trace, 'utf8')).not.toContain(appPw);
  });

  test(caseTitle(byId('S02')), async () => {
    const dir = project('sec_dry');
    const appPw = 'dry-secret-pw-0123456789';
    const r = await runCli([...base(), '--dry-run', '--json', '--db-password', appPw], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(r.all).not.toContain(appPw);
    expect(r.all).not.toContain(suite.cluster().superPassword);
  });

  test(caseTitle(byId('S03')), async () => {
    const dir = project('sec_err');
    const bad = `postgres://postgres:${encodeURIComponent('wrong-super-pw-987')}@127.0.0.1:${suite.cluster().port}/postgres`;
    const r = await runCli(['--provider', 'existing', '--admin-url', bad, '--port', String(suite.cluster().port), '--db-password', 'app-pw-in-error-1', '--json'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.all).not.toContain('wrong-super-pw-987');
    expect(r.all).not.toContain('app-pw-in-error-1');
    expect(JSON.parse(r.stdout).error.exitCode).toBe(4);
  });
});

test(caseTitle(byId('Q01')), async () => {
  const dir = project('thrice');
  execFileSync('git', ['init', '-q'], { cwd: dir });
  const files = ['.env', '.env.example', '.gitignore', '.pg-setup/state.json'];
  const snapshots: Buffer[][] = [];
  const verifiers: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await runCli(base(), { cwd: dir });
    expect(r.code, r.all).toBe(0);
    if (i > 0) expect(r.all).toContain('nothing changed');
    snapshots.push(files.map((f) => readFileSync(join(dir, f))));
    verifiers.push(await sqlAs(suite.cluster().adminUrl, "select rolpassword from pg_authid where rolname = 'thrice_user'"));
  }
  expect(snapshots[1]).toEqual(snapshots[0]);
  expect(snapshots[2]).toEqual(snapshots[0]);
  expect(verifiers[1]).toEqual(verifiers[0]);
  expect(verifiers[2]).toEqual(verifiers[0]);
  expect(await countObjects(suite.cluster().adminUrl, 'thrice_user', 'thrice')).toEqual({ roles: 1, dbs: 1 });
  expect(urlPassword(envUrl(dir) as string)).toHaveLength(32);
  expect(existsSync(join(dir, '.pg-setup', 'lock'))).toBe(false);
  expect(JSON.parse(readFileSync(join(dir, '.pg-setup/state.json'), 'utf8')).servers[`127.0.0.1:${suite.cluster().port}`]).toMatchObject({ roles: ['thrice_user'], databases: ['thrice'] });
});
