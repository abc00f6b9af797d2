import { describeOwner, portConflict, type PortAnalysis, type PortOwner } from '../net/port-conflict.js';
import { probePort } from '../net/probe.js';
import { ExitCode, UserError } from '../errors.js';
import type { Options } from '../options/types.js';
import { listAptClusters, stopAptCluster } from './apt.js';
import { findBrew, findBrewServiceOnPort, stopBrewService } from './brew.js';
import { containerOnPort, stopContainer } from './docker/provider.js';

// The run's port question takes its three answers from one module.
export { resolvePortNonInteractive } from '../net/port-conflict.js';

/**
 * Who holds host:port: our container, another container, an apt cluster, a brew service, or a
 * non-PostgreSQL program. Each provider answers for what it manages.
 */
export async function findPortOwner(host: string, port: number, deps: { dockerHost?: string } = {}): Promise<PortOwner> {
  const state = await probePort(host, port);
  if (state.kind === 'free') return { kind: 'free' };
  // Docker publishes through a proxy that accepts connections itself, so ask the engine first.
  const container = await containerOnPort(port, deps);
  if (container) {
    const { name, image } = container;
    return { kind: container.ours ? 'our-container' : 'other-container', name, image };
  }
  if (state.kind === 'other') return { kind: 'not-postgres' };
  const cluster = (await listAptClusters()).find((c) => c.port === port && c.online);
  if (cluster) return { kind: 'apt-cluster', cluster: `${cluster.version}/${cluster.name}`, version: state.version ?? cluster.version };
  const brew = findBrew();
  const formula = brew ? await findBrewServiceOnPort(brew, port) : undefined;
  if (formula) return { kind: 'brew-service', formula, version: state.version };
  return { kind: 'postgres', version: state.version };
}

/**
 * What holds the port the run wants, and the choices to offer: use it, take the next free
 * port, or stop it (only for things pg-setup or a package manager runs). 'auto' ports are
 * analysed from 5432.
 */
export async function analyzePort(opts: Pick<Options, 'host' | 'port'>, deps: { dockerHost?: string } = {}): Promise<PortAnalysis> {
  const port = opts.port === 'auto' ? 5432 : opts.port;
  return portConflict(opts.host, port, await findPortOwner(opts.host, port, deps));
}

/** Carry out the 'stop' choice: stop our container, the apt cluster, or the brew service on the port. */
export async function stopPortOwner(
  owner: PortOwner,
  opts: Pick<Options, 'interactive'>,
  deps: { dockerHost?: string } = {},
): Promise<void> {
  if (owner.kind === 'our-container') await stopContainer(owner.name, deps);
  else if (owner.kind === 'apt-cluster') await stopAptCluster(owner.cluster, opts.interactive);
  else if (owner.kind === 'brew-service') await stopBrewService(owner.formula);
  else {
    throw new UserError(`pg-setup does not stop ${describeOwner(owner)}.`, {
      hint: 'Stop it yourself, or choose another port with --port.',
      exitCode: ExitCode.server,
    });
  }
}
