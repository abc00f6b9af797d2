import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { psqlAdmin, PSQL_ARGS, runPsql, type SqlSession } from '../db/admin.js';
import { describePortState, probePort } from '../net/probe.js';
import { ExitCode, UserError } from '../errors.js';
import { run, which } from '../io/exec.js';
import type { Options } from '../options/types.js';
import type { Step } from '../plan/step.js';
import { readyStep } from './ready.js';
import type { Endpoint, Provider, ProviderStatus } from './types.js';

export const DEFAULT_BREW_PG_VERSION = '18';
/** Where Homebrew lives when it is not on PATH (Apple silicon, Intel macOS, Linuxbrew). */
const BREW_DIRS = ['/opt/homebrew/bin', '/usr/local/bin', '/home/linuxbrew/.linuxbrew/bin'];
/** Homebrew's PostgreSQL is built with /tmp as its socket directory. */
const BREW_SOCKET_DIR = '/tmp';

/** The brew executable, or undefined when Homebrew is not installed. */
export function findBrew(): string | undefined {
  return which('brew', BREW_DIRS);
}

/** `brew list --versions` output: formula -> installed version. */
export function parseListVersions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, ...versions] = line.trim().split(/\s+/);
    if (name && versions.length) out.set(name, versions[versions.length - 1]!);
  }
  return out;
}

export interface BrewService {
  name: string;
  status: string;
}

/** Installed postgresql formulae and their versions. */
async function installedPostgres(brew: string): Promise<Map<string, string>> {
  const r = await run(brew, ['list', '--versions'], { reject: false });
  const all = parseListVersions(r.stdout);
  return new Map([...all].filter(([name]) => /^postgresql(@\d+)?$/.test(name)));
}

/** `brew services list --json`, PostgreSQL formulae only. */
export async function brewServices(brew: string): Promise<BrewService[]> {
  const r = await run(brew, ['services', 'list', '--json'], { reject: false });
  if (r.exitCode !== 0) return [];
  try {
    return (JSON.parse(r.stdout) as BrewService[]).filter((s) => /^postgresql(@\d+)?$/.test(s.name));
  } catch {
    return [];
  }
}

/** `brew services stop <formula>`: the 'stop' answer to a taken port. */
export async function stopBrewService(formula: string): Promise<void> {
  await run(findBrew() ?? 'brew', ['services', 'stop', formula]);
}

/** The port a formula's cluster is configured for: `port =` in its postgresql.conf, else 5432. */
export async function brewFormulaPort(brew: string, formula: string): Promise<number> {
  const prefix = (await run(brew, ['--prefix'])).stdout.trim();
  try {
    const conf = readFileSync(join(prefix, 'var', formula, 'postgresql.conf'), 'utf8');
    const m = /^\s*port\s*=\s*(\d+)/m.exec(conf);
    if (m) return Number(m[1]);
  } catch {
    /* not initialised yet: the server default applies */
  }
  return 5432;
}

/** A started Homebrew PostgreSQL service (other than `except`) configured for `port`. */
export async function findBrewServiceOnPort(brew: string, port: number, except?: string): Promise<string | undefined> {
  for (const s of await brewServices(brew)) {
    if (s.name === except || s.status !== 'started') continue;
    if ((await brewFormulaPort(brew, s.name)) === port) return s.name;
  }
  return undefined;
}

/** What one brew provider works with, and what it learns (the port, the keg's bin folder). */
interface BrewContext {
  readonly opts: Readonly<Options>;
  readonly version: string;
  /** `postgresql@<N>`. */
  readonly formula: string;
  port?: number | undefined;
  binDir?: string | undefined;
}

function brewContext(opts: Readonly<Options>): BrewContext {
  const version = opts.pgVersion ?? DEFAULT_BREW_PG_VERSION;
  return { opts, version, formula: `postgresql@${version}`, port: typeof opts.port === 'number' ? opts.port : undefined };
}

/** The brew executable; an error naming the next step when Homebrew is missing. */
function requireBrew(): string {
  const b = findBrew();
  if (!b)
    throw new UserError('Homebrew (brew) is not installed.', {
      hint: 'Install it from brew.sh, or choose another --provider (docker, apt, existing).',
      exitCode: ExitCode.server,
    });
  return b;
}

/** The formula's bin folder (versioned formulae are keg-only: never PATH). */
async function kegBin(ctx: BrewContext): Promise<string> {
  return (ctx.binDir ??= join((await run(requireBrew(), ['--prefix', ctx.formula])).stdout.trim(), 'bin'));
}

/** The configured port, checked against --port: we never move a server silently. */
async function settleBrewPort(ctx: BrewContext): Promise<number> {
  const { formula, port } = ctx;
  const configured = await brewFormulaPort(requireBrew(), formula);
  if (port !== undefined && port !== configured)
    throw new UserError(`${formula} is configured for port ${configured}, not ${port}.`, {
      hint: `Use --port ${configured} (or --port auto), or set "port = ${port}" in $(brew --prefix)/var/${formula}/postgresql.conf.`,
      exitCode: ExitCode.usage,
    });
  return (ctx.port = configured);
}

/** psql as the current OS user over Homebrew's socket: no password. */
async function adminSession(ctx: BrewContext): Promise<SqlSession> {
  const psql = join(await kegBin(ctx), 'psql');
  const p = ctx.port ?? 5432;
  return psqlAdmin(`psql as ${userInfo().username} over the unix socket (port ${p})`, (sql) =>
    runPsql(psql, [...PSQL_ARGS, '-h', BREW_SOCKET_DIR, '-p', String(p), '-d', 'postgres'], sql, { timeoutMs: 30_000 }),
  );
}

