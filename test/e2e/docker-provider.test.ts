import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createDockerProvider, dataMountPath, LABEL_MANAGED, LABEL_PG_VERSION } from '../../src/providers/docker.js';
import { connectDocker } from '../../src/io/docker.js';
import { freePort } from '../helpers/cluster.js';
import { startDockerStandin, startSilentSocket, type DockerStandin } from '../helpers/docker-standin.js';
import { providerOptions, runSteps } from '../helpers/provider-options.js';

let engine: DockerStandin;
beforeAll(async () => {
  engine = await startDockerStandin();
});
afterAll(async () => engine?.close());

/** Provision a role and database through admin(), then log in as it over TCP: what the app does. */
async function provisionAndLogin(provider: ReturnType<typeof createDockerProvider>, role: string): Promise<string> {
  const admin = await provider.admin();
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}-pw'`);
  await admin.query(`CREATE DATABASE ${role} OWNER ${role}`);
  const { host, port } = provider.endpoint();
  const client = new pg.Client({ host, port, user: role, password: `${role}-pw`, database: role });
  await client.connect();
  const r = await client.query('select current_user as u');
  await client.end();
  return r.rows[0].u as string;
}

describe('docker provider against a stand-in engine', () => {
  test('a first run pulls the image with one aggregated progress bar, creates the container and provisions', async () => {
    const port = await freePort();
    const provider = createDockerProvider(providerOptions({ projectDir: '/home/me/Shop API', port }), { dockerHost: engine.dockerHost });
    expect(await provider.detect()).toMatchObject({ state: 'can-install', version: '18' });

    const results = await runSteps(provider.steps());
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    const bars = results[0]!.progress;
    expect(bars.at(-1)).toMatch(/^\[#{20}\] 100% 4\/4 layers 10\.0\/10\.0 MB$/);
    expect(bars.some((b) => /\] [1-9]\d?% /.test(b))).toBe(true);
    expect(engine.requests).toContain('POST /images/create');

    const c = engine.containers.get('pg-setup-shop-api')!;
    expect(c).toMatchObject({ image: 'postgres:18', hostIp: '127.0.0.1', hostPort: port, restartPolicy: 'unless-stopped' });
    expect(c.target).toBe('/var/lib/postgresql');
    expect(c.volume).toBe('pg-setup-shop-api-data');
    expect(c.labels[LABEL_MANAGED]).toBe('true');
    expect(engine.volumes.get('pg-setup-shop-api-data')!.labels[LABEL_PG_VERSION]).toBe('18');
    expect(JSON.stringify(c.healthcheck)).toMatch(/pg_isready/);
    // The superuser password lives only in the container's Env: never in what we print.
    const pw = c.env.find((e) => e.startsWith('POSTGRES_PASSWORD='))!.split('=')[1]!;
    expect(pw.length).toBeGreaterThanOrEqual(24);
    expect(JSON.stringify(results)).not.toContain(pw);

    expect(provider.endpoint()).toEqual({ host: '127.0.0.1', port });
    expect(await provisionAndLogin(provider, 'shop_first')).toBe('shop_first');
  });

  test('a re-run reuses the running container and pulls nothing', async () => {
    const before = engine.requests.filter((r) => r === 'POST /images/create').length;
    const provider = createDockerProvider(providerOptions({ projectDir: '/home/me/Shop API', port: 'auto' }), { dockerHost: engine.dockerHost });
    expect((await provider.detect()).state).toBe('running');
    const results = await runSteps(provider.steps());
    expect(results.every((r) => r.status === 'present')).toBe(true);
    expect(engine.requests.filter((r) => r === 'POST /images/create').length).toBe(before);
    expect(provider.endpoint().port).toBe(engine.containers.get('pg-setup-shop-api')!.hostPort);
  });

  test('a stopped container is started again, not recreated', async () => {
    const c = engine.containers.get('pg-setup-shop-api')!;
    const id = c.id;
    await (await connectDocker({ dockerHost: engine.dockerHost })).docker.getContainer(id).stop();
    const provider = createDockerProvider(providerOptions({ projectDir: '/home/me/Shop API' }), { dockerHost: engine.dockerHost });
    expect((await provider.detect()).state).toBe('stopped');
    const results = await runSteps(provider.steps());
    expect(results[1]).toMatchObject({ status: 'done', detail: 'started the existing container pg-setup-shop-api' });
    expect(engine.containers.get('pg-setup-shop-api')!.id).toBe(id);
    expect(await provisionAndLogin(provider, 'shop_again')).toBe('shop_again');
  });

  test('a volume from an earlier container keeps its old password, and provisioning still works', async () => {
    // An earlier container initialised the volume with a password this run never knows.
    const { docker } = await connectDocker({ dockerHost: engine.dockerHost });
    engine.images.add('postgres:17');
    await docker.createContainer({
      name: 'pg-setup-stale',
      Image: 'postgres:17',
      Env: ['POSTGRES_PASSWORD=old-secret'],
      Labels: { [LABEL_MANAGED]: 'true' },
      HostConfig: {
        PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(await freePort()) }] },
        Mounts: [{ Type: 'volume', Source: 'pg-setup-stale-data', Target: dataMountPath(17) }],
      },
    });
    await docker.getContainer('pg-setup-stale').start();
    await expect.poll(() => engine.volumes.get('pg-setup-stale-data')?.cluster, { timeout: 30_000 }).toBeDefined();
    await docker.getContainer('pg-setup-stale').remove({ force: true });

    const port = await freePort();
    const provider = createDockerProvider(
      providerOptions({ containerName: 'pg-setup-stale', pgVersion: '17', port }),
      { dockerHost: engine.dockerHost },
    );
    const results = await runSteps(provider.steps());
    expect(results.map((r) => r.status)).toEqual(['present', 'done', 'done']);
    expect(engine.containers.get('pg-setup-stale')!.target).toBe('/var/lib/postgresql/data');
    const newPw = engine.containers.get('pg-setup-stale')!.env[0]!.split('=')[1]!;
    expect(newPw).not.toBe('old-secret');

    // The server still has the old password: the new POSTGRES_PASSWORD did not apply...
    const old = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'old-secret', database: 'postgres' });
    await old.connect();
    await old.end();
    const fresh = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: newPw, database: 'postgres' });
    await expect(fresh.connect()).rejects.toThrow(/password authentication failed/);
    // ...and provisioning does not need either.
    expect(await provisionAndLogin(provider, 'stale_app')).toBe('stale_app');
  });

  test('a volume holding another major version is refused before a container is made', async () => {
    engine.volumes.set('pg-setup-old-data', { name: 'pg-setup-old-data', labels: { [LABEL_PG_VERSION]: '16' }, cluster: undefined, created: new Date().toISOString() });
    const provider = createDockerProvider(providerOptions({ containerName: 'pg-setup-old', port: await freePort() }), { dockerHost: engine.dockerHost });
    await expect(runSteps(provider.steps())).rejects.toMatchObject({
      message: 'Volume pg-setup-old-data holds PostgreSQL 16 data; PostgreSQL 18 cannot use it.',
      hint: expect.stringContaining('--pg-version 16'),
    });
    expect(engine.containers.has('pg-setup-old')).toBe(false);
  });

  test('a container with our name that pg-setup did not create stops the run with a clear message', async () => {
    engine.addForeignContainer('pg-setup-blog', 'mysql:8');
    const provider = createDockerProvider(providerOptions({ projectDir: '/srv/blog' }), { dockerHost: engine.dockerHost });
    expect(await provider.detect()).toMatchObject({ state: 'unavailable', detail: expect.stringMatching(/"pg-setup-blog" already exists and was not created by pg-setup/) });
    const err = await runSteps(provider.steps()).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3, hint: expect.stringMatching(/--container-name/) });
    expect(engine.containers.get('pg-setup-blog')!.image).toBe('mysql:8');
  });
});

describe('docker provider when the engine is down', () => {
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
