import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { useClusterSuite } from '../helpers/suite.js';
import { ROOT, BIN, runCli } from '../helpers/cli.js';
import { countObjects, envUrl, sqlAs } from '../helpers/pg.js';
import { byId, caseTitle } from './fault-cases.js';

const suite = useClusterSuite();
const project = suite.project;
const base = suite.base;
const admin = () => ['--admin-url', suite.cluster().adminUrl];

async function setUp(name: string, extra: string[] = []): Promise<string> {
  const dir = project(name);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  writeFileSync(join(dir, '.env'), 'SECRET_KEY=abc\n');
  const r = await runCli([...base(), ...extra], { cwd: dir });
  expect(r.code, r.all).toBe(0);
  return dir;
}

describe('teardown drops only what pg-setup created', () => {
  test(caseTitle(byId('T01')), async () => {
    const dir = await setUp('td_all');
    const pw = new URL((envUrl(dir) as string).replace(/^[^:]+:/, 'http:')).password;
    const r = await runCli(['teardown', '--yes', ...admin()], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(r.all).not.toContain(pw);
    expect(await countObjects(suite.cluster().adminUrl, 'td_all_user', 'td_all')).toEqual({ roles: 0, dbs: 0 });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('SECRET_KEY=abc\n');
    const stamps = readdirSync(join(dir, '.pg-setup', 'backups'));
    expect(readFileSync(join(dir, '.pg-setup', 'backups', stamps[0] as string, '.env'), 'utf8')).toMatch(/DATABASE_URL=/);
    expect(JSON.parse(readFileSync(join(dir, '.pg-setup', 'state.json'), 'utf8')).servers).toEqual({});
    // Setup works again afterwards.
    expect((await runCli(base(), { cwd: dir })).code).toBe(0);
  });

  test(caseTitle(byId('T02')), async () => {
    const dir = await setUp('td_noyes');
    const r = await runCli(['teardown', ...admin()], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(await countObjects(suite.cluster().adminUrl, 'td_noyes_user', 'td_noyes')).toEqual({ roles: 1, dbs: 1 });
    // --dry-run shows the plan and drops nothing.
    const dry = await runCli(['teardown', '--dry-run', ...admin()], { cwd: dir });
    expect(dry.code, dry.all).toBe(0);
    expect(dry.all).toContain('DROP DATABASE "td_noyes"');
    expect(await countObjects(suite.cluster().adminUrl, 'td_noyes_user', 'td_noyes')).toEqual({ roles: 1, dbs: 1 });
  });

  test(caseTitle(byId('T03')), async () => {
    await sqlAs(suite.cluster().adminUrl, "create role td_theirs_user login password 'theirs-pw-123'");
    await sqlAs(suite.cluster().adminUrl, 'create database td_theirs owner td_theirs_user');
    const dir = await setUp('td_theirs', ['--db-password', 'theirs-pw-123']);
    const envBefore = readFileSync(join(dir, '.env'));
    const r = await runCli(['teardown', '--yes', ...admin()], { cwd: dir });
    expect(r.code, r.all).toBe(2);
    expect(r.stderr).toMatch(/did not create database "td_theirs" or role "td_theirs_user"/);
    expect(await countObjects(suite.cluster().adminUrl, 'td_theirs_user', 'td_theirs')).toEqual({ roles: 1, dbs: 1 });
    // A refused teardown touches nothing: the env file keeps every byte.
    expect(readFileSync(join(dir, '.env'))).toEqual(envBefore);
    expect(envUrl(dir)).toMatch(/td_theirs_user/);
  });

  test(caseTitle(byId('T04')), async () => {
    await sqlAs(suite.cluster().adminUrl, "create role td_mixed_user login password 'mixed-pw-123'");
    const dir = await setUp('td_mixed', ['--db-password', 'mixed-pw-123']);
    const r = await runCli(['teardown', '--yes', ...admin()], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(r.all).toMatch(/Keeping role td_mixed_user: it existed before pg-setup/);
    expect(await countObjects(suite.cluster().adminUrl, 'td_mixed_user', 'td_mixed')).toEqual({ roles: 1, dbs: 0 });
  });

  test(caseTitle(byId('T05')), async () => {
    const dir = await setUp('td_typed');
    const drive = (typed: string) => {
      const spec = {
        argv: [process.execPath, BIN, 'teardown', ...admin()],
        cwd: dir,
        env: { NO_COLOR: '1' },
        timeout: 60,
        steps: [['Type the database name \\(td_typed\\)', `${typed}\r`]],
      };
      return JSON.parse(execFileSync('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' })) as { code: number; output: string };
    };
    const wrong = drive('td_typo');
    expect(wrong.code, wrong.output).toBe(2);
    expect(wrong.output).toContain('nothing was dropped');
    expect(await countObjects(suite.cluster().adminUrl, 'td_typed_user', 'td_typed')).toEqual({ roles: 1, dbs: 1 });
    const right = drive('td_typed');
    expect(right.code, right.output).toBe(0);
    expect(await countObjects(suite.cluster().adminUrl, 'td_typed_user', 'td_typed')).toEqual({ roles: 0, dbs: 0 });
  });
});

describe('doctor', () => {
  const doctor = (dir: string, env: Record<string, string | undefined> = {}) => runCli(['doctor', '--json'], { cwd: dir, env: { DATABASE_URL: undefined, ...env } });
  const status = (json: { checks: { id: string; status: string; fix?: string }[] }, id: string) => json.checks.find((c) => c.id === id);

  test(caseTitle(byId('D01')), async () => {
    const dir = await setUp('doc_ok');
    const r = await doctor(dir);
    expect(r.code, r.all).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    // An empty project has no Python code, so the Alembic checks are skipped, not failed.
    expect(json.checks.filter((c: { status: string; id: string }) => c.status !== 'pass' && !(c.status === 'skip' && ['settings-env', 'alembic', 'no-create-all'].includes(c.id)))).toEqual([]);
    expect(r.stderr).toContain('All checks passed.');
    const human = await runCli(['doctor'], { cwd: dir, env: { DATABASE_URL: undefined } });
    expect(human.stdout).toMatch(/✓ server reachable: 127\.0\.0\.1:\d+, PostgreSQL/);
  });

  test(caseTitle(byId('D02')), async () => {
    const dir = await setUp('doc_shadow');
    const r = await doctor(dir, { DATABASE_URL: 'postgresql://other:shadow-pw-1@db:5432/x' });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(status(json, 'env-not-shadowed')).toMatchObject({ status: 'fail', fix: expect.stringContaining('unset DATABASE_URL') });
    expect(r.all).not.toContain('shadow-pw-1');
  });

  test(caseTitle(byId('D03')), async () => {
    const dir = await setUp('doc_roles');
    await sqlAs(suite.cluster().adminUrl, 'alter role doc_roles_user superuser');
    await sqlAs(suite.cluster().adminUrl, 'alter database doc_roles owner to postgres');
    const json = JSON.parse((await doctor(dir)).stdout);
    expect(status(json, 'not-superuser')).toMatchObject({ status: 'fail', fix: 'As a superuser: ALTER ROLE "doc_roles_user" NOSUPERUSER;' });
    expect(status(json, 'owner')).toMatchObject({ status: 'fail', fix: 'As a superuser: ALTER DATABASE "doc_roles" OWNER TO "doc_roles_user";' });
  });

  test(caseTitle(byId('D04')), async () => {
    const dir = await setUp('doc_bad');
    const good = readFileSync(join(dir, '.env'), 'utf8');
    writeFileSync(join(dir, '.env'), good.replace(/:([A-Za-z0-9_-]{32})@/, ':wrong-password-1@'));
    let r = await doctor(dir);
    expect(r.code).toBe(1);
    expect(status(JSON.parse(r.stdout), 'login')).toMatchObject({ status: 'fail', fix: expect.stringContaining('--reset-password') });
    writeFileSync(join(dir, '.env'), good.replace(/:(\d+)\//, ':1/'));
    r = await doctor(dir);
    expect(status(JSON.parse(r.stdout), 'server')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Start') });
    writeFileSync(join(dir, '.env'), 'SECRET_KEY=abc\n');
    r = await doctor(dir);
    expect(status(JSON.parse(r.stdout), 'env-key')).toMatchObject({ status: 'fail', fix: expect.stringContaining('npx pg-setup') });
  });

  test(caseTitle(byId('D05')), async () => {
    const dir = await setUp('doc_git');
    execFileSync('git', ['add', '-f', '.env'], { cwd: dir });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    expect(status(JSON.parse(r.stdout), 'env-ignored')).toMatchObject({ status: 'fail', fix: expect.stringContaining('git rm --cached .env') });
    expect(existsSync(join(dir, '.env'))).toBe(true);
  });
});
