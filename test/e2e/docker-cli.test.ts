/**
 * The docker provider through the built CLI, against the stand-in engine (see README: Docker is
 * contract-tested, not run against a real engine): setup, re-run, teardown keeping the volume,
 * teardown with --volumes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli, tempProject } from '../helpers/cli.js';
import { freePort } from '../helpers/cluster.js';
import { startDockerStandin, type DockerStandin } from '../helpers/docker-standin.js';

let engine: DockerStandin;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  engine = await startDockerStandin();
});
afterAll(async () => {
  cleanups.forEach((c) => c());
  await engine?.close();
});

const env = () => ({ DOCKER_HOST: `unix://${engine.socketPath}` });

async function setUpProject(name: string): Promise<string> {
  const p = tempProject(name);
  cleanups.push(p.cleanup);
  const port = await freePort();
  const r = await runCli(['--provider', 'docker', '--port', String(port), '--pg-version', '17'], { cwd: p.dir, env: env() });
  expect(r.code, r.all).toBe(0);
  return p.dir;
}

function urlOf(dir: string): string {
  return /DATABASE_URL="([^"]+)"/.exec(readFileSync(join(dir, '.env'), 'utf8'))![1]!.replace('postgresql+psycopg', 'postgresql');
}

test('pg-setup --provider docker creates our container and a database the app logs into; a re-run changes nothing', async () => {
  const dir = await setUpProject('dockapp');
  const c = new pg.Client({ connectionString: urlOf(dir) });
  await c.connect();
  expect((await c.query('select current_user as u')).rows[0].u).toBe('dockapp_user');
  await c.end();
  const again = await runCli([], { cwd: dir, env: env() });
  expect(again.code, again.all).toBe(0);
  expect(again.all).toContain('Everything is already in place; nothing changed.');
});

test('teardown removes the container but keeps the data volume; --volumes removes both', async () => {
  const kept = await setUpProject('dockkeep');
  const r = await runCli(['teardown', '--yes'], { cwd: kept, env: env() });
  expect(r.code, r.all).toBe(0);
  expect(r.all).toMatch(/Remove container pg-setup-dockkeep: removed \(volume pg-setup-dockkeep-data kept/);
  expect(engine.requests).toContain('DELETE /containers/pg-setup-dockkeep');
  expect(engine.requests.some((q) => q.startsWith('DELETE /volumes/pg-setup-dockkeep-data'))).toBe(false);

  const gone = await setUpProject('dockgone');
  const r2 = await runCli(['teardown', '--yes', '--volumes'], { cwd: gone, env: env() });
  expect(r2.code, r2.all).toBe(0);
  expect(engine.requests).toContain('DELETE /volumes/pg-setup-dockgone-data');
});
