/**
 * Throwaway PostgreSQL clusters for tests: initdb + pg_ctl in a temp dir on a free port,
 * password (SCRAM) auth over TCP, torn down (and deleted) by stop().
 * As root, initdb refuses to run, so the cluster runs as the `postgres` OS user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCluster {
  host: string;
  port: number;
  superuser: string;
  superPassword: string;
  dataDir: string;
  socketDir: string;
  /** postgres://super:pw@127.0.0.1:port/postgres */
  adminUrl: string;
  binDir: string;
  stop(): void;
  /** Start it again after stopKeep(), on `port` (which may be changed in between). */
  start(): void;
  stopKeep(): void;
}

const isRoot = process.getuid?.() === 0;

/** Directory holding initdb/pg_ctl: PGSETUP_TEST_PG_BIN, PATH, or /usr/lib/postgresql/N/bin. */
export function pgBinDir(): string {
  if (process.env.PGSETUP_TEST_PG_BIN) return process.env.PGSETUP_TEST_PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  try {
    const p = execFileSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).trim();
    if (p) return p.replace(/\/initdb$/, '');
  } catch {
    /* fall through */
  }
  throw new Error('initdb not found: install PostgreSQL server binaries (apt-get install postgresql) or set PGSETUP_TEST_PG_BIN');
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function asPgUser(cmd: string, args: string[], input?: string): string {
  const file = isRoot ? 'runuser' : cmd;
  const argv = isRoot ? ['-u', 'postgres', '--', cmd, ...args] : args;
  return execFileSync(file, argv, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface ClusterOptions {
  /** 'scram' (default): password auth for everyone over TCP and socket. 'trust': no passwords. */
  auth?: 'scram' | 'trust';
  superuser?: string;
  superPassword?: string;
  /** Extra lines prepended to pg_hba.conf (first match wins). */
  hbaPrepend?: string[];
  /** Listen on this port instead of a free one (stand-ins that publish a chosen port). */
  port?: number;
  /** Server binaries to use instead of pgBinDir() (another major). */
  binDir?: string;
  /** Replace pg_hba.conf with these lines. */
  hba?: string[];
  /** Files written into the data folder, owned by the server's user (certificates, keys). */
  dataFiles?: Record<string, { content: string; mode: number }>;
  /** Extra server settings (-c name=value), e.g. ssl=on. */
  settings?: string[];
  /** listen_addresses (default 127.0.0.1). */
  listen?: string;
}

/** Create and start a throwaway cluster. Call stop() in afterAll. */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const binDir = options.binDir ?? pgBinDir();
  const root = mkdtempSync(join(tmpdir(), 'pgsetup-cluster-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const superuser = options.superuser ?? 'postgres';
  const superPassword = options.superPassword ?? `super-${Math.random().toString(36).slice(2)}`;
  if (isRoot) {
    chmodSync(root, 0o755);
    const pw = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(root, Number(pw), Number(gid));
  }
  const pwFile = join(root, 'pwfile');
  writeFileSync(pwFile, superPassword + '\n', { mode: 0o644 });
  asPgUser(`${binDir}/initdb`, [
    '-D', dataDir, '-U', superuser, '--pwfile', pwFile, '-E', 'UTF8', '--locale', 'C',
    '--auth', options.auth === 'trust' ? 'trust' : 'scram-sha-256', '--no-sync',
  ]);
  rmSync(pwFile);
  asPgUser('mkdir', ['-p', socketDir]);
  if (options.hbaPrepend?.length) {
    const hba = join(dataDir, 'pg_hba.conf');
    const cur = asPgUser('cat', [hba]);
    asPgUser('sh', ['-c', 'cat > "$1"', 'sh', hba], options.hbaPrepend.join('\n') + '\n' + cur);
  }
  if (options.hba) asPgUser('sh', ['-c', 'cat > "$1"', 'sh', join(dataDir, 'pg_hba.conf')], options.hba.join('\n') + '\n');
  for (const [name, f] of Object.entries(options.dataFiles ?? {})) {
    asPgUser('sh', ['-c', 'umask 077; cat > "$1"; chmod "$2" "$1"', 'sh', join(dataDir, name), f.mode.toString(8)], f.content);
  }
  const extra = (options.settings ?? []).map((kv) => ` -c ${kv}`).join('');
  const port = options.port ?? (await freePort());
  const cluster: TestCluster = {
    host: '127.0.0.1',
    port,
    superuser,
    superPassword,
    dataDir,
    socketDir,
    binDir,
    adminUrl: `postgres://${superuser}:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/postgres`,
    start() {
      asPgUser(`${binDir}/pg_ctl`, [
        '-D', dataDir, '-l', join(root, 'log'), '-w', '-t', '30',
        '-o', `-p ${cluster.port} -k ${socketDir} -c listen_addresses=${options.listen ?? '127.0.0.1'} -c fsync=off${extra}`, 'start',
      ]);
    },
    stopKeep() {
      try {
        asPgUser(`${binDir}/pg_ctl`, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
    },
    stop() {
      cluster.stopKeep();
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    cluster.start();
  } catch (e) {
    // A cluster that did not start (its port taken meanwhile) leaves no folder behind.
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return cluster;
}
