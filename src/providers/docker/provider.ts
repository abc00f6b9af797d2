import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { psqlAdmin, PSQL_ARGS, type SqlSession } from '../../db/admin.js';
import { nextFreePort } from '../../net/free-port.js';
import { describePortState, probePort } from '../../net/probe.js';
import { ExitCode, UserError, usageError } from '../../errors.js';
import { connectDocker, demuxBuffer, execInContainer, isNotFound, type DockerEngine } from '../../io/docker.js';
import { addSecret } from '../../io/secrets.js';
import type { Options } from '../../options/types.js';
import type { Step } from '../../plan/step.js';
import { readyStep } from '../ready.js';
import { PullProgress, type PullEvent } from './pull-progress.js';
import { defaultContainerName, LABEL_MANAGED, LABEL_PG_VERSION, LABEL_PROJECT } from './names.js';
import { dockerTeardownSteps } from './teardown.js';
import type { Endpoint, Provider, ProviderStatus } from '../types.js';

export const DEFAULT_DOCKER_PG_VERSION = '18';

/**
 * The image to run and the PostgreSQL major it holds. Default `postgres:<--pg-version>`;
 * `--docker-image repo` (a mirror or private registry) takes the tag from --pg-version, and
 * `--docker-image repo:tag` names it whole, its tag's leading number being the major.
 */
export function dockerImageRef(dockerImage: string | undefined, pgVersion: string | undefined): { image: string; major: string; explicit: boolean } {
  const wanted = pgVersion?.split('.')[0];
  if (wanted !== undefined && !/^\d+$/.test(wanted))
    throw usageError(`--pg-version must be a PostgreSQL major such as 18, not "${pgVersion}".`);
  const explicit = wanted !== undefined;
  if (!dockerImage) return { image: `postgres:${pgVersion ?? DEFAULT_DOCKER_PG_VERSION}`, major: wanted ?? DEFAULT_DOCKER_PG_VERSION, explicit };
  if (/\s/.test(dockerImage) || dockerImage.includes('@'))
    throw usageError(`--docker-image must be an image name like registry.example.com/postgres or postgres:17, not "${dockerImage}".`);
  const slash = dockerImage.lastIndexOf('/');
  const colon = dockerImage.lastIndexOf(':');
  // A colon before the last slash is a registry's port (127.0.0.1:5000/postgres), not a tag.
  if (colon <= slash) return { image: `${dockerImage}:${pgVersion ?? DEFAULT_DOCKER_PG_VERSION}`, major: wanted ?? DEFAULT_DOCKER_PG_VERSION, explicit };
  const tagMajor = /^(\d+)/.exec(dockerImage.slice(colon + 1))?.[1];
  if (tagMajor && wanted && tagMajor !== wanted)
    throw usageError(`--docker-image ${dockerImage} is PostgreSQL ${tagMajor}, but --pg-version says ${wanted}.`, 'Drop one of them, or make them agree.');
  const major = tagMajor ?? wanted;
  if (!major)
    throw usageError(`The tag of --docker-image ${dockerImage} does not say which PostgreSQL major it holds.`, 'Pass --pg-version N as well (the data folder depends on it).');
  return { image: dockerImage, major, explicit: true };
}

/** Where the image keeps its data: PostgreSQL 18 images moved PGDATA under a versioned dir. */
export function dataMountPath(major: number): string {
  return major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
}

/** Test seams: where the engine is (else DOCKER_HOST / the default socket), where --port auto starts looking. */
export interface DockerProviderDeps {
  dockerHost?: string;
  autoPortFrom?: number;
}

/** What one docker provider works with: its settled names, and what it learns as it runs. */
interface DockerContext {
  readonly opts: Readonly<Options>;
  readonly deps: DockerProviderDeps;
  /** The container's name; its data volume is `<name>-data`. */
  readonly name: string;
  readonly volumeName: string;
  readonly image: string;
  /** The PostgreSQL major the image holds. */
  readonly version: string;
  /** The run named a major (--pg-version, or a tagged --docker-image), which an existing container must match. */
  readonly explicit: boolean;
  readonly labels: Record<string, string>;
  engine?: DockerEngine | undefined;
  /** The published host port: --port, else the existing container's, else picked when it is created. */
  port?: number | undefined;
}

