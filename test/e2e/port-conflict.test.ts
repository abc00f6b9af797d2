import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { probePort } from '../../src/net/probe.js';
import { resolvePortNonInteractive } from '../../src/net/port-conflict.js';
import { analyzePort, stopPortOwner } from '../../src/providers/port-owner.js';
import { createDockerProvider } from '../../src/providers/docker/provider.js';
import { freePort, startCluster, type TestCluster } from '../helpers/cluster.js';
import { startDockerStandin, type DockerStandin } from '../helpers/docker-standin.js';
import { providerOptions, runSteps } from '../helpers/provider-options.js';

let engine: DockerStandin;
let cluster: TestCluster;
let notPg: Server;
let notPgPort: number;
const notPgSockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  engine = await startDockerStandin({ images: ['postgres:18'] });
  cluster = await startCluster();
  notPg = createServer((s) => {
    notPgSockets.add(s);
    s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  notPgPort = await listenBelowEphemeral(notPg);
});

/**
 * Listen on a free port below Linux's ephemeral range (32768-60999). The --port auto test takes
 * the ports right after this one: inside the ephemeral range, the kernel could hand one of them to
 * some other test's outgoing connection in the moment between the check and the bind.
 */
async function listenBelowEphemeral(server: Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((done) => {
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => done(true));
    });
    if (ok) return port;
    if (attempt > 50) throw new Error('no free port between 20000 and 32000');
  }
}
afterAll(async () => {
  for (const s of notPgSockets) s.destroy();
  await new Promise((r) => notPg?.close(r));
  cluster?.stop();
  await engine?.close();
});

describe('a taken port', () => {
  test('a non-PostgreSQL listener: offered the next free port only, and a numbered --port is never switched silently', async () => {
    const a = await analyzePort({ host: '127.0.0.1', port: notPgPort }, { dockerHost: engine.dockerHost });
    expect(a.owner).toEqual({ kind: 'not-postgres' });
    expect(a.message).toBe(`Port ${notPgPort} is taken by a program that is not PostgreSQL.`);
    expect(a.choices.map((c) => c.value)).toEqual(['next-port']);
    expect(() => resolvePortNonInteractive(a, { port: notPgPort }, 'docker')).toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/--port \d+ \(free\) or --port auto/) }),
    );
    const auto = resolvePortNonInteractive(a, { port: 'auto' }, 'docker');
    expect(auto?.value).toBe('next-port');
    expect((await probePort('127.0.0.1', auto!.port!)).kind).toBe('free');
  });

  test('another PostgreSQL: can be used as an existing server, not stopped', async () => {
    const a = await analyzePort({ host: '127.0.0.1', port: cluster.port }, { dockerHost: engine.dockerHost });
    expect(a.owner).toEqual({ kind: 'postgres', version: undefined });
    expect(a.choices.map((c) => c.value)).toEqual(['use', 'next-port']);
    expect(a.choices[0]).toMatchObject({ provider: 'existing', port: cluster.port });
    expect(resolvePortNonInteractive(a, { port: cluster.port }, 'existing')?.value).toBe('use');
    expect(() => resolvePortNonInteractive(a, { port: cluster.port }, 'docker')).toThrow(/is taken by a PostgreSQL server not managed by pg-setup/);
  });

  test('our own container: reused by the docker provider, or stopped on request', async () => {
    const port = await freePort();
    const provider = createDockerProvider(providerOptions({ containerName: 'pg-setup-ports', port }), { dockerHost: engine.dockerHost });
    await runSteps(provider.steps());
    const a = await analyzePort({ host: '127.0.0.1', port }, { dockerHost: engine.dockerHost });
    expect(a.owner).toEqual({ kind: 'our-container', name: 'pg-setup-ports', image: 'postgres:18' });
    expect(a.choices.map((c) => c.value)).toEqual(['use', 'next-port', 'stop']);
    expect(resolvePortNonInteractive(a, { port }, 'docker')).toMatchObject({ value: 'use', provider: 'docker' });
    await stopPortOwner(a.owner, { interactive: false }, { dockerHost: engine.dockerHost });
    expect(engine.containers.get('pg-setup-ports')!.running).toBe(false);
    expect((await probePort('127.0.0.1', port)).kind).toBe('free');
  });

  test('a container that is not ours is named and never offered for stopping', async () => {
    const port = await freePort();
    const { docker } = await (await import('../../src/io/docker.js')).connectDocker({ dockerHost: engine.dockerHost });
    await docker.createContainer({
      name: 'someone-elses-db',
      Image: 'postgres:18',
      Env: ['POSTGRES_PASSWORD=theirs'],
      HostConfig: {
        PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
        Mounts: [{ Type: 'volume', Source: 'someone-elses-data', Target: '/var/lib/postgresql' }],
      },
    });
    await docker.getContainer('someone-elses-db').start();
    await expect.poll(async () => (await probePort('127.0.0.1', port)).kind, { timeout: 30_000 }).toBe('postgres');
    const a = await analyzePort({ host: '127.0.0.1', port }, { dockerHost: engine.dockerHost });
    expect(a.message).toBe(`Port ${port} is taken by container someone-elses-db (postgres:18, not created by pg-setup).`);
    expect(a.choices.map((c) => c.value)).toEqual(['use', 'next-port']);
  });
});

test("--port auto: the docker provider publishes on the first free port after a taken one", async () => {
  const provider = createDockerProvider(providerOptions({ containerName: 'pg-setup-auto', port: 'auto' }), {
    dockerHost: engine.dockerHost,
    autoPortFrom: notPgPort,
  });
  await runSteps(provider.steps());
  const { port } = provider.endpoint();
  expect(port).toBeGreaterThan(notPgPort);
  expect(engine.containers.get('pg-setup-auto')!.hostPort).toBe(port);
  expect(await probePort('127.0.0.1', port)).toMatchObject({ kind: 'postgres' });
});
