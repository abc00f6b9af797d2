/** Run the built CLI (bin/pg-setup.cjs) as a user would, in a temp project folder. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'pg-setup.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr */
  all: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
  node?: string;
  timeoutMs?: number;
}

/** Spawn `node bin/pg-setup.cjs ...args` with stdin not a TTY (so non-interactive is implied). */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** A fresh temp folder named like a project (the name feeds the default database name). */
export function tempProject(name = 'blog'): { dir: string; cleanup: () => void } {
  // Inside the run's temp folder, which the global teardown removes even when a test forgets cleanup().
  const parent = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-proj-'));
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

export interface RunningCli {
  pid: number;
  /** Resolves when stdout+stderr match `re` (rejects after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

/** Start the CLI and keep a handle, for tests that act while it runs (SIGINT, a second run). */
export function startCli(args: string[], opts: CliOptions): RunningCli {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(opts.node ?? process.execPath, [BIN, ...args], { cwd: opts.cwd, env: env as NodeJS.ProcessEnv });
  let stdout = '';
  let stderr = '';
  let all = '';
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  const feed = (d: Buffer, which: 'out' | 'err') => {
    if (which === 'out') stdout += d;
    else stderr += d;
    all += d;
    for (const w of [...watchers]) if (w.re.test(all)) w.resolve();
  };
  child.stdout.on('data', (d: Buffer) => feed(d, 'out'));
  child.stderr.on('data', (d: Buffer) => feed(d, 'err'));
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, all });
    });
  });
  return {
    pid: child.pid ?? -1,
    done,
    signal: (sig) => child.kill(sig),
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise<void>((resolveWait, reject) => {
        if (re.test(all)) return resolveWait();
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${all}`)), timeoutMs);
        watchers.push({ re, resolve: () => (clearTimeout(t), resolveWait()) });
        void done.then(() => setTimeout(() => reject(new Error(`exited before ${re}; output:\n${all}`)), 50));
      }),
  };
}
