import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { relative } from 'node:path';
import { ExitCode } from '../errors.js';
import { style, type Output } from '../io/output.js';
import type { Options } from '../options/types.js';
import { runSteps } from '../plan/run.js';
import type { StepOutcome } from '../plan/step.js';
import { hasLocalCluster } from '../providers/local/cluster.js';
import { createLocalProvider } from '../providers/local/provider.js';
import type { CommandResult } from './result.js';

export interface StatusResult {
  ok: boolean;
  provider: string;
  state: 'running' | 'stopped' | 'missing' | 'not answering';
  host: string;
  port: number | undefined;
  dataDir?: string | undefined;
  binDir?: string | undefined;
  version?: string | undefined;
  logFile?: string | undefined;
}

/**
 * Is the project-local cluster the one `start|stop|status` mean? Yes with --provider local,
 * and with the default `auto` when this project has one.
 */
function isLocal(opts: Options): boolean {
  return opts.provider === 'local' || (opts.provider === 'auto' && hasLocalCluster(opts.projectDir));
}

/**
 * pg-setup status: for the local cluster its state, port, data folder and binaries; for other
 * providers whether anything answers on host:port. Exit 0 when running, 3 when not.
 */
export async function status(opts: Options, out: Output): Promise<CommandResult> {
  let result: StatusResult;
  if (isLocal(opts)) {
    const s = await createLocalProvider(opts).status();
    result = { ok: s.state === 'running', provider: 'local', ...s };
  } else {
    const port = typeof opts.port === 'number' ? opts.port : 5432;
    const answers = await answersOnPort(opts.host, port);
    result = { ok: answers, provider: opts.provider, state: answers ? 'running' : 'not answering', host: opts.host, port };
  }
  printStatus(result, opts, out);
  return { exitCode: result.ok ? ExitCode.ok : ExitCode.server, json: result };
}

/** pg-setup start: start the project-local cluster and wait until it answers a query. */
export async function start(opts: Options, out: Output): Promise<CommandResult> {
  const provider = createLocalProvider(opts);
  const steps: StepOutcome[] = await runSteps(provider.startSteps(), out);
  const { host, port } = provider.endpoint();
  const started = steps.some((s) => s.status === 'done');
  out.info(started ? `PostgreSQL is running on ${host}:${port}.` : `PostgreSQL was already running on ${host}:${port}.`);
  return { exitCode: ExitCode.ok, json: { ok: true, provider: 'local', state: 'running', changed: started, host, port, steps } };
}

/** pg-setup stop: stop the project-local cluster (its data stays). */
export async function stop(opts: Options, out: Output): Promise<CommandResult> {
  const stopped = await createLocalProvider(opts).stop();
  out.info(stopped ? 'PostgreSQL stopped; the data is kept. Start it again with: npx pg-setup start' : 'PostgreSQL was not running.');
  return { exitCode: ExitCode.ok, json: { ok: true, provider: 'local', state: 'stopped', changed: stopped } };
}

function printStatus(r: StatusResult, opts: Options, out: Output): void {
  const s = style(out);
  const rel = (p: string) => relative(opts.projectDir, p) || p;
  const rows: [string, string | undefined][] = [
    ['provider', r.provider],
    ['state', r.ok ? s.green(r.state) : s.red(r.state)],
    ['address', r.port === undefined ? undefined : `${r.host}:${r.port}`],
    ['data dir', r.dataDir && rel(r.dataDir)],
    ['binaries', r.binDir && `PostgreSQL ${r.version} (${r.binDir})`],
    ['log', r.logFile && existsSync(r.logFile) ? rel(r.logFile) : undefined],
  ];
  for (const [k, v] of rows) if (v !== undefined) out.info(`${k.padEnd(9)} ${v}`);
  if (r.state === 'stopped') out.info(`Start it with: npx pg-setup start`);
  if (r.state === 'missing') out.info(`Create it with: npx pg-setup --provider local`);
}

/** Does anything accept a TCP connection on host:port within `timeoutMs`? */
function answersOnPort(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ host, port });
    const finish = (ok: boolean) => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.once('connect', () => finish(true));
    sock.once('error', () => finish(false));
  });
}
