import { detectPlatform, type Platform } from '../detect/os.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import type { Options, ProviderName } from '../options/types.js';
import { createAptProvider } from './apt.js';
import { createBrewProvider } from './brew.js';
import { createDockerProvider } from './docker/provider.js';
import { createLocalProvider } from './local/provider.js';
import { createExistingProvider } from './existing.js';
import type { Provider, ProviderFactory, ProviderState, ProviderStatus } from './types.js';

export type ProviderFactories = Partial<Record<ProviderName, ProviderFactory>>;

/** One factory per provider name. */
export const PROVIDER_FACTORIES: ProviderFactories = {
  existing: createExistingProvider,
  apt: createAptProvider,
  brew: createBrewProvider,
  docker: createDockerProvider,
  local: createLocalProvider,
};

/** The provider for `name`, built from the resolved options. */
export function createProvider(name: ProviderName, opts: Readonly<Options>, factories: ProviderFactories = PROVIDER_FACTORIES): Provider {
  const factory = factories[name];
  if (!factory) throw usageError(`The "${name}" provider is not available in this version.`, 'Use --provider existing, apt, brew or docker.');
  return factory(opts);
}

/** Order of the detection table and of ties in chooseProvider. */
const DETECT_ORDER: ProviderName[] = ['existing', 'apt', 'brew', 'docker', 'local'];

/** Ask every provider what it finds, in parallel; a failing detector shows as unavailable. */
export async function detectAll(opts: Readonly<Options>, factories: ProviderFactories = PROVIDER_FACTORIES): Promise<ProviderStatus[]> {
  const names = DETECT_ORDER.filter((n) => factories[n]);
  const statuses = await Promise.all(
    names.map(async (name): Promise<ProviderStatus> => {
      try {
        return await createProvider(name, opts, factories).detect();
      } catch (e) {
        return { name, state: 'unavailable', detail: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
      }
    }),
  );
  return mergeSameServer(statuses);
}

/**
 * One row per server: a running server that a managed provider (apt, brew, docker, local)
 * knows is the same one `existing` finds answering on the port, so only the managed row
 * stays (pg-setup can administer it without a password) and it notes that it answers there.
 */
export function mergeSameServer(statuses: ProviderStatus[]): ProviderStatus[] {
  const existing = statuses.find((s) => s.name === 'existing' && s.state === 'running' && s.port !== undefined);
  const managed = existing && statuses.find((s) => s.name !== 'existing' && s.state === 'running' && s.port === existing.port);
  if (!existing || !managed) return statuses;
  return statuses
    .filter((s) => s !== existing)
    .map((s) => (s === managed ? { ...s, detail: `${s.detail}; it is the server answering on port ${existing.port}` } : s));
}

export interface ProviderChoiceResult {
  name: ProviderName;
  /** One line for output: why this provider. */
  reason: string;
}

/**
 * Pick a provider: --provider wins; else a running server (one we manage before a bare
 * `existing` one, since we can administer it without a password), then an installed but
 * stopped local server, then Homebrew on macOS, apt on Debian/Ubuntu, then Docker.
 */
export function chooseProvider(
  statuses: ProviderStatus[],
  opts: Pick<Options, 'provider'>,
  platform: Platform = detectPlatform(),
): ProviderChoiceResult {
  if (opts.provider !== 'auto') return { name: opts.provider, reason: `chosen with --provider ${opts.provider}` };
  const find = (names: ProviderName[], states: ProviderState[]): ProviderStatus | undefined =>
    names.map((n) => statuses.find((s) => s.name === n && states.includes(s.state))).find(Boolean);

  // The project's own cluster comes first: it is what this project used before.
  const own = find(['local'], ['running', 'stopped']);
  if (own) return { name: 'local', reason: `the project's own cluster: ${own.detail}` };
  const running = find(['apt', 'brew', 'docker', 'existing'], ['running']);
  if (running) return { name: running.name, reason: `a server is already running: ${running.detail}` };
  const stopped = find(['apt', 'brew'], ['stopped', 'installed']) ?? find(['docker'], ['stopped']);
  if (stopped) return { name: stopped.name, reason: `installed but stopped: ${stopped.detail}` };
  const installable: ProviderState[] = ['installed', 'can-install'];
  if (platform === 'macos' && find(['brew'], installable)) return { name: 'brew', reason: 'macOS with Homebrew' };
  if (platform === 'debian' && find(['apt'], installable)) return { name: 'apt', reason: 'Debian/Ubuntu: PostgreSQL from apt' };
  const docker = find(['docker'], installable);
  if (docker) return { name: 'docker', reason: `Docker engine available: ${docker.detail}` };
  // Nothing else usable: a cluster owned by the user in the project needs no root, brew or Docker.
  const local = find(['local'], installable);
  if (local) return { name: 'local', reason: `nothing else is usable; a project-local cluster (${local.detail})` };
  throw new UserError('No way to get a PostgreSQL server on this machine was found.', {
    hint: 'Start Docker, install Homebrew (macOS) or use apt (Debian/Ubuntu), or point at a server with --admin-url.',
    exitCode: ExitCode.server,
  });
}

const STATE_LABEL: Record<ProviderState, string> = {
  running: 'running',
  stopped: 'stopped',
  installed: 'installed',
  'can-install': 'can install',
  unavailable: 'unavailable',
};

/**
 * A plain-text table of what detection found, printed before any question is asked; `chosen`
 * is starred, with `note` (the wizard says "recommended", a non-interactive run "will be used").
 */
export function renderDetectionTable(statuses: ProviderStatus[], chosen?: ProviderName, note = 'will be used'): string {
  const rows = [
    ['Provider', 'State', 'Details'],
    ...statuses.map((s) => [s.name === chosen ? `${s.name} *` : s.name, STATE_LABEL[s.state], s.detail]),
  ];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  return chosen ? [...lines, `* ${chosen} ${note}`].join('\n') : lines.join('\n');
}
