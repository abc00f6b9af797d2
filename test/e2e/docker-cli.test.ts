/**
 * The docker provider through the built CLI, against the real engine and registry of
 * test/helpers/docker-engine.ts: setup, re-runs (unchanged, or asking for another major or
 * port), teardown keeping the volume, a new major refused on that volume, --volumes.
 * This file uses PostgreSQL 17 only, so docker-provider.test.ts's first pull of 18 downloads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, tempProject } from '../helpers/cli.js';
import { freePort } from '../helpers/cluster.js';
import { removeContainers, useTestDocker, type TestDocker } from '../helpers/docker-engine.js';

let td: TestDocker;
const cleanups: (() => void)[] = [];
const names = ['pg-setup-dockapp', 'pg-setup-dockkeep', 'pg-setup-dockgone'];
beforeAll(async () => {
  td = await useTestDocker();
  await removeContainers(td.docker, names, names.map((n) => `${n}-data`));
}, 900_000);
afterAll(async () => {
  cleanups.forEach((c) => c());
  if (td) await removeContainers(td.docker, names, names.map((n) => `${n}-data`));
});

const env = () => ({ DOCKER_HOST: td.dockerHost });

async function setUpProject(name: string): Promise<{ dir: string; port: number }> {
  const p = tempProject(name);
  cleanups.push(p.cleanup);
  const port = await freePort();
  const r = await runCli(['--provider', 'docker', '--port', String(port), '--pg-version', '17', '--docker-image', td.repository], { cwd: p.dir, env: env() });
  expect(r.code, r.all).toBe(0);
  return { dir: p.dir, port };
}

function urlOf(dir: string): string {
  return /DATABASE_URL="([^"]+)"/.exec(readFileSync(join(dir, '.env'), 'utf8'))![1]!.replace('postgresql+psycopg', 'postgresql');
}

const volumeExists = (name: string) => td.docker.getVolume(name).inspect().then(() => true, () => false);

test('pg-setup --provider docker --docker-image pulls from the registry, creates our container and a database the app logs into; a re-run changes nothing', async () => {
  const { dir, port } = await setUpProject('dockapp');
  const info = await td.docker.getContainer('pg-setup-dockapp').inspect();
  expect(info.Config.Image).toBe(`${td.repository}:17`);
  expect(info.HostConfig.PortBindings?.['5432/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
  const c = new pg.Client({ connectionString: urlOf(dir) });
  await c.connect();
  expect((await c.query('select current_user as u, version() as v')).rows[0]).toMatchObject({ u: 'dockapp_user', v: expect.stringMatching(/^PostgreSQL 17\./) });
  await c.end();
  const envBefore = readFileSync(join(dir, '.env'));
  const again = await runCli([], { cwd: dir, env: env() });
  expect(again.code, again.all).toBe(0);
  expect(again.all).toContain('Everything is already in place; nothing changed.');
  expect(readFileSync(join(dir, '.env')).equals(envBefore)).toBe(true);
  expect((await td.docker.getContainer('pg-setup-dockapp').inspect()).State.StartedAt).toBe(info.State.StartedAt);

  // Asking for another major or another port now says what pg-setup keeps, and changes nothing.
  const major = await runCli(['--pg-version', '18'], { cwd: dir, env: env() });
  expect(major.code, major.all).toBe(2);
  expect(major.all).toMatch(new RegExp(`points at PostgreSQL 17\\.\\d+ on 127\\.0\\.0\\.1:${port}, not the --pg-version 18 asked for; .*Nothing was changed\\.`));
  const other = await freePort();
  const moved = await runCli(['--provider', 'docker', '--port', String(other), '--docker-image', td.repository], { cwd: dir, env: env() });
  expect(moved.code, moved.all).toBe(2);
  expect(moved.all).toContain(`Container pg-setup-dockapp publishes 127.0.0.1:${port}, not the --port ${other} asked for`);
  expect(moved.all).toContain(`--port ${port}`);
  expect(readFileSync(join(dir, '.env')).equals(envBefore)).toBe(true);
  expect((await td.docker.getContainer('pg-setup-dockapp').inspect()).State.StartedAt).toBe(info.State.StartedAt);
});

test('teardown removes the container but keeps the data volume, which another major then refuses; --volumes removes both', async () => {
  const kept = await setUpProject('dockkeep');
  const r = await runCli(['teardown', '--yes'], { cwd: kept.dir, env: env() });
  expect(r.code, r.all).toBe(0);
  expect(r.all).toMatch(/Remove container pg-setup-dockkeep: removed \(volume pg-setup-dockkeep-data kept/);
  await expect(td.docker.getContainer('pg-setup-dockkeep').inspect()).rejects.toMatchObject({ statusCode: 404 });
  expect(await volumeExists('pg-setup-dockkeep-data')).toBe(true);

  const newer = await runCli(['--provider', 'docker', '--pg-version', '18', '--port', String(await freePort()), '--docker-image', td.repository], { cwd: kept.dir, env: env() });
  expect(newer.code, newer.all).toBe(3);
  expect(newer.all).toContain('Volume pg-setup-dockkeep-data holds PostgreSQL 17 data; PostgreSQL 18 cannot use it.');
  await expect(td.docker.getContainer('pg-setup-dockkeep').inspect()).rejects.toMatchObject({ statusCode: 404 });

  const gone = await setUpProject('dockgone');
  const r2 = await runCli(['teardown', '--yes', '--volumes'], { cwd: gone.dir, env: env() });
  expect(r2.code, r2.all).toBe(0);
  await expect(td.docker.getContainer('pg-setup-dockgone').inspect()).rejects.toMatchObject({ statusCode: 404 });
  expect(await volumeExists('pg-setup-dockgone-data')).toBe(false);
});
