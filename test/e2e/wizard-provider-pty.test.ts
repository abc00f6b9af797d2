/**
 * The wizard's provider question at a real terminal: the detection table comes first, the
 * select lists each usable option with its state and a recommended default, and the choice
 * (Docker, against the stand-in engine) drives the run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, ROOT, tempProject } from '../helpers/cli.js';
import { freePort } from '../helpers/cluster.js';
import { startDockerStandin, type DockerStandin } from '../helpers/docker-standin.js';
import { tempDir } from '../helpers/python-project.js';

let engine: DockerStandin;
let cleanup: () => void = () => undefined;
beforeAll(async () => {
  engine = await startDockerStandin();
});
afterAll(async () => {
  cleanup();
  await engine?.close();
});

test('the wizard shows what the machine has, offers each usable provider, and runs the one picked', async () => {
  const p = tempProject('pickme');
  cleanup = p.cleanup;
  const port = await freePort();
  const spec = {
    argv: [process.execPath, BIN, '--port', String(port), '--pg-version', '17'],
    cwd: p.dir,
    env: { NO_COLOR: '1', DOCKER_HOST: `unix://${engine.socketPath}` },
    timeout: 90,
    steps: [
      ['Which PostgreSQL should this project use\\?', { choose: 'docker' }],
      ['Database name', '\r'],
      ['Database user', '\r'],
      ['Password for that role', '\r'],
    ],
  };
  // Asynchronously: the stand-in engine answers from this process's event loop.
  const { stdout: out } = await promisify(execFile)('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' });
  const result = JSON.parse(out) as { code: number | null; output: string; waiting_for?: string };
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  // The table, then the provider question first, then the names.
  expect(result.output).toMatch(/Provider\s+State\s+Details[\s\S]*docker\s+can install[\s\S]*Which PostgreSQL should this project use\?[\s\S]*Database name/);
  expect(result.output.indexOf('Which PostgreSQL')).toBeLessThan(result.output.indexOf('Database name'));
  expect(result.output).toMatch(/docker \(can-install\)/);
  expect(result.output).toMatch(/- recommended/);
  expect(engine.requests).toContain('POST /containers/create');
  const url = /DATABASE_URL="([^"]+)"/.exec(readFileSync(join(p.dir, '.env'), 'utf8'))![1]!;
  const c = new pg.Client({ connectionString: url.replace('postgresql+psycopg', 'postgresql') });
  await c.connect();
  expect((await c.query('select current_user as u')).rows[0].u).toBe('pickme_user');
  await c.end();
});

test('one server is one row: a Homebrew service answering on the port is not offered again as `existing`', async () => {
  // Homebrew is the stand-in (test/helpers/fake-brew), first on PATH: its service is a real cluster on `port`.
  const fakeBrewDir = join(ROOT, 'test', 'helpers', 'fake-brew');
  const brewRoot = tempDir('pgsetup-wizard-brew-');
  chmodSync(brewRoot, 0o755);
  const port = await freePort();
  const brewEnv = { FAKE_BREW_ROOT: brewRoot, FAKE_BREW_PORT: String(port), PATH: `${fakeBrewDir}:${process.env.PATH}` };
  const brew = (args: string[]) => execFileSync('brew', args, { env: { ...process.env, ...brewEnv }, encoding: 'utf8' });
  brew(['install', 'postgresql@18']);
  brew(['services', 'start', 'postgresql@18']);
  const p = tempProject('onerow');
  try {
    const spec = {
      argv: [process.execPath, BIN, '--port', String(port)],
      cwd: p.dir,
      env: { NO_COLOR: '1', DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...brewEnv },
      timeout: 90,
      steps: [
        ['Which PostgreSQL should this project use\\?', '\r'],
        ['Database name', '\r'],
        ['Database user', '\r'],
        ['Password for that role', '\r'],
      ],
    };
    const { stdout: out } = await promisify(execFile)('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' });
    const result = JSON.parse(out) as { code: number | null; output: string; screens: string[]; waiting_for?: string };
    expect(result.waiting_for, result.output).toBeUndefined();
    expect(result.code, result.output).toBe(0);
    const first = result.screens[0]!;
    // The table: brew's row says it is the server on the port; no `existing (running)` row for the same server.
    expect(first).toMatch(new RegExp(`^brew \\*\\s+running\\s+postgresql@18 18\\.0 on port ${port} is running; it is the server answering on port ${port}$`, 'm'));
    expect(first).not.toMatch(/^existing\b/m);
    expect(first).not.toMatch(/existing \(running\)/);
    // The menu: each server once, the recommended one preselected.
    expect(first).toMatch(/❯ brew \(running\) - recommended/);
    expect(first.match(/^[❯ ] \w+ \(running\)/gm)).toHaveLength(1);
    expect(result.output).toMatch(new RegExp(`server {4}brew, \\S+:${port}\\n`));
    const url = /DATABASE_URL="([^"]+)"/.exec(readFileSync(join(p.dir, '.env'), 'utf8'))![1]!;
    const c = new pg.Client({ connectionString: url.replace('postgresql+psycopg', 'postgresql') });
    await c.connect();
    expect((await c.query('select current_user as u')).rows[0].u).toBe('onerow_user');
    await c.end();
  } finally {
    brew(['services', 'stop', 'postgresql@18']);
    p.cleanup();
  }
});
