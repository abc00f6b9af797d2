import type Dockerode from 'dockerode';
import { ExitCode, UserError } from '../../errors.js';
import { connectDocker, isNotFound } from '../../io/docker.js';
import type { Options } from '../../options/types.js';
import type { Step } from '../../plan/step.js';
import { defaultContainerName, LABEL_MANAGED } from './names.js';

/** What teardown works on: the run's options, and the container and volume it may remove. */
interface TeardownContext {
  readonly opts: Readonly<Options>;
  readonly deps: { dockerHost?: string };
  readonly name: string;
  readonly volume: string;
}

async function engine(ctx: TeardownContext): Promise<Dockerode> {
  return (await connectDocker({ dockerHost: ctx.deps.dockerHost, timeoutMs: Math.min(ctx.opts.timeoutMs, 5000) })).docker;
}

/** The inspect data, or undefined when the object is gone. */
async function inspectIfThere<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function refuseUnlabelled(what: string): UserError {
  return new UserError(`${what} was not created by pg-setup (no ${LABEL_MANAGED} label), so teardown leaves it alone.`, {
    hint: 'Remove it yourself if it is unused.',
    exitCode: ExitCode.usage,
  });
}

function removeContainerStep(ctx: TeardownContext): Step {
  const { name, volume, opts } = ctx;
  return {
    title: `Remove container ${name}`,
    async check() {
      const docker = await engine(ctx);
      const info = await inspectIfThere(() => docker.getContainer(name).inspect());
      if (!info) return 'already gone';
      if (info.Config.Labels?.[LABEL_MANAGED] !== 'true') throw refuseUnlabelled(`Container "${name}"`);
      return undefined;
    },
    async run() {
      await (await engine(ctx)).getContainer(name).remove({ force: true });
      return opts.volumes ? 'removed' : `removed (volume ${volume} kept: pass --volumes to remove the data too)`;
    },
    describe: () => [`DELETE /containers/${name}?force=true (Docker Engine API)`],
  };
}

function removeVolumeStep(ctx: TeardownContext): Step {
  const { volume } = ctx;
  return {
    title: `Remove volume ${volume} (the data)`,
    async check() {
      const docker = await engine(ctx);
      const info = await inspectIfThere(() => docker.getVolume(volume).inspect());
      if (!info) return 'already gone';
      if (info.Labels?.[LABEL_MANAGED] !== 'true') throw refuseUnlabelled(`Volume "${volume}"`);
      return undefined;
    },
    async run() {
      await (await engine(ctx)).getVolume(volume).remove();
      return 'removed';
    },
    describe: () => [`DELETE /volumes/${volume} (Docker Engine API)`],
  };
}

/**
 * Teardown for the docker provider: remove the container pg-setup made, and its data volume
 * only with --volumes. Anything without pg-setup's label is never removed.
 */
export function dockerTeardownSteps(opts: Readonly<Options>, deps: { dockerHost?: string } = {}): Step[] {
  const name = opts.containerName ?? defaultContainerName(opts.projectDir);
  const ctx: TeardownContext = { opts, deps, name, volume: `${name}-data` };
  return opts.volumes ? [removeContainerStep(ctx), removeVolumeStep(ctx)] : [removeContainerStep(ctx)];
}
