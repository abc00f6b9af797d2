import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listAptClusters, createAptProvider } from '../../src/providers/apt.js';
import { run } from '../../src/io/exec.js';
import { probePort } from '../../src/net/probe.js';
import { providerOptions, runSteps } from '../helpers/provider-options.js';

// The real system cluster (Debian's 15/main on 5432): only as root, where apt is the truth.
const cluster = (await listAptClusters()).find((c) => c.port === 5432);
const canRun = process.getuid?.() === 0 && cluster !== undefined;

describe.skipIf(!canRun)('apt provider against the system cluster', () => {
  let wasOnline = false;
  const role = `pgsetup_apt_${process.pid}`;

  beforeAll(async () => {
    wasOnline = cluster!.online;
    if (wasOnline) await run('pg_ctlcluster', [cluster!.version, cluster!.name, 'stop']);
    // The system cluster needs 5432; another suite on this machine may hold it for a moment.
    const until = Date.now() + 60_000;
    while ((await probePort('127.0.0.1', 5432)).kind !== 'free') {
      if (Date.now() > until) throw new Error('port 5432 stays taken by another process');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    const admin = await createAptProvider(providerOptions()).admin();
    await admin.query(`DROP DATABASE IF EXISTS ${role}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    // Leave the system cluster as we found it.
    if (!wasOnline) await run('pg_ctlcluster', [cluster!.version, cluster!.name, 'stop'], { reject: false });
  });

  test('a stopped cluster is detected as stopped, started, and a provisioned role logs in over TCP', async () => {
    const provider = createAptProvider(providerOptions({ port: 5432 }));
    expect((await provider.detect()).state).toBe('stopped');

    const results = await runSteps(provider.steps());
    // pg_ctlcluster waits for startup, so the readiness step may find the server ready already.
    expect(results.map((r) => r.status).slice(0, 2)).toEqual(['present', 'done']);
    expect(results[1]!.detail).toBe(`started ${cluster!.version}/${cluster!.name} on port 5432`);

    const admin = await provider.admin();
    expect(admin.via).toMatch(/peer/);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'apt-e2e-pw'`);
    await admin.query(`CREATE DATABASE ${role} OWNER ${role}`);

    const { host, port } = provider.endpoint();
    const client = new pg.Client({ host, port, user: role, password: 'apt-e2e-pw', database: role });
    await client.connect();
    const r = await client.query('select current_user as u, current_database() as d');
    await client.end();
    expect(r.rows[0]).toEqual({ u: role, d: role });
  });

  test('a second run reuses the running cluster and changes nothing', async () => {
    const provider = createAptProvider(providerOptions({ port: 5432 }));
    expect(await provider.detect()).toMatchObject({ state: 'running', version: cluster!.version });
    const results = await runSteps(provider.steps());
    expect(results.every((r) => r.status === 'present')).toBe(true);
    expect(results[1]!.detail).toBe(`${cluster!.version}/${cluster!.name} is running on port 5432`);
  });

  test('asking for another major on the cluster\'s port names the cluster and the flag to use', async () => {
    const provider = createAptProvider(providerOptions({ port: 5432, pgVersion: '99' }));
    await expect(runSteps(provider.steps().slice(1))).rejects.toMatchObject({
      message: `Port 5432 belongs to the PostgreSQL ${cluster!.version}/${cluster!.name} cluster, not PostgreSQL 99.`,
      hint: expect.stringContaining(`--pg-version ${cluster!.version}`),
    });
  });

  test('asking for a port no apt cluster serves says which port the cluster uses', async () => {
    const provider = createAptProvider(providerOptions({ port: 5999 }));
    expect((await provider.detect()).detail).toMatch(/uses port 5432, not 5999/);
    await expect(runSteps(provider.steps())).rejects.toMatchObject({ hint: expect.stringMatching(/--port 5432/) });
  });
});
