import { existsSync, readdirSync } from 'node:fs';
import { psqlAdmin, PSQL_ARGS, runPsql, type SqlSession } from '../db/admin.js';
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

/** Stop the cluster `version/name` (pg_ctlcluster, as root): the 'stop' answer to a taken port. */
export async function stopAptCluster(cluster: string, interactive: boolean): Promise<void> {
  const [version, name] = cluster.split('/');
  await runAsRoot('pg_ctlcluster', [version!, name!, 'stop'], { interactive });
}

/** Debian's socket directory; peer auth works only over the unix socket. */
const SOCKET_DIR = '/var/run/postgresql';

/** What one apt provider works with, and the cluster and port it settles on as it runs. */
interface AptContext {
  readonly opts: Readonly<Options>;
  /** --pg-version: the package postgresql-<N> and the clusters of that major only. */
  readonly wanted: string | undefined;
  readonly packageName: string;
  port?: number | undefined;
  cluster?: AptCluster | undefined;
}

function aptContext(opts: Readonly<Options>): AptContext {
  const wanted = opts.pgVersion;
  return { opts, wanted, packageName: wanted ? `postgresql-${wanted}` : 'postgresql', port: typeof opts.port === 'number' ? opts.port : undefined };
}

/** The clusters of the wanted major (all of them without --pg-version). */
function wantedClusters(ctx: AptContext, all: AptCluster[]): AptCluster[] {
  return ctx.wanted ? all.filter((c) => c.version === ctx.wanted) : all;
}

/** The cluster serving our port; with --port auto, the first (newest) cluster. */
function pickCluster(ctx: AptContext, all: AptCluster[]): AptCluster | undefined {
  const { port, wanted } = ctx;
  if (port !== undefined) {
    const onPort = all.find((c) => c.port === port);
    if (onPort && wanted && onPort.version !== wanted)
      throw new UserError(`Port ${port} belongs to the PostgreSQL ${onPort.version}/${onPort.name} cluster, not PostgreSQL ${wanted}.`, {
        hint: `Use it with --pg-version ${onPort.version}, or give PostgreSQL ${wanted} another --port.`,
        exitCode: ExitCode.usage,
      });
    return onPort;
  }
  return wantedClusters(ctx, all).sort((a, b) => Number(b.version) - Number(a.version))[0];
}

function describeCluster(ctx: AptContext): string {
  return ctx.cluster ? `PostgreSQL ${ctx.cluster.version}/${ctx.cluster.name} on port ${ctx.cluster.port}` : 'PostgreSQL';
}

/** psql as the `postgres` OS user over Debian's socket (peer auth). */
async function adminSession(ctx: AptContext): Promise<SqlSession> {
  const { cluster } = ctx;
  const p = ctx.port ?? cluster?.port ?? 5432;
  const psql = which('psql', cluster ? [`/usr/lib/postgresql/${cluster.version}/bin`] : []) ?? 'psql';
  return psqlAdmin(`psql as postgres (peer) on port ${p}`, (sql) =>
    runPsql(psql, [...PSQL_ARGS, '-h', SOCKET_DIR, '-p', String(p), '-d', 'postgres'], sql, {
      user: 'postgres',
      timeoutMs: 30_000,
    }),
  );
}

function isInstalled(ctx: AptContext): boolean {
  return (ctx.wanted ? existsSync(`/usr/lib/postgresql/${ctx.wanted}/bin/postgres`) : newestServerVersion() !== undefined) && which('pg_lsclusters') !== undefined;
}

/** apt-get install as root; an unknown package gets one apt-get update and a second try. */
async function installPackage(ctx: AptContext, progress: (line: string) => void): Promise<string> {
  const { packageName, wanted, opts } = ctx;
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
}

function installStep(ctx: AptContext): Step {
  return {
    title: `Install ${ctx.packageName} with apt`,
    check: async () => (isInstalled(ctx) ? `${ctx.packageName} is installed` : undefined),
    run: (progress) => installPackage(ctx, progress),
    describe: () => [`apt-get install -y ${ctx.packageName}${isRoot() ? '' : ' (via sudo)'}`],
  };
}

/** Picks the cluster (and, with --port auto, its port); done when it is online. */
async function clusterOnline(ctx: AptContext): Promise<string | undefined> {
  const cluster = (ctx.cluster = pickCluster(ctx, await listAptClusters()));
  if (cluster && ctx.port === undefined) ctx.port = cluster.port;
  return cluster?.online ? `${cluster.version}/${cluster.name} is running on port ${cluster.port}` : undefined;
}

/**
 * The package was installed without a cluster (or it was dropped): make one on our port. A
 * cluster of the wanted major on another port is named instead, never duplicated.
 */
