/**
 * `--provider local` as root with the project in a private folder (mode 0700, as /root/app or
 * a `mktemp -d` folder are): PostgreSQL refuses to run as root and runs as the `postgres` OS
 * user, which cannot enter the project, so the server's files live in
 * /var/lib/pg-setup/<project>-<hash>/ (recorded in .pg-setup/local.json), and every command
 * finds them there again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { relocatedServerDir, SHARED_SERVER_ROOT } from '../../src/providers/local/cluster.js';
import { runCli } from '../helpers/cli.js';
import { freePort, pgBinDir } from '../helpers/cluster.js';
import { sqlAs } from '../helpers/sql.js';

const isRoot = process.getuid?.() === 0;
const made: { dir: string; parent: string }[] = [];

afterAll(async () => {
  for (const { dir, parent } of made) {
    await runCli(['stop'], { cwd: dir, env: { PGSETUP_LOCAL_BINARIES: pgBinDir() } }).catch(() => undefined);
    const server = relocatedServerDir(dir);
    // Anything still running there (a failed test) is stopped directly before its folder goes.
    if (existsSync(join(server, 'data', 'postmaster.pid')))
      spawnSync('runuser', ['-u', 'postgres', '--', join(pgBinDir(), 'pg_ctl'), '-D', join(server, 'data'), '-m', 'immediate', '-w', 'stop']);
    rmSync(server, { recursive: true, force: true });
    rmSync(parent, { recursive: true, force: true });
  }
});

/** A project inside a fresh `mktemp -d` folder, which stays 0700 and root's. */
function privateProject(name: string): string {
  const parent = mkdtempSync(join(tmpdir(), 'pgsetup-private-'));
  const dir = join(parent, name);
  mkdirSync(dir, { mode: 0o700 });
  made.push({ dir, parent });
  expect(statSync(parent).mode & 0o777).toBe(0o700);
  return dir;
}

function databaseUrl(dir: string): string {
  const m = /^DATABASE_URL="(.*)"$/m.exec(readFileSync(join(dir, '.env'), 'utf8'));
  if (!m?.[1]) throw new Error('no DATABASE_URL in .env');
  return m[1];
}

const state = (dir: string) => JSON.parse(readFileSync(join(dir, '.pg-setup', 'local.json'), 'utf8')) as { port: number; dataDir: string; serverDir?: string };

describe.runIf(isRoot)('--provider local as root in a private folder', () => {
  const cli = (dir: string, args: string[]) => runCli(args, { cwd: dir, env: { PGSETUP_LOCAL_BINARIES: pgBinDir() }, timeoutMs: 200_000 });

  test('gets a working cluster kept under /var/lib/pg-setup, and says so; stop, status, start and re-runs find it with its data', async () => {
    const dir = privateProject('ledger');
    const first = await cli(dir, ['--provider', 'local', '--non-interactive']);
    expect(first.code, first.all).toBe(0);
    expect(first.all).not.toContain('a parent folder is private');
    const server = relocatedServerDir(dir);
    expect(server).toMatch(new RegExp(`^${SHARED_SERVER_ROOT}/ledger-[0-9a-f]{12}$`));
    expect(first.all).toContain(`data in ${server}, because the OS user postgres that runs PostgreSQL cannot enter ${dir}`);
    const s = state(dir);
    expect(s).toMatchObject({ serverDir: server, dataDir: join(server, 'data') });
    const pgUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    expect(statSync(join(server, 'data')).uid).toBe(pgUid);
    expect(statSync(join(server, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(server).mode & 0o777).toBe(0o700);
    // The superuser password stays in the private project folder, readable by root only.
    expect(statSync(join(dir, '.pg-setup', 'superuser-password')).mode & 0o777).toBe(0o600);

    const url = databaseUrl(dir);
    expect(url).toContain(`@127.0.0.1:${s.port}/ledger`);
    await sqlAs(url, "create table entries (id int primary key, memo text); insert into entries values (1, 'kept')");

    const again = await cli(dir, ['--provider', 'local']);
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('Everything is already in place; nothing changed.');

    expect((await cli(dir, ['stop'])).all).toContain('PostgreSQL stopped');
    const stopped = await cli(dir, ['status', '--json']);
    expect(stopped.code, stopped.all).toBe(3);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ state: 'stopped', port: s.port });
    await expect(sqlAs(url, 'select 1')).rejects.toThrow();

    const start = await cli(dir, ['start']);
    expect(start.code, start.all).toBe(0);
    expect(start.all).toContain(`PostgreSQL is running on 127.0.0.1:${s.port}.`);
    const status = await cli(dir, ['status']);
    expect(status.code, status.all).toBe(0);
    expect(status.stdout).toContain(join(server, 'data'));
    expect(await sqlAs(url, 'select memo from entries')).toEqual([{ memo: 'kept' }]);

    // A setup re-run starts a stopped cluster again; the URL stays valid and the row is there.
    expect((await cli(dir, ['stop'])).code).toBe(0);
    const rerun = await cli(dir, []);
    expect(rerun.code, rerun.all).toBe(0);
    expect(rerun.all).toMatch(/Start PostgreSQL on 127\.0\.0\.1: started on port \d+/);
    expect(await sqlAs(url, 'select memo from entries')).toEqual([{ memo: 'kept' }]);
    expect(existsSync(join(dir, '.pg-setup', 'data'))).toBe(false);

    // Teardown finds the cluster there too, and drops what setup made in it.
    const down = await cli(dir, ['teardown', '--yes']);
    expect(down.code, down.all).toBe(0);
    const superPw = readFileSync(join(dir, '.pg-setup', 'superuser-password'), 'utf8').trim();
    const admin = `postgresql://postgres:${superPw}@127.0.0.1:${s.port}/postgres`;
    expect(await sqlAs(admin, "select count(*)::int as n from pg_database where datname = 'ledger'")).toEqual([{ n: 0 }]);
  });

  test('two private projects never share a data folder or a port, even while the first is stopped', async () => {
    const a = privateProject('alpha');
    // A numbered port: were alpha to land on 5432, `--port 5432` below would mean the default
    // (the first free port from 5432) and could not ask for alpha's port by number.
    expect((await cli(a, ['--provider', 'local', '--port', String(await freePort())])).code).toBe(0);
    expect((await cli(a, ['stop'])).code).toBe(0);
    const b = privateProject('beta');
    const rb = await cli(b, ['--provider', 'local']);
    expect(rb.code, rb.all).toBe(0);
    expect(state(b).serverDir).not.toBe(state(a).serverDir);
    expect(state(b).port).not.toBe(state(a).port);
    // Asking for the stopped project's port by number is refused, naming whose it is.
    const c = privateProject('gamma');
    const rc = await cli(c, ['--provider', 'local', '--port', String(state(a).port)]);
    expect(rc.code, rc.all).toBe(3);
    expect(rc.all).toContain(`Port ${state(a).port} belongs to another project's local cluster (${state(a).serverDir}), even while it is stopped.`);
    const ra = await cli(a, ['start']);
    expect(ra.code, ra.all).toBe(0);
    expect(await sqlAs(databaseUrl(a), 'select current_user as u')).toEqual([{ u: 'alpha_user' }]);
    expect(await sqlAs(databaseUrl(b), 'select current_user as u')).toEqual([{ u: 'beta_user' }]);
  });
});
