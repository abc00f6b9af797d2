import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run, which } from '../../src/io/exec.js';
import { createBrewProvider } from '../../src/providers/brew.js';
import { freePort } from '../helpers/cluster.js';
import { providerOptions, runSteps } from '../helpers/provider-options.js';

// Homebrew is contract-tested against test/helpers/fake-brew/brew, put first on PATH.
const fakeBrewDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'fake-brew');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pgsetup-brew-'));
  chmodSync(root, 0o755);
  process.env.FAKE_BREW_ROOT = root;
  process.env.PATH = `${fakeBrewDir}:${process.env.PATH}`;
});

afterAll(async () => {
  const list = await run('brew', ['services', 'list', '--json'], { reject: false });
  for (const s of JSON.parse(list.stdout || '[]') as { name: string }[]) await run('brew', ['services', 'stop', s.name], { reject: false });
  rmSync(root, { recursive: true, force: true });
});

describe('brew provider against a stand-in brew', () => {
  let port: number;

  test('installs postgresql@18 (keg-only, not on PATH), starts it, and provisions as the current OS user', async () => {
    port = await freePort();
    process.env.FAKE_BREW_PORT = String(port);
    const provider = createBrewProvider(providerOptions({ port }));
    expect(await provider.detect()).toMatchObject({ state: 'can-install', detail: 'brew install postgresql@18' });

    const results = await runSteps(provider.steps());
    // `brew services start` returns before the server is up; the readiness step may or may not wait.
    expect(results.map((r) => r.status).slice(0, 2)).toEqual(['done', 'done']);
    expect(results[1]!.detail).toBe(`started postgresql@18 on port ${port}`);

    // The keg's binaries are used without being on PATH.
    const kegPsql = join(root, 'opt', 'postgresql@18', 'bin', 'psql');
    expect(which('psql')).not.toBe(kegPsql);
    const admin = await provider.admin();
    expect(admin.via).toBe(`psql as ${userInfo().username} over the unix socket (port ${port})`);
    expect(await admin.query('select current_user as u')).toEqual([{ u: userInfo().username }]);

    await admin.query(`CREATE ROLE brew_app LOGIN PASSWORD 'brew-app-pw'`);
    await admin.query(`CREATE DATABASE brew_app OWNER brew_app`);
    const client = new pg.Client({ ...provider.endpoint(), user: 'brew_app', password: 'brew-app-pw', database: 'brew_app' });
    await client.connect();
    expect((await client.query('select current_database() as d')).rows[0].d).toBe('brew_app');
    await client.end();
  });

  test('a second run finds the running service and changes nothing', async () => {
    const provider = createBrewProvider(providerOptions({ port: 'auto' }));
    expect(await provider.detect()).toMatchObject({ state: 'running', version: '18.0' });
    const results = await runSteps(provider.steps());
    expect(results.every((r) => r.status === 'present')).toBe(true);
    expect(provider.endpoint().port).toBe(port);
  });

  test('a --port the formula is not configured for is refused with the port to use', async () => {
    const provider = createBrewProvider(providerOptions({ port: port + 1 }));
    await expect(runSteps(provider.steps())).rejects.toMatchObject({
      message: `postgresql@18 is configured for port ${port}, not ${port + 1}.`,
      hint: expect.stringContaining(`--port ${port}`),
    });
  });

  test('another postgresql@M already running on the port is named, with the choices', async () => {
    const shared = await freePort();
    process.env.FAKE_BREW_PORT = String(shared);
    await run('brew', ['install', 'postgresql@16']);
    await run('brew', ['install', 'postgresql@17']);
    await run('brew', ['services', 'start', 'postgresql@16']);

    const provider = createBrewProvider(providerOptions({ port: shared, pgVersion: '17' }));
    expect(await provider.detect()).toMatchObject({
      state: 'stopped',
      detail: `postgresql@17 17.0 on port ${shared} is stopped; postgresql@16 already runs on that port`,
    });
    const err = await runSteps(provider.steps()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      message: `postgresql@16 is already running on port ${shared}.`,
      hint: expect.stringMatching(/--provider existing.*brew services stop postgresql@16.*--pg-version 16/),
    });
  });
});