function dockerContext(opts: Readonly<Options>, deps: DockerProviderDeps): DockerContext {
  const name = opts.containerName ?? defaultContainerName(opts.projectDir);
  const { image, major: version, explicit } = dockerImageRef(opts.dockerImage, opts.pgVersion);
  return {
    opts,
    deps,
    name,
    volumeName: `${name}-data`,
    image,
    version,
    explicit,
    labels: { [LABEL_MANAGED]: 'true', [LABEL_PROJECT]: opts.projectDir, [LABEL_PG_VERSION]: version },
    port: typeof opts.port === 'number' ? opts.port : undefined,
  };
}

/** The engine, connected once per provider. */
async function connect(ctx: DockerContext): Promise<DockerEngine> {
  return (ctx.engine ??= await connectDocker({ dockerHost: ctx.deps.dockerHost, timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) }));
}

/** The major a container runs: pg-setup's label, else its image tag's leading number. */
function containerMajor(info: Dockerode.ContainerInspectInfo): string | undefined {
  return info.Config.Labels?.[LABEL_PG_VERSION] ?? /:(\d+)[^:/]*$/.exec(info.Config.Image)?.[1];
}

/** Our container's inspect data, undefined when absent; throws when the name is someone else's. Learns its port. */
async function inspectOurs(ctx: DockerContext): Promise<Dockerode.ContainerInspectInfo | undefined> {
  const { docker } = await connect(ctx);
  let info: Dockerode.ContainerInspectInfo;
  try {
    info = await docker.getContainer(ctx.name).inspect();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  if (info.Config.Labels?.[LABEL_MANAGED] !== 'true')
    throw new UserError(`A container named "${ctx.name}" already exists and was not created by pg-setup (image ${info.Config.Image}).`, {
      hint: `Choose another name with --container-name, or remove that container yourself if it is unused.`,
      exitCode: ExitCode.server,
    });
  const bound = info.HostConfig.PortBindings?.['5432/tcp']?.[0]?.HostPort;
  if (bound) ctx.port = Number(bound);
  return info;
}

/**
 * A re-run finds the container as it was made. When --pg-version (or --docker-image) or
 * --port now ask for something else, pg-setup does not quietly keep the old one, nor
 * recreate it (the app's URL and pg-setup's records point at it): it stops and says how.
 */
function checkReuse(ctx: DockerContext, info: Dockerode.ContainerInspectInfo): void {
  const { name, volumeName, image, version, opts } = ctx;
  const had = containerMajor(info);
  if (ctx.explicit && had && had !== version)
    throw new UserError(
      `Container ${name} runs PostgreSQL ${had} (${info.Config.Image}), and its volume ${volumeName} holds PostgreSQL ${had} data; ${image} (PostgreSQL ${version}) cannot use it. Nothing was changed.`,
      {
        hint: `Drop --pg-version (or pass --pg-version ${had}) to keep using it; for PostgreSQL ${version}, pass another --container-name (a new container and volume) and move the data with pg_dump and pg_restore.`,
        exitCode: ExitCode.usage,
      },
    );
  const bound = Number(info.HostConfig.PortBindings?.['5432/tcp']?.[0]?.HostPort);
  if (opts.portGiven && typeof opts.port === 'number' && bound && bound !== opts.port)
    throw new UserError(
      `Container ${name} publishes 127.0.0.1:${bound}, not the --port ${opts.port} asked for; pg-setup keeps a container's port (the URL in .env points at it). Nothing was changed.`,
      {
        hint: `Drop --port (or pass --port ${bound}) to keep using it, or pass another --container-name for a new server on port ${opts.port}.`,
        exitCode: ExitCode.usage,
      },
    );
}

/** Run SQL with psql inside the container over its local socket; returns its output. */
async function psqlInContainer(ctx: DockerContext, sql: string): Promise<string> {
  const { docker } = await connect(ctx);
  // Local socket inside the container: the image trusts local connections, so the superuser
  // password (which a reused volume may have from an earlier container) is never needed.
  const r = await execInContainer(docker.getContainer(ctx.name), ['psql', ...PSQL_ARGS, '-U', 'postgres', '-d', 'postgres'], sql, {
    timeoutMs: 30_000,
  });
  if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `psql exited with ${r.exitCode}`);
  return r.stdout;
}

