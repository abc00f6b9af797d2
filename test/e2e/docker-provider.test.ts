/**
 * The docker provider against a real Docker engine (Debian's dockerd on a private socket,
 * test/helpers/docker-engine.ts), pulling locally built postgres images that follow the
 * official image's contract from a docker-registry on loopback (test/helpers/docker-image.ts).
 * Only the "engine is down" cases use a stand-in socket: a real engine cannot be made to
 * accept a connection and then never answer.
 */
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { LABEL_MANAGED, LABEL_PG_VERSION, LABEL_PROJECT } from '../../src/providers/docker/names.js';
import { createDockerProvider, dataMountPath } from '../../src/providers/docker/provider.js';
import { dockerTeardownSteps } from '../../src/providers/docker/teardown.js';
import { freePort } from '../helpers/cluster.js';
import { removeContainers, useTestDocker, type TestDocker } from '../helpers/docker-engine.js';
import { startSilentSocket } from '../helpers/docker-standin.js';
import { providerOptions, runSteps } from '../helpers/provider-options.js';

let td: TestDocker;
const made = ['pg-setup-shop-api', 'pg-setup-stale', 'pg-setup-major', 'pg-setup-blog', 'pg-setup-taken', 'pg-setup-squat'];
beforeAll(async () => {
  td = await useTestDocker();
  await removeContainers(td.docker, made, made.map((n) => `${n}-data`));
}, 900_000);
afterAll(async () => {
  if (td) await removeContainers(td.docker, made, made.map((n) => `${n}-data`));
});

const SHOP = '/home/me/Shop API';
const opts = (over: Parameters<typeof providerOptions>[0] = {}) => providerOptions({ dockerImage: td.repository, ...over });
const deps = () => ({ dockerHost: td.dockerHost });

/** Provision a role and database through admin(), then log in as it over TCP: what the app does. */
/** The server's system identifier (unique per cluster), or the connection's error. */
async function systemId(conn: { host: string; port: number; user: string; password: string }): Promise<string> {
  const c = new pg.Client({ ...conn, database: 'postgres', connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return String((await c.query('SELECT system_identifier FROM pg_control_system()')).rows[0].system_identifier);
  } finally {
    await c.end();
  }
}

async function provisionAndLogin(provider: ReturnType<typeof createDockerProvider>, role: string): Promise<pg.Client> {
  const admin = await provider.admin();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}-pw'`);
  await admin.query(`CREATE DATABASE ${role} OWNER ${role}`);
  const { host, port } = provider.endpoint();
  const client = new pg.Client({ host, port, user: role, password: `${role}-pw`, database: role });
  await client.connect();
  return client;
}

