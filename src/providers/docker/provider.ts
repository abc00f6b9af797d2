import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type Dockerode from 'dockerode';
import { psqlAdmin, PSQL_ARGS, type AdminSql } from '../../db/admin.js';
import { nextFreePort } from '../../net/free-port.js';
import { describePortState, probePort } from '../../net/probe.js';
import { ExitCode, UserError, usageError } from '../../errors.js';
import { connectDocker, demuxBuffer, execInContainer, isNotFound, type DockerEngine } from '../../io/docker.js';
import { addSecret } from '../../io/secrets.js';
import type { Options } from '../../options/types.js';
import type { Step } from '../../plan/step.js';
import { readyStep } from '../ready.js';
import type { Endpoint, Provider, ProviderStatus } from '../types.js';

/** Labels that mark a container or volume as created by pg-setup (and for which project). */
export const LABEL_MANAGED = 'dev.pg-setup.managed';
export const LABEL_PROJECT = 'dev.pg-setup.project';
export const LABEL_PG_VERSION = 'dev.pg-setup.pg-version';
export const DEFAULT_DOCKER_PG_VERSION = '18';

/** `pg-setup-<project>`: the project folder's name, reduced to what Docker accepts. */
export function defaultContainerName(projectDir: string): string {
  const slug = basename(projectDir).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return `pg-setup-${slug || 'app'}`;
}

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

interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Aggregates `docker pull` JSON-lines events over all layers into one progress line,
 * instead of one line per layer: "[#####-----] 52% 3/7 layers 40.1/77.0 MB".
 */
export class PullProgress {
  private layers = new Map<string, { current: number; total: number; done: boolean }>();

  /** Feed one event; returns the line to show. */
  update(e: PullEvent): string {
    if (e.error || e.errorDetail)
      throw new UserError(`Pulling the image failed: ${e.errorDetail?.message ?? e.error}`, {
        hint: 'Check the image tag (--pg-version) and your network or registry login, then run again.',
        exitCode: ExitCode.server,
      });
    // Events without a layer id are image-level ("Pulling from library/postgres", "Digest: ...").
    if (e.id && e.status && !/^Pulling from/.test(e.status)) {
      const l = this.layers.get(e.id) ?? { current: 0, total: 0, done: false };
      if (e.status === 'Downloading' && e.progressDetail?.total) {
        l.current = e.progressDetail.current ?? l.current;
        l.total = e.progressDetail.total;
      }
      if (/^(Download complete|Pull complete|Already exists)$/.test(e.status)) {
        l.current = l.total;
        if (e.status !== 'Download complete') l.done = true;
      }
      this.layers.set(e.id, l);
    }
    return this.line();
  }

  private shown = 0;

  /** Share of the pull done, 0..1, never going back. */
  private ratio(): number {
    const all = [...this.layers.values()];
    if (all.length === 0) return 0;
    if (all.every((l) => l.done)) return 1;
    const total = all.reduce((s, l) => s + l.total, 0);
    const current = all.reduce((s, l) => s + l.current, 0);
    // A layer's size is only known once it starts downloading (others wait their turn), so
    // bytes only count once every layer is sized; until then, finished layers do. A small
    // layer that finishes first must not read as the whole pull.
    const sized = all.every((l) => l.total > 0 || l.done);
    const now = sized && total ? current / total : all.filter((l) => l.done).length / all.length;
    this.shown = Math.max(this.shown, Math.min(0.99, now));
    return this.shown;
  }

  /**
   * Changes only when the bar would visibly change (a '#' more, a layer more), so a log
   * without a terminal gets a few lines per pull rather than one per engine event.
   */
  milestone(): string {
    const all = [...this.layers.values()];
    return `${Math.floor(this.ratio() * 20)}/${all.filter((l) => l.done).length}/${all.length}`;
  }