async function formulaInstalled(ctx: BrewContext): Promise<string | undefined> {
  const v = (await installedPostgres(requireBrew())).get(ctx.formula);
  return v ? `${ctx.formula} ${v} is installed` : undefined;
}

async function installFormula(ctx: BrewContext, progress: (line: string) => void): Promise<string> {
  const { formula } = ctx;
  progress(`brew install ${formula}`);
  const r = await run(requireBrew(), ['install', formula], { reject: false, env: { HOMEBREW_NO_INSTALL_CLEANUP: '1' } });
  if (r.exitCode !== 0)
    throw new UserError(`brew install ${formula} failed:\n${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`, {
      hint: `Run "brew install ${formula}" yourself to see the full output; "brew doctor" often says why.`,
      exitCode: ExitCode.server,
    });
  return `installed ${formula}`;
}

function installStep(ctx: BrewContext): Step {
  return {
    title: `Install ${ctx.formula} with Homebrew`,
    check: () => formulaInstalled(ctx),
    run: (progress) => installFormula(ctx, progress),
    describe: () => [`brew install ${ctx.formula}`],
  };
}

async function serviceStarted(ctx: BrewContext): Promise<string | undefined> {
  const started = (await brewServices(requireBrew())).some((s) => s.name === ctx.formula && s.status === 'started');
  if (!started) return undefined;
  const p = await settleBrewPort(ctx);
  return `${ctx.formula} is running on port ${p}`;
}

/** Throws when another brew service, or any other server, already holds the port. */
async function refuseTakenPort(ctx: BrewContext, p: number): Promise<void> {
  const { formula } = ctx;
  const other = await findBrewServiceOnPort(requireBrew(), p, formula);
  if (other)
    throw new UserError(`${other} is already running on port ${p}.`, {
      hint: `Use it (--provider existing --port ${p}), stop it ("brew services stop ${other}"), or run again with --pg-version ${other.split('@')[1] ?? ''}.`,
      exitCode: ExitCode.server,
    });
  const state = await probePort('127.0.0.1', p);
  if (state.kind !== 'free')
    throw new UserError(`Port ${p} is taken by ${describePortState(state)}, before ${formula} started.`, {
      hint: `Stop it, or use that server with --provider existing --port ${p}.`,
      exitCode: ExitCode.server,
    });
}

async function startService(ctx: BrewContext, progress: (line: string) => void): Promise<string> {
  const { formula } = ctx;
  const p = await settleBrewPort(ctx);
  await refuseTakenPort(ctx, p);
  progress(`brew services start ${formula}`);
  const r = await run(requireBrew(), ['services', 'start', formula], { reject: false });
  if (r.exitCode !== 0)
    throw new UserError(`brew services start ${formula} failed:\n${(r.stderr || r.stdout).trim()}`, {
      hint: `Look at $(brew --prefix)/var/log/${formula}.log.`,
      exitCode: ExitCode.server,
    });
  return `started ${formula} on port ${p}`;
}

function startStep(ctx: BrewContext): Step {
  return {
    title: `Start ${ctx.formula} (brew services)`,
    check: () => serviceStarted(ctx),
    run: (progress) => startService(ctx, progress),
    describe: () => [`brew services start ${ctx.formula}`],
  };
}

async function serviceLogTail(ctx: BrewContext): Promise<string> {
  const prefix = (await run(requireBrew(), ['--prefix'])).stdout.trim();
  return (await run('tail', ['-n', '30', join(prefix, 'var', 'log', `${ctx.formula}.log`)], { reject: false })).stdout;
}

function brewReadyStep(ctx: BrewContext): Step {
  return readyStep(async () => (await adminSession(ctx)).query('select 1'), {
    timeoutMs: ctx.opts.timeoutMs,
    what: `${ctx.formula} (Homebrew)`,
    logTail: () => serviceLogTail(ctx),
  });
}

/** The formula's service (running or stopped) and its port, else whether it can be installed. */
async function detectBrew(ctx: BrewContext): Promise<ProviderStatus> {
  const { formula, version } = ctx;
  const b = findBrew();
  if (!b) return { name: 'brew', state: 'unavailable', detail: 'Homebrew not found' };
  const installed = await installedPostgres(b);
  const v = installed.get(formula);
  if (!v) {
    const others = [...installed.keys()].join(', ');
    return { name: 'brew', state: 'can-install', detail: `brew install ${formula}${others ? ` (installed: ${others})` : ''}`, version };
  }
  const services = await brewServices(b);
  const started = services.some((s) => s.name === formula && s.status === 'started');
  const p = await brewFormulaPort(b, formula);
  const other = started ? undefined : await findBrewServiceOnPort(b, p, formula);
  return {
    name: 'brew',
    state: started ? 'running' : 'stopped',
    detail: `${formula} ${v} on port ${p} is ${started ? 'running' : 'stopped'}${other ? `; ${other} already runs on that port` : ''}`,
    version: v,
    port: p,
  };
}

/**
 * PostgreSQL from Homebrew (macOS, Linuxbrew): `postgresql@<N>` (default 18), run by
 * `brew services`. Needs from the options: pgVersion, port (or 'auto'), timeoutMs.
 * Versioned formulae are keg-only, so binaries come from `brew --prefix <formula>`/bin,
 * never PATH. The superuser is the current OS user over the unix socket: no password.
 */
export function createBrewProvider(opts: Readonly<Options>): Provider {
  const ctx = brewContext(opts);
  const steps = [installStep(ctx), startStep(ctx), brewReadyStep(ctx)];
  return {
    name: 'brew',
    detect: () => detectBrew(ctx),
    steps: () => steps,
    endpoint: (): Endpoint => ({ host: opts.host, port: ctx.port ?? 5432 }),
    admin: () => adminSession(ctx),
  };
}
