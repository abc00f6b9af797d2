import { ExitCode, UserError } from '../../errors.js';
import type { Options } from '../../options/types.js';
import type { Step } from '../../plan/step.js';
import { defaultContainerName, LABEL_MANAGED } from './provider.js';

/**
 * Teardown for the docker provider: remove the container pg-setup made, and its data volume
 * only with --volumes. Anything without pg-setup's label is never removed.
 */
export function dockerTeardownSteps(opts: Options, deps: { dockerHost?: string } = {}): Step[] {
  const name = opts.containerName ?? defaultContainerName(opts.projectDir);
  const volume = `${name}-data`;
  const engine = async () => {
    const { connectDocker } = await import('../../io/docker.js');
    return (await connectDocker({ dockerHost: deps.dockerHost, timeoutMs: Math.min(opts.timeoutMs, 5000) })).docker;
  };
  const inspect = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
    const { isNotFound } = await import('../../io/docker.js');
    try {
      return await get();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const refuse = (what: string) =>
    new UserError(`${what} was not created by pg-setup (no ${LABEL_MANAGED} label), so teardown leaves it alone.`, {
      hint: 'Remove it yourself if it is unused.',
      exitCode: ExitCode.usage,
    });
  const steps: Step[] = [
    {
      title: `Remove container ${name}`,
      async check() {
        const docker = await engine();
        const info = await inspect(() => docker.getContainer(name).inspect());
        if (!info) return 'already gone';
        if (info.Config.Labels?.[LABEL_MANAGED] !== 'true') throw refuse(`Container "${name}"`);
        return undefined;
      },
      async run() {
        await (await engine()).getContainer(name).remove({ force: true });
        return opts.volumes ? 'removed' : `removed (volume ${volume} kept: pass --volumes to remove the data too)`;
      },
      describe: () => [`DELETE /containers/${name}?force=true (Docker Engine API)`],
    },
  ];
  if (opts.volumes) {
    steps.push({
      title: `Remove volume ${volume} (the data)`,
      async check() {
        const docker = await engine();
        const info = await inspect(() => docker.getVolume(volume).inspect());
        if (!info) return 'already gone';
        if (info.Labels?.[LABEL_MANAGED] !== 'true') throw refuse(`Volume "${volume}"`);
        return undefined;
      },
      async run() {
        await (await engine()).getVolume(volume).remove();
        return 'removed';
      },
      describe: () => [`DELETE /volumes/${volume} (Docker Engine API)`],
    });
  }
  return steps;
}