  line(): string {
    const all = [...this.layers.values()];
    const total = all.reduce((s, l) => s + l.total, 0);
    const current = all.reduce((s, l) => s + l.current, 0);
    const done = all.filter((l) => l.done).length;
    const ratio = this.ratio();
    const width = 20;
    const filled = Math.floor(ratio * width);
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${all.length} layers${total ? ` ${mb(current)}/${mb(total)} MB` : ''}`;
  }
}

/** Test seams: where the engine is (else DOCKER_HOST / the default socket), where --port auto starts looking. */
export interface DockerProviderDeps {
  dockerHost?: string;
  autoPortFrom?: number;
}

/**
 * PostgreSQL in a Docker container `pg-setup-<project>` (or --container-name), image
 * postgres:<N> (default 18), published on 127.0.0.1 only, data in a named volume.
 * Needs from the options: projectDir, containerName, pgVersion, port (or 'auto'), timeoutMs.
 * Administers through `psql` exec'd inside the container over its local socket, so a
 * volume initialised with an older POSTGRES_PASSWORD never blocks a run.
 */
export function createDockerProvider(opts: Options, deps: DockerProviderDeps = {}): Provider {
  const name = opts.containerName ?? defaultContainerName(opts.projectDir);
  const volumeName = `${name}-data`;
  // `explicit`: the run named a major (--pg-version, or a tagged --docker-image), which an existing container must match.
  const { image, major: version, explicit } = dockerImageRef(opts.dockerImage, opts.pgVersion);
  let engine: DockerEngine | undefined;
  let port: number | undefined = typeof opts.port === 'number' ? opts.port : undefined;

  const connect = async (): Promise<DockerEngine> =>
    (engine ??= await connectDocker({ dockerHost: deps.dockerHost, timeoutMs: Math.min(opts.timeoutMs, 5000) }));

  /** Our container's inspect data, undefined when absent; throws when the name is someone else's. */
  const inspectOurs = async (): Promise<Dockerode.ContainerInspectInfo | undefined> => {
    const { docker } = await connect();
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await docker.getContainer(name).inspect();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    if (info.Config.Labels?.[LABEL_MANAGED] !== 'true')
      throw new UserError(`A container named "${name}" already exists and was not created by pg-setup (image ${info.Config.Image}).`, {
        hint: `Choose another name with --container-name, or remove that container yourself if it is unused.`,
        exitCode: ExitCode.server,
      });
    const bound = info.HostConfig.PortBindings?.['5432/tcp']?.[0]?.HostPort;
    if (bound) port = Number(bound);
    return info;
  };

  /**
   * A re-run finds the container as it was made. When --pg-version (or --docker-image) or
   * --port now ask for something else, pg-setup does not quietly keep the old one, nor
   * recreate it (the app's URL and pg-setup's records point at it): it stops and says how.
   */
  const checkReuse = (info: Dockerode.ContainerInspectInfo): void => {
    const had = info.Config.Labels?.[LABEL_PG_VERSION] ?? /:(\d+)[^:/]*$/.exec(info.Config.Image)?.[1];
    if (explicit && had && had !== version)
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
  };

  const exec = async (sql: string): Promise<string> => {
    const { docker } = await connect();
    // Local socket inside the container: the image trusts local connections, so the superuser
    // password (which a reused volume may have from an earlier container) is never needed.
    const r = await execInContainer(docker.getContainer(name), ['psql', ...PSQL_ARGS, '-U', 'postgres', '-d', 'postgres'], sql, {
      timeoutMs: 30_000,
    });
    if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `psql exited with ${r.exitCode}`);
    return r.stdout;
  };
  const admin = async (): Promise<AdminSql> => psqlAdmin(`psql in container ${name} (local socket)`, exec);

  const labels = { [LABEL_MANAGED]: 'true', [LABEL_PROJECT]: opts.projectDir, [LABEL_PG_VERSION]: version };

  const pull: Step = {
    title: `Pull image ${image}`,
    async check() {
      const { docker } = await connect();
      const existing = await inspectOurs();
      if (existing) {
        checkReuse(existing);
        return `container ${name} exists (${existing.Config.Image})`;
      }
      // A volume this major cannot use is refused before a big image is pulled for nothing.
      await checkVolume(docker, volumeName, version);
      try {
        await docker.getImage(image).inspect();
        return `${image} is present`;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    async run(progress) {
      const { docker } = await connect();
      const bar = new PullProgress();
      let shown = '';
      const stream = await docker.pull(image);
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
      return `pulled ${image}`;
    },
    describe: () => [`pull ${image} through the Docker engine API`],
  };

  const container: Step = {
    title: `Start container ${name}`,
    async check() {
      const info = await inspectOurs();
      if (info) checkReuse(info);
      return info?.State.Running ? `${name} is running on 127.0.0.1:${port}` : undefined;
    },
    async run(progress) {
      const { docker } = await connect();
      const info = await inspectOurs();
      if (info) {
        progress(`starting ${name}`);
        await docker.getContainer(name).start();
        return `started the existing container ${name}`;
      }
      port ??= await nextFreePort('127.0.0.1', deps.autoPortFrom ?? 5432);
      const state = await probePort('127.0.0.1', port);
      if (state.kind !== 'free') {
        // A container publishing the port is named as such: "PostgreSQL" alone would send the user looking for a service.
        const holder = await findContainerOnPort(await connect(), port).catch(() => undefined);
        const what = holder
          ? `container ${holder.name} (${holder.image}${holder.ours ? ', made by pg-setup' : ''})`
          : describePortState(state);
        throw new UserError(`Port ${port} on 127.0.0.1 is taken by ${what}.`, {
          hint: 'Stop what listens there, or pick another port with --port <n> (or --port auto).',
          exitCode: ExitCode.server,
        });
      }
      await ensureVolume(docker, volumeName, labels);
      // Only used on a fresh volume's first start; we administer via exec, so it is never shown.
      const password = randomBytes(24).toString('base64url');
      addSecret(password);
      progress(`creating ${name}`);
      await docker.createContainer({
        name,
        Image: image,
        Env: [`POSTGRES_PASSWORD=${password}`],
        Labels: labels,
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
          Mounts: [{ Type: 'volume', Source: volumeName, Target: dataMountPath(Number(version)) }],
          RestartPolicy: { Name: 'unless-stopped' },
        },
      });
      await docker.getContainer(name).start();
      return `created ${name} (${image}) on 127.0.0.1:${port}, data in volume ${volumeName}`;
    },
    describe: () => [
      `create container ${name} from ${image}: 127.0.0.1:${port ?? 'auto'} -> 5432, volume ${volumeName} at ${dataMountPath(Number(version))}, restart unless-stopped`,
    ],
  };

  const ready = readyStep(
    async () => {
      await exec('select 1');
      // The image's init phase runs a socket-only server and then restarts it; only a
      // PostgreSQL answering on the published port means the real server is up.
      const s = await probePort('127.0.0.1', port ?? 5432, 1000);
      if (s.kind !== 'postgres') throw new Error(`port ${port} does not answer as PostgreSQL yet`);
    },
    {
      timeoutMs: opts.timeoutMs,
      what: `PostgreSQL in container ${name}`,
      logTail: async () => {
        const { docker } = await connect();
        const buf = (await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: 30, follow: false })) as Buffer;
        const { stdout, stderr } = demuxBuffer(buf);
        return stdout + stderr;
      },
    },
  );

  return {
    name: 'docker',
    async detect(): Promise<ProviderStatus> {
      try {
        const { docker, where } = await connect();
        const info = await inspectOurs();
        if (info)
          return {
            name: 'docker',
            state: info.State.Running ? 'running' : 'stopped',
            detail: `container ${name} (${info.Config.Image}) on 127.0.0.1:${port} is ${info.State.Running ? 'running' : 'stopped'}`,
            version: info.Config.Labels?.[LABEL_PG_VERSION] ?? /:(\d+)[^:/]*$/.exec(info.Config.Image)?.[1],
            port,
          };
        const hasImage = await docker.getImage(image).inspect().then(() => true, () => false);
        return {
          name: 'docker',
          state: hasImage ? 'installed' : 'can-install',
          detail: `engine at ${where}; ${hasImage ? `${image} is present` : `would pull ${image}`}`,
          version,
        };
      } catch (e) {
        return { name: 'docker', state: 'unavailable', detail: e instanceof Error ? e.message : String(e) };
      }
    },
    steps: () => [pull, container, ready],
    endpoint(): Endpoint {
      return { host: '127.0.0.1', port: port ?? 5432 };
    },
    admin,
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
export async function findContainerOnPort(
  engine: DockerEngine,
  port: number,
): Promise<{ name: string; ours: boolean; image: string } | undefined> {
  const list = await engine.docker.listContainers({ filters: JSON.stringify({ publish: [String(port)] }) });
  const c = list.find((x) => x.Ports.some((p) => p.PublicPort === port));
  if (!c) return undefined;
  return { name: (c.Names[0] ?? c.Id).replace(/^\//, ''), ours: c.Labels?.[LABEL_MANAGED] === 'true', image: c.Image };
}
