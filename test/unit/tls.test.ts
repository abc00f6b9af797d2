import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DOCTOR_CHECKS } from '../../src/doctor/checks.js';
import type { DoctorContext } from '../../src/doctor/registry.js';
import { driverTlsQuery, isVerified, nodeSsl, readTls } from '../../src/db/tls.js';
import { buildUrl, parseUrl } from '../../src/db/url.js';
import { providerOptions } from '../helpers/provider-options.js';

const dir = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-tls-unit-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const q = (s: string) => new URLSearchParams(s);

describe("sslmode keeps libpq's meaning on node-postgres", () => {
  test('disable and no setting at all are plaintext, always explicit (node-postgres never reads PGSSLMODE itself)', () => {
    expect(nodeSsl(undefined)).toBe(false);
    expect(nodeSsl({ sslmode: 'disable' })).toBe(false);
  });

  test('require encrypts without checking the certificate (node-postgres would verify it)', () => {
    expect(nodeSsl({ sslmode: 'require' })).toEqual({ rejectUnauthorized: false });
  });

  test('require with a root certificate checks the chain like verify-ca, as libpq does', () => {
    const o = nodeSsl({ sslmode: 'require', sslrootcert: ca });
    expect(o).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(typeof (o as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function');
    expect(isVerified({ sslmode: 'require', sslrootcert: ca })).toBe(true);
  });

  test('verify-ca checks the chain but not the host name; verify-full checks both', () => {
    const vca = nodeSsl({ sslmode: 'verify-ca', sslrootcert: ca }) as { checkServerIdentity?: () => unknown; rejectUnauthorized: boolean };
    expect(vca.rejectUnauthorized).toBe(true);
    expect(vca.checkServerIdentity?.()).toBeUndefined();
    const vfull = nodeSsl({ sslmode: 'verify-full', sslrootcert: ca }) as { checkServerIdentity?: unknown; rejectUnauthorized: boolean };
    expect(vfull.rejectUnauthorized).toBe(true);
    expect(vfull.checkServerIdentity).toBeUndefined(); // node's own host name check
  });

  test('sslrootcert=system trusts the system CAs', () => {
    expect(nodeSsl({ sslmode: 'verify-full', sslrootcert: 'system' })).toEqual({ rejectUnauthorized: true });
  });

  test('an unreadable CA file is a usage error naming the parameter', () => {
    expect(() => nodeSsl({ sslmode: 'verify-full', sslrootcert: join(dir, 'nope.pem') })).toThrow(/sslrootcert file/);
  });
});

describe('where TLS settings come from', () => {
  test("the URL's parameters win; PGSSLMODE / PGSSLROOTCERT fill the gaps", () => {
    expect(readTls(q('sslmode=require'), { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca })).toEqual({ sslmode: 'require', sslrootcert: ca, sslcert: undefined, sslkey: undefined });
    expect(readTls(undefined, { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: ca })?.sslmode).toBe('verify-ca');
    expect(readTls(undefined, {})).toBeUndefined();
  });

  test('a CA file without a mode means verify-full; relative paths become absolute', () => {
    expect(readTls(q('sslrootcert=certs/ca.pem'), {}, '/srv/app')).toMatchObject({ sslmode: 'verify-full', sslrootcert: '/srv/app/certs/ca.pem' });
  });

  test('an unknown sslmode is a usage error', () => {
    expect(() => readTls(q('sslmode=verify'), {})).toThrow(/sslmode "verify" is not one of/);
  });
});

describe("the app's URL carries the TLS in the driver's own form", () => {
  const tls = { sslmode: 'verify-full' as const, sslrootcert: '/etc/ssl/rds-ca.pem' };
  const parts = { user: 'app', password: 'p@ss', host: 'db.example.com', port: 5432, database: 'app', tls };

  test('psycopg: libpq parameters', () => {
    expect(buildUrl({ ...parts, driver: 'psycopg' })).toBe('postgresql+psycopg://app:p%40ss@db.example.com:5432/app?sslmode=verify-full&sslrootcert=/etc/ssl/rds-ca.pem');
  });

  test("asyncpg: ssl=<mode>, and the file in asyncpg's own DSN query", () => {
    expect(driverTlsQuery('asyncpg', tls)).toEqual([['ssl', 'verify-full'], ['dsn', 'postgresql://?sslrootcert=/etc/ssl/rds-ca.pem']]);
    expect(buildUrl({ ...parts, driver: 'asyncpg' })).toBe('postgresql+asyncpg://app:p%40ss@db.example.com:5432/app?ssl=verify-full&dsn=postgresql%3A//%3Fsslrootcert%3D/etc/ssl/rds-ca.pem');
    expect(driverTlsQuery('asyncpg', { sslmode: 'require' })).toEqual([['ssl', 'require']]);
  });

  test.each(['psycopg', 'asyncpg'] as const)('%s: the URL parses back to the same TLS settings (re-runs keep them)', (driver) => {
    expect(parseUrl(buildUrl({ ...parts, driver }))?.tls).toEqual({ ...tls, sslcert: undefined, sslkey: undefined });
  });

  test('no TLS settings: no query at all (URLs written before stay byte for byte)', () => {
    expect(buildUrl({ ...parts, tls: undefined, driver: 'psycopg' })).toBe('postgresql+psycopg://app:p%40ss@db.example.com:5432/app');
  });
});

describe('doctor reports the TLS of the app connection', () => {
  const check = DOCTOR_CHECKS.find((c) => c.id === 'tls')!;
  const ctx = (host: string, sslmode: 'require' | 'verify-full' | undefined, tls: { protocol: string; verified: boolean; hostChecked: boolean } | undefined): DoctorContext => ({
    opts: providerOptions(),
    envText: '',
    envValue: '',
    login: { host, port: 5432, user: 'app', password: 'x', database: 'app', tls: sslmode ? { sslmode } : undefined },
    probe: async () => ({ ok: true, serverVersion: '18.1', superuser: false, databaseOwner: 'app', tls }),
    results: new Map(),
  });

  test('sslmode=require on a remote host: a warning with the fix (verify-full and the CA)', async () => {
    const r = await check.run(ctx('db.example.com', 'require', { protocol: 'TLSv1.3', verified: false, hostChecked: false }));
    expect(r.status).toBe('warn');
    expect(r.detail).toMatch(/TLSv1\.3, but the certificate is NOT verified \(sslmode=require\)/);
    expect(r.fix).toMatch(/sslmode=verify-full&sslrootcert=/);
  });

  test('the same on this machine passes, saying it is not verified', async () => {
    const r = await check.run(ctx('127.0.0.1', 'require', { protocol: 'TLSv1.3', verified: false, hostChecked: false }));
    expect(r).toMatchObject({ status: 'pass', detail: expect.stringMatching(/certificate not verified/) });
  });

  test('plaintext to a remote host warns; verify-full passes with the protocol', async () => {
    expect((await check.run(ctx('db.example.com', undefined, undefined))).status).toBe('warn');
    expect(await check.run(ctx('db.example.com', 'verify-full', { protocol: 'TLSv1.3', verified: true, hostChecked: true }))).toEqual({
      status: 'pass',
      detail: 'TLSv1.3, certificate and host name verified (sslmode=verify-full)',
    });
  });
});