async function adminSession(ctx: DockerContext): Promise<SqlSession> {
  return psqlAdmin(`psql in container ${ctx.name} (local socket)`, (sql) => psqlInContainer(ctx, sql));
}

/** Done already when our container exists (and may be reused) or the image is present. */
async function imageOrContainerPresent(ctx: DockerContext): Promise<string | undefined> {
  const { docker } = await connect(ctx);
  const existing = await inspectOurs(ctx);
  if (existing) {
    checkReuse(ctx, existing);
    return `container ${ctx.name} exists (${existing.Config.Image})`;
  }
  // A volume this major cannot use is refused before a big image is pulled for nothing.
  await checkVolume(docker, ctx.volumeName, ctx.version);
  try {
    await docker.getImage(ctx.image).inspect();
    return `${ctx.image} is present`;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Pull the image through the engine, showing one aggregated progress line. */
async function pullImage(ctx: DockerContext, progress: (line: string) => void): Promise<string> {
  const { docker } = await connect(ctx);
  const bar = new PullProgress();
  let shown = '';
  const stream = await docker.pull(ctx.image);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve()),
      (e: PullEvent) => {
        try {
          const line = bar.update(e);
          const now = bar.milestone();
          if (now !== shown) progress(line);
          shown = now;
        } catch (userError) {
          reject(userError);
        }
      },
    );
  });
  progress(bar.finish());
  return `pulled ${ctx.image}`;
}

function pullStep(ctx: DockerContext): Step {
  return {
    title: `Pull image ${ctx.image}`,
    check: () => imageOrContainerPresent(ctx),
    run: (progress) => pullImage(ctx, progress),
    describe: () => [`pull ${ctx.image} through the Docker engine API`],
  };
}

async function containerRunning(ctx: DockerContext): Promise<string | undefined> {
  const info = await inspectOurs(ctx);
  if (info) checkReuse(ctx, info);
  return info?.State.Running ? `${ctx.name} is running on 127.0.0.1:${ctx.port}` : undefined;
}

/** Start the existing container, or create it on a free port with its volume. */
async function startContainer(ctx: DockerContext, progress: (line: string) => void): Promise<string> {
  const { docker } = await connect(ctx);
  if (await inspectOurs(ctx)) {
    progress(`starting ${ctx.name}`);
    await docker.getContainer(ctx.name).start();
    return `started the existing container ${ctx.name}`;
  }
  const port = (ctx.port ??= await nextFreePort('127.0.0.1', ctx.deps.autoPortFrom ?? 5432));
  await refuseTakenPort(ctx, port);
  await ensureVolume(docker, ctx.volumeName, ctx.labels);
  // Only used on a fresh volume's first start; we administer via exec, so it is never shown.
  const password = randomBytes(24).toString('base64url');
  addSecret(password);
  progress(`creating ${ctx.name}`);
  await docker.createContainer(containerSpec(ctx, port, password));
  await docker.getContainer(ctx.name).start();
  return `created ${ctx.name} (${ctx.image}) on 127.0.0.1:${port}, data in volume ${ctx.volumeName}`;
}