async function createAptCluster(ctx: AptContext, all: AptCluster[], progress: (line: string) => void): Promise<AptCluster> {
  const elsewhere = wantedClusters(ctx, all)[0];
  if (elsewhere)
    throw new UserError(`No apt cluster serves port ${ctx.port}; ${elsewhere.version}/${elsewhere.name} uses port ${elsewhere.port}.`, {
      hint: `Use --port ${elsewhere.port} (or --port auto) to use it.`,
      exitCode: ExitCode.usage,
    });
  const version = ctx.wanted ?? newestServerVersion();
  if (!version)
    throw new UserError('No PostgreSQL server package is installed.', {
      hint: 'Run "apt-get install postgresql", or run pg-setup again with --provider apt.',
      exitCode: ExitCode.server,
    });
  const port = (ctx.port ??= await nextFreePort('127.0.0.1', 5432));
  progress(`pg_createcluster ${version} main --port ${port}`);
  await runAsRoot('pg_createcluster', [version, 'main', '--port', String(port)], { interactive: ctx.opts.interactive });
  const made = pickCluster(ctx, await listAptClusters());
  if (!made) throw new UserError(`pg_createcluster did not create a cluster on port ${port}.`, { exitCode: ExitCode.server });
  return made;
}

/** Start the cluster on our port (creating it first when there is none); a failure shows its log. */
async function startAptCluster(ctx: AptContext, progress: (line: string) => void): Promise<string> {
  const all = await listAptClusters();
  ctx.cluster = pickCluster(ctx, all);
  const cluster = (ctx.cluster ??= await createAptCluster(ctx, all, progress));
  ctx.port = cluster.port;
  if (cluster.online) return `${cluster.version}/${cluster.name} was already running`;
  const how = startCommand(cluster);
  progress(how.join(' '));
  const r = await runAsRoot(how[0]!, how.slice(1), { interactive: ctx.opts.interactive, reject: false, timeoutMs: ctx.opts.timeoutMs });
  if (r.exitCode !== 0) {
    const log = (await run('tail', ['-n', '15', cluster.logFile], { user: 'postgres', reject: false })).stdout;
    throw new UserError(`Could not start PostgreSQL ${cluster.version}/${cluster.name}:\n${tail(log || r.stderr || r.stdout)}`, {
      hint: likelyCause(`${r.stderr}\n${log}`),
      exitCode: ExitCode.server,
    });
  }
  return `started ${cluster.version}/${cluster.name} on port ${cluster.port}`;
}

function startStep(ctx: AptContext): Step {
  return {
    title: 'Start the PostgreSQL cluster',
    check: () => clusterOnline(ctx),
    run: (progress) => startAptCluster(ctx, progress),
    describe: () => [ctx.cluster ? startCommand(ctx.cluster).join(' ') : `pg_ctlcluster <version> main start (the cluster on port ${ctx.port ?? 'auto'})`],
  };
}

/** The log is readable by root and postgres only; runuser/sudo -u postgres reaches it either way. */
async function clusterLogTail(ctx: AptContext): Promise<string> {
  return ctx.cluster?.logFile ? (await run('tail', ['-n', '30', ctx.cluster.logFile], { user: 'postgres', reject: false })).stdout : '';
}

function aptReadyStep(ctx: AptContext): Step {
  return readyStep(async () => (await adminSession(ctx)).query('select 1'), {
    timeoutMs: ctx.opts.timeoutMs,
    // Read when shown: the cluster is known once the start step has looked.
    get what() {
      return describeCluster(ctx);
    },
    logTail: () => clusterLogTail(ctx),
  });
}

/** Debian only: our cluster (running or stopped), else installed, else whether apt-get can install it. */
async function detectApt(ctx: AptContext): Promise<ProviderStatus> {
  if (detectPlatform() !== 'debian') return { name: 'apt', state: 'unavailable', detail: 'not Debian or Ubuntu' };
  const all = await listAptClusters();
  const c = pickCluster(ctx, all);
  if (c)
    return {
      name: 'apt',
      state: c.online ? 'running' : 'stopped',
      detail: `cluster ${c.version}/${c.name} on port ${c.port} is ${c.online ? 'running' : 'stopped'}`,
      version: c.version,
      port: c.port,
    };
  if (isInstalled(ctx)) {
    const other = wantedClusters(ctx, all)[0];
    return {
      name: 'apt',
      state: 'installed',
      detail: other ? `cluster ${other.version}/${other.name} uses port ${other.port}, not ${ctx.port}` : 'installed, no cluster yet',
      version: other?.version ?? ctx.wanted,
    };
  }
  if (which('apt-get')) return { name: 'apt', state: 'can-install', detail: `apt-get install ${ctx.packageName}`, version: ctx.wanted };
  return { name: 'apt', state: 'unavailable', detail: 'apt-get not found' };
}

/**
 * PostgreSQL from Debian/Ubuntu packages. Needs from the options: port (or 'auto'),
 * pgVersion (optional: postgresql-<N>), interactive (sudo vs sudo -n), timeoutMs, host.
 * Administers as the `postgres` OS user through peer auth, so no superuser password exists.
 */
export function createAptProvider(opts: Readonly<Options>): Provider {
  const ctx = aptContext(opts);
  const steps = [installStep(ctx), startStep(ctx), aptReadyStep(ctx)];
  return {
    name: 'apt',
    detect: () => detectApt(ctx),
    steps: () => steps,
    endpoint: (): Endpoint => ({ host: opts.host, port: ctx.port ?? ctx.cluster?.port ?? 5432 }),
    admin: () => adminSession(ctx),
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