describe('docker provider against a real engine', () => {
  let port: number;

  test('a first run pulls the image with one aggregated progress bar, creates the container on 127.0.0.1 only with a volume, a health check and labels, and provisions', async () => {
    port = await freePort();
    const provider = createDockerProvider(opts({ projectDir: SHOP, port }), deps());
    expect(await provider.detect()).toMatchObject({ state: 'can-install', version: '18', detail: expect.stringContaining(`would pull ${td.repository}:18`) });

    const results = await runSteps(provider.steps());
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    // The engine's own JSON progress stream, aggregated over the image's layers.
    const bars = results[0]!.progress;
    expect(bars.at(-1)).toMatch(/^\[#{20}\] 100% (\d+)\/\1 layers \d+\.\d\/\d+\.\d MB$/);
    expect(Number(/(\d+)\/\d+ layers/.exec(bars.at(-1)!)![1])).toBeGreaterThanOrEqual(2);
    expect(bars.some((b) => /\] [1-9]\d?% /.test(b))).toBe(true);
    // It only moves forward, reaches 100% only at the end, and prints a few lines, not one per event.
    const percents = bars.map((b) => Number(/\] (\d+)% /.exec(b)![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.filter((p) => p === 100)).toHaveLength(1);
    expect(bars.length).toBeLessThanOrEqual(30);

    const info = await td.docker.getContainer('pg-setup-shop-api').inspect();
    expect(info.Config.Image).toBe(`${td.repository}:18`);
    expect(info.HostConfig.PortBindings).toEqual({ '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: 'pg-setup-shop-api-data', Destination: '/var/lib/postgresql' })]);
    expect(info.Config.Labels).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_PROJECT]: SHOP, [LABEL_PG_VERSION]: '18' });
    expect((await td.docker.getVolume('pg-setup-shop-api-data').inspect()).Labels).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_PG_VERSION]: '18' });
    expect(info.Config.Healthcheck?.Test?.join(' ')).toMatch(/pg_isready/);
    // The engine runs the health check itself: pg_isready inside the container says healthy.
    await expect
      .poll(async () => (await td.docker.getContainer('pg-setup-shop-api').inspect()).State.Health?.Status, { timeout: 60_000, interval: 500 })
      .toBe('healthy');
    // The superuser password lives only in the container's Env: never in what we print.
    const pw = info.Config.Env.find((e) => e.startsWith('POSTGRES_PASSWORD='))!.split('=')[1]!;
    expect(pw.length).toBeGreaterThanOrEqual(24);
    expect(JSON.stringify(results)).not.toContain(pw);

    // Published on loopback only: our server is not reached through the engine's own bridge
    // address on that port (whatever else a parallel test may have listening there).
    const gateway = (await td.docker.getNetwork('bridge').inspect()).IPAM?.Config?.[0]?.Gateway as string;
    const ours = await systemId({ host: '127.0.0.1', port, user: 'postgres', password: pw });
    expect(ours).toMatch(/^\d+$/);
    expect(await systemId({ host: gateway, port, user: 'postgres', password: pw }).catch((e: Error) => e.message)).not.toBe(ours);

    expect(provider.endpoint()).toEqual({ host: '127.0.0.1', port });
    const app = await provisionAndLogin(provider, 'shop_first');
    expect((await app.query('select current_user as u')).rows[0].u).toBe('shop_first');
    await app.query('CREATE TABLE orders (id int PRIMARY KEY, item text)');
    await app.query(`INSERT INTO orders VALUES (1, 'tea')`);
    await app.end();
  });

  test('exec psql inside the container administers the server, whose data is at the major\'s PGDATA on the volume', async () => {
    const admin = await createDockerProvider(opts({ projectDir: SHOP, port }), deps()).admin();
    const r = await admin.query("select current_setting('data_directory') as d, current_setting('server_version_num') as v");
    expect(r[0]).toMatchObject({ d: '/var/lib/postgresql/18/docker', v: expect.stringMatching(/^18/) });
  });

  test('a re-run reuses the running container and pulls nothing', async () => {
    const before = await td.docker.getContainer('pg-setup-shop-api').inspect();
    const provider = createDockerProvider(opts({ projectDir: SHOP, port: 'auto' }), deps());
    expect((await provider.detect()).state).toBe('running');
    const results = await runSteps(provider.steps());
    expect(results.every((r) => r.status === 'present')).toBe(true);
    const after = await td.docker.getContainer('pg-setup-shop-api').inspect();
    expect({ id: after.Id, started: after.State.StartedAt }).toEqual({ id: before.Id, started: before.State.StartedAt });
    expect(provider.endpoint().port).toBe(port);
  });

  test('a re-run asking for another --pg-version or --port says what it keeps and changes nothing', async () => {
    const before = await td.docker.getContainer('pg-setup-shop-api').inspect();
    const other = createDockerProvider(opts({ projectDir: SHOP, port, pgVersion: '17' }), deps());
    await expect(runSteps(other.steps())).rejects.toMatchObject({
      message: expect.stringMatching(/^Container pg-setup-shop-api runs PostgreSQL 18 .*cannot use it\. Nothing was changed\.$/),
      hint: expect.stringContaining('--pg-version 18'),
      exitCode: 2,
    });
    const elsewhere = await freePort();
    const moved = createDockerProvider(opts({ projectDir: SHOP, port: elsewhere, portGiven: true }), deps());
    await expect(runSteps(moved.steps())).rejects.toMatchObject({
      message: `Container pg-setup-shop-api publishes 127.0.0.1:${port}, not the --port ${elsewhere} asked for; pg-setup keeps a container's port (the URL in .env points at it). Nothing was changed.`,
      hint: expect.stringContaining(`--port ${port}`),
    });
    const after = await td.docker.getContainer('pg-setup-shop-api').inspect();
    expect({ id: after.Id, started: after.State.StartedAt, ports: after.HostConfig.PortBindings }).toEqual({
      id: before.Id,
      started: before.State.StartedAt,
      ports: before.HostConfig.PortBindings,
    });
  });

  test('a stopped container is started again, not recreated, with its data', async () => {
    const id = (await td.docker.getContainer('pg-setup-shop-api').inspect()).Id;
    await td.docker.getContainer(id).stop();
    const provider = createDockerProvider(opts({ projectDir: SHOP }), deps());
    expect((await provider.detect()).state).toBe('stopped');
    const results = await runSteps(provider.steps());
    // The readiness step finds the server up already when the engine starts it fast enough.
    expect(results.map((r) => r.status).slice(0, 2)).toEqual(['present', 'done']);
    expect(['done', 'present']).toContain(results[2]!.status);
    expect(results[1]!.detail).toBe('started the existing container pg-setup-shop-api');
    expect((await td.docker.getContainer('pg-setup-shop-api').inspect()).Id).toBe(id);
    const app = new pg.Client({ host: '127.0.0.1', port, user: 'shop_first', password: 'shop_first-pw', database: 'shop_first' });
    await app.connect();
    expect((await app.query('select item from orders')).rows).toEqual([{ item: 'tea' }]);
    await app.end();
  });

  test('a volume from an earlier container keeps its old password (init runs only on an empty data folder), and provisioning still works', async () => {
    // An earlier container, made without pg-setup, initialised the volume with a password this run never knows.
    const image = `${td.repository}:17`;
    await new Promise<void>((resolve, reject) =>
      td.docker.pull(image, (err: Error | null, s: NodeJS.ReadableStream) => (err ? reject(err) : td.docker.modem.followProgress(s, (e) => (e ? reject(e) : resolve())))),
    );
    const earlier = await td.docker.createContainer({
      name: 'pg-setup-stale',
      Image: image,
      Env: ['POSTGRES_PASSWORD=old-secret'],
      HostConfig: { Mounts: [{ Type: 'volume', Source: 'pg-setup-stale-data', Target: dataMountPath(17) }] },
    });
    await earlier.start();
    await expect.poll(async () => (await earlier.logs({ stdout: true, stderr: true })).toString(), { timeout: 60_000, interval: 500 }).toMatch(/ready to accept connections[\s\S]*init process complete[\s\S]*ready to accept connections/);
    await earlier.remove({ force: true });

    const port = await freePort();
    const provider = createDockerProvider(opts({ containerName: 'pg-setup-stale', pgVersion: '17', port }), deps());
    const results = await runSteps(provider.steps());
    // The readiness step finds the server up already when the engine starts it fast enough.
    expect(results.map((r) => r.status).slice(0, 2)).toEqual(['present', 'done']);
    expect(['done', 'present']).toContain(results[2]!.status);
    const info = await td.docker.getContainer('pg-setup-stale').inspect();
    expect(info.Mounts[0]).toMatchObject({ Name: 'pg-setup-stale-data', Destination: '/var/lib/postgresql/data' });
    const newPw = info.Config.Env.find((e) => e.startsWith('POSTGRES_PASSWORD='))!.split('=')[1]!;
    expect(newPw).not.toBe('old-secret');
    const logs = (await td.docker.getContainer('pg-setup-stale').logs({ stdout: true, stderr: true })).toString();
    expect(logs).toContain('Skipping initialization');

    // The server still has the old password: the new POSTGRES_PASSWORD did not apply...
    const old = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'old-secret', database: 'postgres' });
    await old.connect();
    await old.end();
    const fresh = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: newPw, database: 'postgres' });
    await expect(fresh.connect()).rejects.toThrow(/password authentication failed/);
    // ...and provisioning does not need either.
    const app = await provisionAndLogin(provider, 'stale_app');
    expect((await app.query('select current_user as u')).rows[0].u).toBe('stale_app');
    await app.end();
  });

  test('a volume holding another major is refused before anything is pulled or made', async () => {
    const first = createDockerProvider(opts({ containerName: 'pg-setup-major', pgVersion: '17', port: await freePort() }), deps());
    await runSteps(first.steps());
    // Teardown without --volumes: the container goes, its PostgreSQL 17 data stays.
    await runSteps(dockerTeardownSteps({ ...opts({ containerName: 'pg-setup-major' }) }, { dockerHost: td.dockerHost }));
    const pulls = (await td.docker.listImages()).length;
    const next = createDockerProvider(opts({ containerName: 'pg-setup-major', pgVersion: '18', port: await freePort() }), deps());
    await expect(runSteps(next.steps())).rejects.toMatchObject({
      message: 'Volume pg-setup-major-data holds PostgreSQL 17 data; PostgreSQL 18 cannot use it.',
      hint: expect.stringContaining('--pg-version 17'),
    });
    await expect(td.docker.getContainer('pg-setup-major').inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await td.docker.listImages()).length).toBe(pulls);
  });

  test('a container with our name that pg-setup did not create stops the run with a clear message', async () => {
    await td.docker.createContainer({ name: 'pg-setup-blog', Image: `${td.repository}:17`, Env: ['POSTGRES_PASSWORD=x'] });
    const provider = createDockerProvider(opts({ projectDir: '/srv/blog' }), deps());
    expect(await provider.detect()).toMatchObject({ state: 'unavailable', detail: expect.stringMatching(/"pg-setup-blog" already exists and was not created by pg-setup/) });
    const err = await runSteps(provider.steps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3, hint: expect.stringMatching(/--container-name/) });
    expect((await td.docker.getContainer('pg-setup-blog').inspect()).State.Status).toBe('created');
  });

  describe('a taken port is named', () => {
    let server: Server | undefined;
    afterEach(() => server?.close());

    test('by a program that is not PostgreSQL', async () => {
      const taken = await freePort();
      server = createServer((s) => s.end('hello\n')).listen(taken, '127.0.0.1');
      const provider = createDockerProvider(opts({ containerName: 'pg-setup-taken', port: taken }), deps());
      await expect(runSteps(provider.steps())).rejects.toMatchObject({
        message: `Port ${taken} on 127.0.0.1 is taken by a program that is not PostgreSQL.`,
        hint: expect.stringContaining('--port auto'),
      });
      await expect(td.docker.getContainer('pg-setup-taken').inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    test('by another container, with its name', async () => {
      const provider = createDockerProvider(opts({ containerName: 'pg-setup-squat', port }), deps());
      await expect(runSteps(provider.steps())).rejects.toMatchObject({
        message: `Port ${port} on 127.0.0.1 is taken by container pg-setup-shop-api (${td.repository}:18, made by pg-setup).`,
      });
    });
  });
});

describe('docker provider when the engine is down (a stand-in socket: a real engine cannot be made silent)', () => {
  let silent: Awaited<ReturnType<typeof startSilentSocket>> | undefined;
  afterEach(async () => silent?.close());

  test('no socket at DOCKER_HOST: detection says unavailable and the run fails once, saying how to start Docker', async () => {
    const provider = createDockerProvider(providerOptions(), { dockerHost: 'unix:///nonexistent/docker.sock' });
    expect(await provider.detect()).toMatchObject({ state: 'unavailable', detail: 'No Docker engine: nothing at unix:///nonexistent/docker.sock.' });
    const err = await runSteps(provider.steps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UserError', exitCode: 3, hint: expect.stringMatching(/Start Docker/) });
  });

  test('a socket that never answers times out with one message', async () => {
    silent = await startSilentSocket();
    const provider = createDockerProvider(providerOptions({ timeoutMs: 800 }), { dockerHost: `unix://${silent.socketPath}` });
    const t0 = Date.now();
    const status = await provider.detect();
    expect(status.state).toBe('unavailable');
    expect(status.detail).toMatch(/is not answering/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
