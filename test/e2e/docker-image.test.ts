/**
 * The locally built test images keep the official postgres image's contract, which is what
 * makes the docker provider's tests say something about the real image: POSTGRES_USER,
 * POSTGRES_DB, POSTGRES_PASSWORD (required on an empty data folder), first-start init only,
 * /docker-entrypoint-initdb.d, pg_isready, and each major's PGDATA and volume.
 * Runs containers of PostgreSQL 17 only and reads 18 from the registry without pulling it, so
 * docker-provider.test.ts's first pull of 18 still downloads its layers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execInContainer } from '../../src/io/docker.js';
import { freePort } from '../helpers/cluster.js';
import { removeContainers, useTestDocker, type TestDocker } from '../helpers/docker-engine.js';

let td: TestDocker;
const names = ['pgsetup-img-first', 'pgsetup-img-again', 'pgsetup-img-nopw'];
const volume = 'pgsetup-img-data';
const work = mkdtempSync(join(tmpdir(), 'pgsetup-img-'));
beforeAll(async () => {
  td = await useTestDocker();
  await removeContainers(td.docker, names, [volume, 'pgsetup-img-empty']);
  await new Promise<void>((resolve, reject) =>
    td.docker.pull(`${td.repository}:17`, (err: Error | null, s: NodeJS.ReadableStream) => (err ? reject(err) : td.docker.modem.followProgress(s, (e) => (e ? reject(e) : resolve())))),
  );
}, 900_000);
afterAll(async () => {
  if (td) await removeContainers(td.docker, names, [volume, 'pgsetup-img-empty']);
  rmSync(work, { recursive: true, force: true });
});

/** A tar holding one init script, for PUT /containers/{id}/archive into /docker-entrypoint-initdb.d. */
function initScripts(): Buffer {
  const dir = join(work, 'init');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, '01-seed.sql'), "CREATE TABLE seeded (n int);\nINSERT INTO seeded VALUES (1);\n");
  execFileSync('tar', ['-C', dir, '-cf', join(work, 'init.tar'), '01-seed.sql']);
  return readFileSync(join(work, 'init.tar'));
}

async function startWithInit(name: string, env: string[], port: number): Promise<Docker.Container> {
  const c = await td.docker.createContainer({
    name,
    Image: `${td.repository}:17`,
    Env: env,
    HostConfig: {
      PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Mounts: [{ Type: 'volume', Source: volume, Target: '/var/lib/postgresql/data' }],
    },
  });
  await c.putArchive(initScripts(), { path: '/docker-entrypoint-initdb.d' });
  await c.start();
  return c;
}

const logsOf = async (c: Docker.Container) => (await c.logs({ stdout: true, stderr: true })).toString();

test('POSTGRES_USER and POSTGRES_DB make that superuser and database, init scripts run on the first start only, pg_isready answers', async () => {
  const port = await freePort();
  const first = await startWithInit('pgsetup-img-first', ['POSTGRES_PASSWORD=first-pw', 'POSTGRES_USER=owner', 'POSTGRES_DB=shop'], port);
  await expect.poll(() => logsOf(first), { timeout: 60_000, interval: 500 }).toMatch(/running \/docker-entrypoint-initdb\.d\/01-seed\.sql[\s\S]*init process complete[\s\S]*ready to accept connections/);
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'owner', password: 'first-pw', database: 'shop' });
  await client.connect();
  expect((await client.query('select count(*)::int as n, current_setting($1) as dir from seeded', ['data_directory'])).rows).toEqual([{ n: 1, dir: '/var/lib/postgresql/data' }]);
  expect((await client.query('select rolsuper from pg_roles where rolname = current_user')).rows).toEqual([{ rolsuper: true }]);
  await client.end();
  const ready = await execInContainer(first, ['pg_isready', '-U', 'owner', '-h', '127.0.0.1'], '');
  expect(ready).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('accepting connections') });
  await first.remove({ force: true });

  // The same volume with another password and the same init scripts: nothing is initialised again.
  const again = await startWithInit('pgsetup-img-again', ['POSTGRES_PASSWORD=second-pw', 'POSTGRES_USER=owner', 'POSTGRES_DB=shop'], port);
  await expect.poll(() => logsOf(again), { timeout: 60_000, interval: 500 }).toMatch(/ready to accept connections/);
  expect(await logsOf(again)).toContain('Skipping initialization');
  expect(await logsOf(again)).not.toContain('01-seed.sql');
  const old = new pg.Client({ host: '127.0.0.1', port, user: 'owner', password: 'first-pw', database: 'shop' });
  await old.connect();
  expect((await old.query('select count(*)::int as n from seeded')).rows).toEqual([{ n: 1 }]);
  await old.end();
});

test('an empty data folder without POSTGRES_PASSWORD stops the container with the official message', async () => {
  const c = await td.docker.createContainer({
    name: 'pgsetup-img-nopw',
    Image: `${td.repository}:17`,
    HostConfig: { Mounts: [{ Type: 'volume', Source: 'pgsetup-img-empty', Target: '/var/lib/postgresql/data' }] },
  });
  await c.start();
  expect(await c.wait()).toMatchObject({ StatusCode: 1 });
  expect(await logsOf(c)).toContain('Database is uninitialized and superuser password is not specified.');
});

test("each major keeps the official layout: PGDATA and the volume move in 18", async () => {
  // Read from the registry (manifest, then the image config blob): no pull.
  const config = async (tag: string) => {
    const base = `http://${td.registry}/v2/postgres`;
    const manifest = (await (await fetch(`${base}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json()) as { config: { digest: string } };
    return ((await (await fetch(`${base}/blobs/${manifest.config.digest}`)).json()) as { config: { Env: string[]; Volumes: Record<string, object>; Healthcheck?: unknown } }).config;
  };
  const c17 = await config('17');
  expect(c17.Env).toContain('PGDATA=/var/lib/postgresql/data');
  expect(Object.keys(c17.Volumes)).toEqual(['/var/lib/postgresql/data']);
  const c18 = await config('18');
  expect(c18.Env).toContain('PGDATA=/var/lib/postgresql/18/docker');
  expect(Object.keys(c18.Volumes)).toEqual(['/var/lib/postgresql']);
});
