import { existsSync, readdirSync } from 'node:fs';
import { psqlAdmin, PSQL_ARGS, runPsql, type AdminSql } from '../db/admin.js';
import { detectPlatform, isRoot } from '../detect/os.js';
import { nextFreePort } from '../net/free-port.js';
import { ExitCode, UserError } from '../errors.js';
import { run, which } from '../io/exec.js';
import type { Options } from '../options/types.js';
import type { Step } from '../plan/step.js';
import { runAsRoot } from './privileged.js';
import { likelyCause, readyStep } from './ready.js';
import type { Endpoint, Provider, ProviderStatus } from './types.js';

/** One row of `pg_lsclusters`: a Debian-managed cluster. */
export interface AptCluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
  owner: string;
  dataDir: string;
  logFile: string;
}

/** Parse `pg_lsclusters -h` (one cluster per line, no header). Text, since --json is recent. */
export function parseLsClusters(text: string): AptCluster[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && /^\d+(\.\d+)?$/.test(f[0] ?? ''))
    .map(([version, name, port, status, owner, dataDir, logFile]) => ({
      version: version!,
      name: name!,
      port: Number(port),
      online: (status ?? '').startsWith('online'),
      owner: owner!,
      dataDir: dataDir!,
      logFile: logFile ?? '',
    }));
}

/** Clusters Debian's postgresql-common knows about (empty when it is not installed). */
export async function listAptClusters(): Promise<AptCluster[]> {
  if (!which('pg_lsclusters')) return [];
  const r = await run('pg_lsclusters', ['-h'], { reject: false });
  return r.exitCode === 0 ? parseLsClusters(r.stdout) : [];
}

/** Debian's socket directory; peer auth works only over the unix socket. */
const SOCKET_DIR = '/var/run/postgresql';

/**
 * PostgreSQL from Debian/Ubuntu packages. Needs from the options: port (or 'auto'),
 * pgVersion (optional: postgresql-<N>), interactive (sudo vs sudo -n), timeoutMs, host.
 * Administers as the `postgres` OS user through peer auth, so no superuser password exists.
 */
