import { describePortState, nextFreePort, probePort } from './port.js';
import { ExitCode, UserError } from '../errors.js';
import { connectDocker } from '../io/docker.js';
import { run } from '../io/exec.js';
import type { Options, ProviderName } from '../options/types.js';
import { listAptClusters } from '../providers/apt.js';
import { findBrew, findBrewServiceOnPort } from '../providers/brew.js';
import { findContainerOnPort } from '../providers/docker/provider.js';
import { runAsRoot } from '../providers/privileged.js';

/** Who holds a port, as far as we can tell. */
export type PortOwner =
  | { kind: 'free' }
  | { kind: 'our-container'; name: string; image: string }
  | { kind: 'other-container'; name: string; image: string }
  | { kind: 'apt-cluster'; cluster: string; version?: string | undefined }
  | { kind: 'brew-service'; formula: string; version?: string | undefined }
  | { kind: 'postgres'; version?: string | undefined }
  | { kind: 'not-postgres' };

export interface PortChoice {
  value: 'use' | 'next-port' | 'stop';
  /** For a prompt or a hint: "Use the PostgreSQL already on port 5432". */
  label: string;
  /** 'use': the provider that manages what is there; 'next-port': the port to switch to. */
  provider?: ProviderName;
  port?: number;
  /** 'stop': what stopPortOwner will do, for display ("brew services stop postgresql@16"). */
  command?: string[];
}

export interface PortAnalysis {
  port: number;
  owner: PortOwner;
  /** "Port 5432 is taken by container pg-setup-shop (postgres:18, created by pg-setup)." */
  message: string;
  /** Empty when the port is free. Only things pg-setup created or a package manager runs can be stopped. */
  choices: PortChoice[];
}

/** One line naming what holds the port. */
export function describeOwner(owner: PortOwner): string {
  switch (owner.kind) {
    case 'free':
      return 'nothing';
    case 'our-container':
      return `container ${owner.name} (${owner.image}, created by pg-setup)`;
    case 'other-container':
      return `container ${owner.name} (${owner.image}, not created by pg-setup)`;
    case 'apt-cluster':
      return `the local PostgreSQL cluster ${owner.cluster} (apt)`;
    case 'brew-service':
      return `the Homebrew service ${owner.formula}`;
    case 'postgres':
      return `a PostgreSQL server${owner.version ? ` (${owner.version})` : ''} not managed by pg-setup`;
    case 'not-postgres':
      return describePortState({ kind: 'other' });
  }
}

/** The provider that can reuse what holds the port, when it is a PostgreSQL we can use. */
function providerFor(owner: PortOwner): ProviderName | undefined {
  if (owner.kind === 'our-container') return 'docker';
  if (owner.kind === 'apt-cluster') return 'apt';
  if (owner.kind === 'brew-service') return 'brew';
  if (owner.kind === 'postgres' || (owner.kind === 'other-container' && owner.image.startsWith('postgres'))) return 'existing';
  return undefined;
}

function stopCommand(owner: PortOwner): string[] | undefined {
  // Shown as the docker CLI would say it; stopPortOwner does it through the Engine API.
  if (owner.kind === 'our-container') return ['docker', 'stop', owner.name];
  if (owner.kind === 'apt-cluster') return ['pg_ctlcluster', ...owner.cluster.split('/'), 'stop'];
  if (owner.kind === 'brew-service') return ['brew', 'services', 'stop', owner.formula];
  return undefined;
}

/** Find out who holds host:port: our container, another container, a local service, or a non-PostgreSQL program. */
export async function findPortOwner(host: string, port: number, deps: { dockerHost?: string } = {}): Promise<PortOwner> {
  const state = await probePort(host, port);
  if (state.kind === 'free') return { kind: 'free' };
  // Docker publishes through a proxy that accepts connections itself, so ask the engine first.
  const engine = await connectDocker({ dockerHost: deps.dockerHost, timeoutMs: 1000 }).catch(() => undefined);
  const container = engine ? await findContainerOnPort(engine, port).catch(() => undefined) : undefined;
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
  const owner = await findPortOwner(opts.host, port, deps);
  if (owner.kind === 'free') return { port, owner, message: `Port ${port} is free.`, choices: [] };
  const choices: PortChoice[] = [];
  const provider = providerFor(owner);
  if (provider) choices.push({ value: 'use', label: `Use the PostgreSQL already on port ${port} (${describeOwner(owner)})`, provider, port });
  const next = await nextFreePort(opts.host, port + 1);
  choices.push({ value: 'next-port', label: `Use the next free port, ${next}`, port: next });
  const stop = stopCommand(owner);
  if (stop) choices.push({ value: 'stop', label: `Stop ${describeOwner(owner)} (${stop.join(' ')})`, command: stop });
  return { port, owner, message: `Port ${port} is taken by ${describeOwner(owner)}.`, choices };
}

/**
 * The decision without a prompt: with --port auto take the next free port; reuse what is
 * there when it is the chosen provider's own server; otherwise stop with the flags that fix
 * it. Never switches ports silently when the user gave a number.
 */
export function resolvePortNonInteractive(
  analysis: PortAnalysis,
  opts: Pick<Options, 'port'>,
  provider: ProviderName,
): PortChoice | undefined {
  if (analysis.owner.kind === 'free') return undefined;
  const use = analysis.choices.find((c) => c.value === 'use');
  if (use && use.provider === provider) return use;
  const next = analysis.choices.find((c) => c.value === 'next-port')!;
  if (opts.port === 'auto') return next;
  throw new UserError(analysis.message, {
    hint: [
      `Use --port ${next.port} (free) or --port auto`,
      use ? `--provider ${use.provider} to use it` : undefined,
      analysis.choices.some((c) => c.value === 'stop') ? 'or stop it and run again' : undefined,
    ]
      .filter(Boolean)
      .join(', ') + '.',
    exitCode: ExitCode.server,
  });
}

/** Carry out the 'stop' choice: stop our container, the apt cluster, or the brew service on the port. */
export async function stopPortOwner(
  owner: PortOwner,
  opts: Pick<Options, 'interactive'>,
  deps: { dockerHost?: string } = {},
): Promise<void> {
  if (owner.kind === 'our-container') {
    const { docker } = await connectDocker({ dockerHost: deps.dockerHost });
    await docker.getContainer(owner.name).stop();
  } else if (owner.kind === 'apt-cluster') {
    const [version, name] = owner.cluster.split('/');
    await runAsRoot('pg_ctlcluster', [version!, name!, 'stop'], { interactive: opts.interactive });
  } else if (owner.kind === 'brew-service') {
    await run(findBrew() ?? 'brew', ['services', 'stop', owner.formula]);
  } else {
    throw new UserError(`pg-setup does not stop ${describeOwner(owner)}.`, {
      hint: 'Stop it yourself, or choose another port with --port.',
      exitCode: ExitCode.server,
    });
  }
}
