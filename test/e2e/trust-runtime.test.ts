import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { useClusterSuite } from '../helpers/suite.js';
import { startCluster } from '../helpers/cluster.js';
import { runCli, startCli } from '../helpers/cli.js';
import { countObjects, envUrl, leftovers, sqlAs } from '../helpers/pg.js';
import { INTERRUPT_CASES, byId, caseTitle } from './fault-cases.js';

const suite = useClusterSuite();
const project = suite.project;
const base = suite.base;
const PAUSED = /\[test hook\] paused at/;
/** The hook module the built CLI loads for these tests (never shipped). */
const TEST_HOOKS = fileURLToPath(new URL('../helpers/test-hooks.mjs', import.meta.url));
const pauseAt = (at: string, ms = 30_000) => ({ PGSETUP_TEST_HOOKS: TEST_HOOKS, PGSETUP_TEST_PAUSE_AT: at, PGSETUP_TEST_PAUSE_MS: String(ms) });

describe('SIGINT at each step: exit 130, nothing half-done, the re-run completes', () => {
  test.each(INTERRUPT_CASES.map((c, i) => [caseTitle(c), c, i] as const))('%s', async (_t, c, i) => {
    const name = `intr_${i}`;
    const dir = project(name);
    execFileSync('git', ['init', '-q'], { cwd: dir });
    if (c.existingEnv) writeFileSync(join(dir, '.env'), c.existingEnv);
    const run = startCli(base(), { cwd: dir, env: pauseAt(c.at) });
    await run.waitFor(PAUSED);
    run.signal('SIGINT');
    const r = await run.done;
    expect(r.code, r.all).toBe(130);
    expect(leftovers(dir)).toEqual([]);
    if (c.existingEnv) expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(c.existingEnv);
    else if (existsSync(join(dir, '.env'))) expect(envUrl(dir)).toMatch(/^postgresql\+psycopg:\/\//);

    const again = await runCli(base(), { cwd: dir });
    expect(again.code, again.all).toBe(0);
    expect(await countObjects(suite.cluster().adminUrl, `${name}_user`, name)).toEqual({ roles: 1, dbs: 1 });
    expect(await sqlAs(envUrl(dir) as string, 'select current_user as u')).toEqual([{ u: `${name}_user` }]);
    if (c.existingEnv) expect(readFileSync(join(dir, '.env'), 'utf8').startsWith(c.existingEnv)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('two runs on one project', () => {
  test(caseTitle(byId('C01')), async () => {
    const dir = project('lock_short');
    const first = startCli(base(), { cwd: dir, env: pauseAt('Create database', 4000) });
    await first.waitFor(PAUSED);
    const second = await runCli(base(), { cwd: dir, env: { PGSETUP_LOCK_WAIT_MS: '300' } });
    expect(second.code, second.all).toBe(7);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect((await first.done).code).toBe(0);
    expect(await countObjects(suite.cluster().adminUrl, 'lock_short_user', 'lock_short')).toEqual({ roles: 1, dbs: 1 });
  });

  test(caseTitle(byId('C02')), async () => {
    const dir = project('lock_wait');
    const first = startCli(base(), { cwd: dir, env: pauseAt('Create role', 2000) });
    await first.waitFor(PAUSED);
    const second = startCli(base(), { cwd: dir, env: { PGSETUP_LOCK_WAIT_MS: '60000' } });
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(a.code, a.all).toBe(0);
    expect(b.code, b.all).toBe(0);
    expect(b.all).toContain('nothing changed');
    expect(await countObjects(suite.cluster().adminUrl, 'lock_wait_user', 'lock_wait')).toEqual({ roles: 1, dbs: 1 });
    expect(await sqlAs(envUrl(dir) as string, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  test(caseTitle(byId('C03')), async () => {
    const dir = project('lock_stale');
    mkdirSync(join(dir, '.pg-setup'));
    // A pid far above pid_max is never alive.
    writeFileSync(join(dir, '.pg-setup', 'lock'), JSON.stringify({ pid: 2 ** 30, startedAt: '2020-01-01T00:00:00Z', command: 'setup' }));
    const r = await runCli(base(), { cwd: dir, env: { PGSETUP_LOCK_WAIT_MS: '300' } });
    expect(r.code, r.all).toBe(0);
    expect(existsSync(join(dir, '.pg-setup', 'lock'))).toBe(false);
  });
});

describe('faults', () => {
  test(caseTitle(byId('F01')), async () => {
    const dir = project('srv_stop');
    const run = startCli([...base(), '--db-password', 'stop-secret-pw-1'], { cwd: dir, env: pauseAt('Create database', 3000) });
    await run.waitFor(PAUSED);
    suite.cluster().stopKeep();
    let r;
    try {
      r = await run.done;
    } finally {
      suite.cluster().start();
    }
    expect(r.code, r.all).toBe(3);
    expect(r.stderr).toMatch(/connection to PostgreSQL was lost/);
    expect(r.stderr).toMatch(/run pg-setup again/);
    expect(r.all).not.toContain('stop-secret-pw-1');
    expect(r.all).not.toContain(suite.cluster().superPassword);
    expect(leftovers(dir)).toEqual([]);
    const again = await runCli(base(), { cwd: dir });
    expect(again.code, again.all).toBe(0);
    expect(await countObjects(suite.cluster().adminUrl, 'srv_stop_user', 'srv_stop')).toEqual({ roles: 1, dbs: 1 });
  });

  test(caseTitle(byId('F02')), async () => {
    const bad = `postgres://postgres:not-the-password@127.0.0.1:${suite.cluster().port}/postgres`;
    const r = await runCli(['--provider', 'existing', '--admin-url', bad, '--port', String(suite.cluster().port)], { cwd: project('bad_admin') });
    expect(r.code, r.all).toBe(4);
    expect(r.stderr).toMatch(/admin credentials were rejected/);
    expect(r.stderr).toContain('--admin-url');
    expect(r.all).not.toContain('not-the-password');
  });

  test(caseTitle(byId('F03')), async () => {
    const hba = await startCluster({ hbaPrepend: ['host all hba_user 127.0.0.1/32 reject'] });
    try {
      const dir = project('hba');
      const args = ['--provider', 'existing', '--admin-url', hba.adminUrl, '--host', '127.0.0.1', '--port', String(hba.port), '--db-user', 'hba_user', '--db-password', 'hba-secret-pw-1'];
      const r = await runCli(args, { cwd: dir });
      expect(r.code, r.all).toBe(4);
      expect(r.stderr).toMatch(/pg_hba\.conf/);
      expect(r.stderr).toMatch(/host hba hba_user 127\.0\.0\.1\/32 scram-sha-256/);
      expect(r.all).not.toContain('hba-secret-pw-1');
      expect(existsSync(join(dir, '.env'))).toBe(false);
      // Nothing lost: the same clear error again, and what was created is recorded for teardown.
      const again = await runCli(args, { cwd: dir });
      expect(again.code).toBe(4);
      expect(JSON.parse(readFileSync(join(dir, '.pg-setup', 'state.json'), 'utf8')).servers[`127.0.0.1:${hba.port}`].roles).toEqual(['hba_user']);
    } finally {
      hba.stop();
    }
  });

  test(caseTitle(byId('F04')), async () => {
    const r = await runCli(['--provider', 'existing', '--host', '127.0.0.1', '--port', '1'], { cwd: project('nowhere') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('127.0.0.1:1');
    expect(r.stderr).toContain('--provider');
  });
});