/** Throws, naming what holds it, when the port to publish on is taken. */
async function refuseTakenPort(ctx: DockerContext, port: number): Promise<void> {
  const state = await probePort('127.0.0.1', port);
  if (state.kind === 'free') return;
  // A container publishing the port is named as such: "PostgreSQL" alone would send the user looking for a service.
  const holder = await findContainerOnPort(await connect(ctx), port).catch(() => undefined);
  const what = holder ? `container ${holder.name} (${holder.image}${holder.ours ? ', made by pg-setup' : ''})` : describePortState(state);
  throw new UserError(`Port ${port} on 127.0.0.1 is taken by ${what}.`, {
    hint: 'Stop what listens there, or pick another port with --port <n> (or --port auto).',
    exitCode: ExitCode.server,
  });
}

/** The container: published on 127.0.0.1 only, data in the volume, restarted unless stopped. */
function containerSpec(ctx: DockerContext, port: number, password: string): Dockerode.ContainerCreateOptions {
  return {
    name: ctx.name,
    Image: ctx.image,
    Env: [`POSTGRES_PASSWORD=${password}`],
    Labels: ctx.labels,
    ExposedPorts: { '5432/tcp': {} },
    Healthcheck: {
      Test: ['CMD-SHELL', 'pg_isready -U postgres -h 127.0.0.1 -p 5432'],
      Interval: 2e9,
      Timeout: 5e9,
      Retries: 5,
      StartPeriod: 10e9,
    },
    HostConfig: {
      PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Mounts: [{ Type: 'volume', Source: ctx.volumeName, Target: dataMountPath(Number(ctx.version)) }],
      RestartPolicy: { Name: 'unless-stopped' },
    },
  };
}

function containerStep(ctx: DockerContext): Step {
  return {
    title: `Start container ${ctx.name}`,
    check: () => containerRunning(ctx),
    run: (progress) => startContainer(ctx, progress),
    describe: () => [
      `create container ${ctx.name} from ${ctx.image}: 127.0.0.1:${ctx.port ?? 'auto'} -> 5432, volume ${ctx.volumeName} at ${dataMountPath(Number(ctx.version))}, restart unless-stopped`,
    ],
  };
}

/** One readiness attempt: a query over the socket, and PostgreSQL answering on the published port. */
async function answersOnPublishedPort(ctx: DockerContext): Promise<void> {
  await psqlInContainer(ctx, 'select 1');
  // The image's init phase runs a socket-only server and then restarts it; only a
  // PostgreSQL answering on the published port means the real server is up.
  const s = await probePort('127.0.0.1', ctx.port ?? 5432, 1000);
  if (s.kind !== 'postgres') throw new Error(`port ${ctx.port} does not answer as PostgreSQL yet`);
}

async function containerLogTail(ctx: DockerContext): Promise<string> {
  const { docker } = await connect(ctx);
  const buf = (await docker.getContainer(ctx.name).logs({ stdout: true, stderr: true, tail: 30, follow: false })) as Buffer;
  const { stdout, stderr } = demuxBuffer(buf);
  return stdout + stderr;
}

function dockerReadyStep(ctx: DockerContext): Step {
  return readyStep(() => answersOnPublishedPort(ctx), {
    timeoutMs: ctx.opts.timeoutMs,
    what: `PostgreSQL in container ${ctx.name}`,
    logTail: () => containerLogTail(ctx),
  });
}

