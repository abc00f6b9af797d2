import { ExitCode, UserError } from '../errors.js';
import type { Output } from '../io/output.js';
import { askSelect } from '../options/prompts.js';
import type { Options, ProviderName, RunConfig } from '../options/types.js';
import { readCreated, serverKey } from '../state/created.js';
import { askExistingServer, createExistingProvider } from './existing.js';
import { hasLocalCluster } from './local/cluster.js';
import { analyzePort, resolvePortNonInteractive, stopPortOwner } from './port-owner.js';
import { chooseProvider, createProvider, detectAll, renderDetectionTable } from './registry.js';
import type { Provider, ProviderStatus } from './types.js';

/** Providers that start a server on a port of their own (so a taken port is a conflict). */
const STARTS_A_SERVER: ProviderName[] = ['apt', 'brew', 'docker'];

/**
 * What the machine has, as the table printed before any question (wizard runs): undefined when
 * a provider is given or remembered, since then nothing is detected.
 */
export async function detectMachine(opts: RunConfig, out: Output): Promise<ProviderStatus[] | undefined> {
  if (opts.provider !== 'auto' || (await rememberedProvider(opts))) return undefined;
  const statuses = await detectAll(opts);
  // The row the question preselects is starred in the table too; no usable row, no star (the question says why).
  let recommended: ProviderName | undefined;
  try {
    recommended = chooseProvider(statuses, opts).name;
  } catch {
    recommended = undefined;
  }
  out.info(renderDetectionTable(statuses, recommended, 'recommended'));
  return statuses;
}

/** The provider picked for a run, and what picking it settled (another port, the admin URL the wizard asked for). */
export interface ServerChoice {
  name: ProviderName;
  patch: Partial<Pick<Options, 'port' | 'host' | 'adminUrl' | 'tls'>>;
}

/**
 * Pick the provider for this run, before the task list starts: --provider wins; with `auto`
 * the detection table is printed (already, by detectMachine, in the wizard) and the wizard
 * offers each usable option (non-interactive: the same order, deterministically, saying which
 * and why). Then a taken port is settled. The provider itself is built once the run's config is frozen.
 */
export async function chooseServer(opts: RunConfig, out: Output, detected?: ProviderStatus[]): Promise<ServerChoice> {
  let name: ProviderName;
  const remembered = opts.provider === 'auto' && !detected ? await rememberedProvider(opts) : undefined;
  if (opts.provider !== 'auto') {
    name = opts.provider;
  } else if (remembered) {
    // A re-run keeps the server this project already uses: no detection, no question.
    name = remembered;
  } else {
    const statuses = detected ?? (await detectAll(opts));
    const choice = chooseProvider(statuses, opts);
    if (opts.interactive && !opts.yes) {
      if (!detected) out.info(renderDetectionTable(statuses));
      name = await askProvider(statuses, choice.name);
    } else {
      name = choice.name;
      out.info(renderDetectionTable(statuses, name));
      out.info(`Using ${name}: ${choice.reason}.`);
    }
  }
  let patch: ServerChoice['patch'] = {};
  if (STARTS_A_SERVER.includes(name) && !opts.dryRun) ({ name, patch } = await settlePort(opts, name, out));
  if (name === 'existing' && opts.interactive && !opts.yes && !opts.adminUrl) patch = { ...patch, ...(await askExistingServer(opts)) };
  return { name, patch };
}

/** The provider for the settled config. */
export async function buildProvider(name: ProviderName, config: RunConfig): Promise<Provider> {
  return name === 'existing' ? createExistingProvider(config) : createProvider(name, config);
}

/**
 * The provider this project already uses: its own local cluster, or the one recorded in
 * .pg-setup/state.json for the host:port in the env file.
 */
export async function rememberedProvider(opts: RunConfig): Promise<ProviderName | undefined> {
  if (hasLocalCluster(opts.projectDir)) return 'local';
  if (typeof opts.port !== 'number') return undefined;
  const rec = (await readCreated(opts.projectDir)).servers[serverKey({ host: opts.host, port: opts.port })];
  const known: ProviderName[] = ['existing', 'apt', 'brew', 'docker', 'local'];
  return known.find((n) => n === rec?.provider);
}

async function askProvider(statuses: ProviderStatus[], recommended: ProviderName): Promise<ProviderName> {
  const usable = statuses.filter((s) => s.state !== 'unavailable');
  return askSelect<ProviderName>(
    'Which PostgreSQL should this project use?',
    usable.map((s) => ({ value: s.name, name: `${s.name} (${s.state})${s.name === recommended ? ' - recommended' : ''}`, description: s.detail })),
    recommended,
  );
}

/**
 * When the port the provider would use is taken, say by what and offer: use that server, the
 * next free port, or stop it. Non-interactive: never switch ports unless --port auto.
 */
async function settlePort(opts: RunConfig, name: ProviderName, out: Output): Promise<ServerChoice> {
  const analysis = await analyzePort(opts);
  const keep = { name, patch: {} };
  if (analysis.owner.kind === 'free') return keep;
  let choice;
  if (opts.interactive) {
    const use = analysis.choices.find((c) => c.value === 'use');
    if (use?.provider === name) return keep;
    const picked = await askSelect(
      analysis.message,
      [...analysis.choices.map((c, i) => ({ value: String(i), name: c.label })), { value: 'quit', name: 'Stop here (change nothing)' }],
      '0',
    );
    if (picked === 'quit') {
      throw new UserError('Stopped: nothing was changed.', { exitCode: ExitCode.server });
    }
    choice = analysis.choices[Number(picked)];
  } else {
    choice = resolvePortNonInteractive(analysis, opts, name);
  }
  if (!choice) return keep;
  if (choice.value === 'use' && choice.provider) {
    if (choice.provider !== name) out.info(`${analysis.message} Using it (${choice.provider}).`);
    return { name: choice.provider, patch: {} };
  }
  if (choice.value === 'next-port' && choice.port) {
    out.info(`${analysis.message} Using the next free port, ${choice.port}.`);
    return { name, patch: { port: choice.port } };
  }
  if (choice.value === 'stop') await stopPortOwner(analysis.owner, opts);
  return keep;
}