export function createAptProvider(opts: Options): Provider {
  const wanted = opts.pgVersion;
  let port: number | undefined = typeof opts.port === 'number' ? opts.port : undefined;
  let cluster: AptCluster | undefined;

  const mine = (all: AptCluster[]): AptCluster[] => (wanted ? all.filter((c) => c.version === wanted) : all);
  /** The cluster serving our port; with --port auto, the first (newest) cluster. */
  const pick = (all: AptCluster[]): AptCluster | undefined => {
    if (port !== undefined) {
      const onPort = all.find((c) => c.port === port);
      if (onPort && wanted && onPort.version !== wanted)
        throw new UserError(`Port ${port} belongs to the PostgreSQL ${onPort.version}/${onPort.name} cluster, not PostgreSQL ${wanted}.`, {
          hint: `Use it with --pg-version ${onPort.version}, or give PostgreSQL ${wanted} another --port.`,
          exitCode: ExitCode.usage,
        });
      return onPort;
    }
    return mine(all).sort((a, b) => Number(b.version) - Number(a.version))[0];
  };
  const what = (): string => (cluster ? `PostgreSQL ${cluster.version}/${cluster.name} on port ${cluster.port}` : 'PostgreSQL');
  const admin = async (): Promise<AdminSql> => {
    const p = port ?? cluster?.port ?? 5432;
    const psql = which('psql', cluster ? [`/usr/lib/postgresql/${cluster.version}/bin`] : []) ?? 'psql';
    return psqlAdmin(`psql as postgres (peer) on port ${p}`, (sql) =>
      runPsql(psql, [...PSQL_ARGS, '-h', SOCKET_DIR, '-p', String(p), '-d', 'postgres'], sql, {
        user: 'postgres',
        timeoutMs: 30_000,
      }),
    );
  };
  const packageName = wanted ? `postgresql-${wanted}` : 'postgresql';
  const isInstalled = (): boolean =>
    (wanted ? existsSync(`/usr/lib/postgresql/${wanted}/bin/postgres`) : newestServerVersion() !== undefined) &&
    which('pg_lsclusters') !== undefined;

  const install: Step = {
    title: `Install ${packageName} with apt`,
    async check() {
      return isInstalled() ? `${packageName} is installed` : undefined;
    },
    async run(progress) {
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      const args = ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', packageName];
      progress(`apt-get install -y ${packageName}`);
      // `env` carries DEBIAN_FRONTEND through sudo, which resets the environment.
      let r = await runAsRoot('env', args, { interactive: opts.interactive, env, reject: false });
      if (r.exitCode !== 0 && /unable to locate package|has no installation candidate/i.test(r.stderr + r.stdout)) {
        progress('apt-get update');
        await runAsRoot('apt-get', ['update', '-q'], { interactive: opts.interactive, reject: false });
        r = await runAsRoot('env', args, { interactive: opts.interactive, env, reject: false });
      }
      if (r.exitCode !== 0)
        throw new UserError(`apt-get could not install ${packageName}:\n${tail(r.stderr || r.stdout)}`, {
          hint: wanted
            ? `Check that PostgreSQL ${wanted} is packaged for this release (apt-cache policy ${packageName}), or add the PGDG apt repository.`
            : 'Run "apt-get install postgresql" yourself to see the full error.',
          exitCode: ExitCode.server,
        });
      return `installed ${packageName}`;
    },
    describe() {
      return [`apt-get install -y ${packageName}${isRoot() ? '' : ' (via sudo)'}`];
    },
  };

  const start: Step = {
    title: 'Start the PostgreSQL cluster',
    async check() {
      const all = await listAptClusters();
      cluster = pick(all);
      if (cluster && port === undefined) port = cluster.port;
      return cluster?.online ? `${cluster.version}/${cluster.name} is running on port ${cluster.port}` : undefined;
    },
    async run(progress) {
      const all = await listAptClusters();
      cluster = pick(all);
      if (!cluster) {
        const elsewhere = mine(all)[0];
        if (elsewhere)
          throw new UserError(`No apt cluster serves port ${port}; ${elsewhere.version}/${elsewhere.name} uses port ${elsewhere.port}.`, {
            hint: `Use --port ${elsewhere.port} (or --port auto) to use it.`,
            exitCode: ExitCode.usage,
          });
        // The package was installed without a cluster (or it was dropped): make one on our port.
        const version = wanted ?? newestServerVersion();
        if (!version)
          throw new UserError('No PostgreSQL server package is installed.', {
            hint: 'Run "apt-get install postgresql", or run pg-setup again with --provider apt.',
            exitCode: ExitCode.server,
          });
        port ??= await nextFreePort('127.0.0.1', 5432);
        progress(`pg_createcluster ${version} main --port ${port}`);
        await runAsRoot('pg_createcluster', [version, 'main', '--port', String(port)], { interactive: opts.interactive });
        cluster = pick(await listAptClusters());
        if (!cluster) throw new UserError(`pg_createcluster did not create a cluster on port ${port}.`, { exitCode: ExitCode.server });
      }
      port = cluster.port;
      if (cluster.online) return `${cluster.version}/${cluster.name} was already running`;
      const how = startCommand(cluster);
      progress(how.join(' '));
      const r = await runAsRoot(how[0]!, how.slice(1), { interactive: opts.interactive, reject: false, timeoutMs: opts.timeoutMs });
      if (r.exitCode !== 0) {
        const log = (await run('tail', ['-n', '15', cluster.logFile], { user: 'postgres', reject: false })).stdout;
        throw new UserError(`Could not start PostgreSQL ${cluster.version}/${cluster.name}:\n${tail(log || r.stderr || r.stdout)}`, {
          hint: likelyCause(`${r.stderr}\n${log}`),
          exitCode: ExitCode.server,
        });
      }
      return `started ${cluster.version}/${cluster.name} on port ${cluster.port}`;
    },
    describe() {
      return [cluster ? startCommand(cluster).join(' ') : `pg_ctlcluster <version> main start (the cluster on port ${port ?? 'auto'})`];
    },
  };

  const ready = readyStep(async () => (await admin()).query('select 1'), {
    timeoutMs: opts.timeoutMs,
    get what() {
      return what();
    },
    // The log is readable by root and postgres only; runuser/sudo -u postgres reaches it either way.
    logTail: async () =>
      cluster?.logFile ? (await run('tail', ['-n', '30', cluster.logFile], { user: 'postgres', reject: false })).stdout : '',
  });

  return {
    name: 'apt',
    async detect(): Promise<ProviderStatus> {
      if (detectPlatform() !== 'debian')
        return { name: 'apt', state: 'unavailable', detail: 'not Debian or Ubuntu' };
      const all = await listAptClusters();
      const c = pick(all);
      if (c)
        return {
          name: 'apt',
          state: c.online ? 'running' : 'stopped',
          detail: `cluster ${c.version}/${c.name} on port ${c.port} is ${c.online ? 'running' : 'stopped'}`,
          version: c.version,
          port: c.port,
        };
      if (isInstalled()) {
        const other = mine(all)[0];
        return {
          name: 'apt',
          state: 'installed',
          detail: other ? `cluster ${other.version}/${other.name} uses port ${other.port}, not ${port}` : 'installed, no cluster yet',
          version: other?.version ?? wanted,
        };
      }
      if (which('apt-get')) return { name: 'apt', state: 'can-install', detail: `apt-get install ${packageName}`, version: wanted };
      return { name: 'apt', state: 'unavailable', detail: 'apt-get not found' };
    },
    steps: () => [install, start, ready],
    endpoint(): Endpoint {
      return { host: opts.host, port: port ?? cluster?.port ?? 5432 };
    },
    admin,
  };
}

/** pg_ctlcluster works without systemd; where systemd runs, use it so it tracks the service. */
function startCommand(c: AptCluster): string[] {
  return existsSync('/run/systemd/system')
    ? ['systemctl', 'start', `postgresql@${c.version}-${c.name}`]
    : ['pg_ctlcluster', c.version, c.name, 'start'];
}

/** The newest PostgreSQL server major installed from packages (postgresql-common alone is not a server). */
function newestServerVersion(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  return readdirSync(base)
    .filter((d) => existsSync(`${base}/${d}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a))[0];
}

function tail(s: string, n = 8): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}