/** Our container (running or stopped), else whether the image is here; unavailable without an engine. */
async function detectDocker(ctx: DockerContext): Promise<ProviderStatus> {
  try {
    const { docker, where } = await connect(ctx);
    const info = await inspectOurs(ctx);
    if (info)
      return {
        name: 'docker',
        state: info.State.Running ? 'running' : 'stopped',
        detail: `container ${ctx.name} (${info.Config.Image}) on 127.0.0.1:${ctx.port} is ${info.State.Running ? 'running' : 'stopped'}`,
        version: containerMajor(info),
        port: ctx.port,
      };
    const hasImage = await docker.getImage(ctx.image).inspect().then(() => true, () => false);
    return {
      name: 'docker',
      state: hasImage ? 'installed' : 'can-install',
      detail: `engine at ${where}; ${hasImage ? `${ctx.image} is present` : `would pull ${ctx.image}`}`,
      version: ctx.version,
    };
  } catch (e) {
    return { name: 'docker', state: 'unavailable', detail: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * PostgreSQL in a Docker container `pg-setup-<project>` (or --container-name), image
 * postgres:<N> (default 18), published on 127.0.0.1 only, data in a named volume.
 * Needs from the options: projectDir, containerName, pgVersion, port (or 'auto'), timeoutMs.
 * Administers through `psql` exec'd inside the container over its local socket, so a
 * volume initialised with an older POSTGRES_PASSWORD never blocks a run.
 */
export function createDockerProvider(opts: Readonly<Options>, deps: DockerProviderDeps = {}): Provider {
  const ctx = dockerContext(opts, deps);
  const steps = [pullStep(ctx), containerStep(ctx), dockerReadyStep(ctx)];
  return {
    name: 'docker',
    detect: () => detectDocker(ctx),
    steps: () => steps,
    endpoint: (): Endpoint => ({ host: '127.0.0.1', port: ctx.port ?? 5432 }),
    admin: () => adminSession(ctx),
    teardownSteps: () => dockerTeardownSteps(opts, deps),
  };
}

async function ensureVolume(docker: Dockerode, name: string, labels: Record<string, string>): Promise<void> {
  if (!(await checkVolume(docker, name, labels[LABEL_PG_VERSION]))) await docker.createVolume({ Name: name, Labels: labels });
}

/**
 * Whether volume `name` exists; throws when it holds another major's data (by pg-setup's
 * label). A volume left by an earlier container is reused: its data (and old password) stays.
 * A different major cannot read that data, and the image would only fail in its log.
 */
async function checkVolume(docker: Dockerode, name: string, wanted: string | undefined): Promise<boolean> {
  let existing: Dockerode.VolumeInspectInfo;
  try {
    existing = await docker.getVolume(name).inspect();
  } catch (e) {
    if (!isNotFound(e)) throw e;
    return false;
  }
  const was = existing.Labels?.[LABEL_PG_VERSION];
  if (was && wanted && was !== wanted)
    throw new UserError(`Volume ${name} holds PostgreSQL ${was} data; PostgreSQL ${wanted} cannot use it.`, {
      hint: `Run with --pg-version ${was}, or choose another --container-name (a new volume); remove the old volume only after a dump.`,
      exitCode: ExitCode.server,
    });
  return true;
}

/** A container publishing `port` on the host, and whether pg-setup made it (for port conflicts). */
async function findContainerOnPort(
  engine: DockerEngine,
  port: number,
): Promise<{ name: string; ours: boolean; image: string } | undefined> {
  const list = await engine.docker.listContainers({ filters: JSON.stringify({ publish: [String(port)] }) });
  const c = list.find((x) => x.Ports.some((p) => p.PublicPort === port));
  if (!c) return undefined;
  return { name: (c.Names[0] ?? c.Id).replace(/^\//, ''), ours: c.Labels?.[LABEL_MANAGED] === 'true', image: c.Image };
}

/** The container publishing `port`, when an engine answers within a second; undefined otherwise. */
export async function containerOnPort(port: number, deps: { dockerHost?: string } = {}): Promise<{ name: string; ours: boolean; image: string } | undefined> {
  const engine = await connectDocker({ dockerHost: deps.dockerHost, timeoutMs: 1000 }).catch(() => undefined);
  return engine ? await findContainerOnPort(engine, port).catch(() => undefined) : undefined;
}

/** Stop a container through the engine API: the 'stop' answer to a taken port. */
export async function stopContainer(name: string, deps: { dockerHost?: string } = {}): Promise<void> {
  const { docker } = await connectDocker({ dockerHost: deps.dockerHost });
  await docker.getContainer(name).stop();
}
