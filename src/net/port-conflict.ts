import { ExitCode, UserError } from '../errors.js';
import { nextFreePort } from './free-port.js';
import { describePortState } from './probe.js';

/** The providers that can take over a server they find on a port (a subset of the provider names). */
export type ReusingProvider = 'docker' | 'apt' | 'brew' | 'existing';

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
  provider?: ReusingProvider;
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
function providerFor(owner: PortOwner): ReusingProvider | undefined {
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

/**
 * The choices a taken port offers, once its owner is known: use it, take the next free port
 * from `port + 1` on `host`, or stop it (only for things pg-setup or a package manager runs).
 */
export async function portConflict(host: string, port: number, owner: PortOwner): Promise<PortAnalysis> {
  if (owner.kind === 'free') return { port, owner, message: `Port ${port} is free.`, choices: [] };
  const choices: PortChoice[] = [];
  const provider = providerFor(owner);
  if (provider) choices.push({ value: 'use', label: `Use the PostgreSQL already on port ${port} (${describeOwner(owner)})`, provider, port });
  const next = await nextFreePort(host, port + 1);
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
  opts: { port: number | 'auto' },
  provider: string,
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
