import { ExitCode, UserError } from '../errors.js';
import type { Step } from '../plan/step.js';
import { redact } from '../io/secrets.js';

export interface WaitReadyOptions {
  timeoutMs: number;
  /** Minimum time between two attempts; 100 ms keeps a starting server from being hammered. */
  intervalMs?: number;
  /** The last lines of the server's log, shown when the wait times out. */
  logTail?: () => Promise<string>;
  /** What we wait for, in the error message: "PostgreSQL 15/main on port 5432". */
  what?: string;
  /** Called after each failed attempt, e.g. to update a progress line. */
  onAttempt?: (error: unknown, elapsedMs: number) => void;
}

/**
 * Wait until `attempt` (an authenticated query) succeeds. An open TCP port is not enough:
 * a server that is still recovering or refuses our role is not ready for provisioning.
 * On timeout, throws a UserError carrying the log tail and the most likely cause.
 */
export async function waitReady(attempt: () => Promise<unknown>, opts: WaitReadyOptions): Promise<void> {
  const interval = Math.max(opts.intervalMs ?? 100, 100);
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    const t0 = Date.now();
    try {
      await attempt();
      return;
    } catch (e) {
      lastError = e;
      opts.onAttempt?.(e, Date.now() - started);
    }
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) break;
    const wait = Math.min(Math.max(interval - (Date.now() - t0), 0), opts.timeoutMs - elapsed);
    await new Promise((r) => setTimeout(r, wait));
  }
  const tail = opts.logTail ? await opts.logTail().catch(() => '') : '';
  const last = lastError instanceof Error ? lastError.message : String(lastError);
  const lines = [
    `${opts.what ?? 'PostgreSQL'} did not accept an authenticated query within ${Math.round(opts.timeoutMs / 1000)} s.`,
    `Last error: ${firstLine(last)}`,
  ];
  if (tail.trim()) lines.push('Server log (last lines):', indent(lastLines(tail, 15)));
  throw new UserError(redact(lines.join('\n')), {
    hint: likelyCause(`${last}\n${tail}`),
    exitCode: ExitCode.server,
    cause: lastError,
  });
}

/** The next step for the most common reasons a server never becomes ready. */
export function likelyCause(text: string): string {
  const t = text.toLowerCase();
  if (/address already in use|could not bind/.test(t))
    return 'Likely cause: the port is taken by another program. Stop it, or pick another with --port (or --port auto).';
  if (/password authentication failed|no pg_hba\.conf entry|peer authentication failed/.test(t))
    return 'Likely cause: the server rejects our login. Check pg_hba.conf, or pass a superuser URL with --admin-url.';
  if (/no space left on device/.test(t)) return 'Likely cause: the disk is full. Free some space and run again.';
  if (/permission denied/.test(t))
    return 'Likely cause: a permission problem on the data directory or socket. Check its owner and mode.';
  if (/starting up|recovery|shutting down/.test(t))
    return 'Likely cause: the server is still starting (or recovering). Run again, or raise --timeout.';
  if (/econnrefused|no such file or directory|connection refused|is the server running/.test(t))
    return 'Likely cause: the server is not running or listens elsewhere. Look at the log above, then run again.';
  return 'Look at the server log above; raise --timeout if the machine is just slow.';
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim()) ?? s;
}
function lastLines(s: string, n: number): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}
function indent(s: string): string {
  return s.split('\n').map((l) => `  ${l}`).join('\n');
}

/**
 * The last step of every provider: wait until an authenticated query works.
 * Its check runs one attempt, so a re-run against a ready server does no waiting.
 */
export function readyStep(
  attempt: () => Promise<unknown>,
  opts: Omit<WaitReadyOptions, 'onAttempt'> & { what: string },
): Step {
  return {
    title: 'Wait for PostgreSQL to accept queries',
    async check() {
      try {
        await attempt();
        return `${opts.what} answers queries`;
      } catch {
        return undefined;
      }
    },
    async run(progress) {
      const t0 = Date.now();
      await waitReady(attempt, {
        ...opts,
        onAttempt: (_e, ms) => progress(`waiting for ${opts.what} (${(ms / 1000).toFixed(1)} s)`),
      });
      return `${opts.what} is ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    },
    describe() {
      return [`wait up to ${Math.round(opts.timeoutMs / 1000)} s until ${opts.what} answers an authenticated query`];
    },
  };
}
