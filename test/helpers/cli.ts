/** Run the built CLI (bin/pg-setup.js) as a user would, in a temp project folder. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'pg-setup.js');

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

/** Spawn `node bin/pg-setup.js ...args` with stdin not a TTY (so non-interactive is implied). */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(opts.node ?? process.execPath, [BIN, ...args], { cwd: opts.cwd, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    let all = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      all += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      all += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, all });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh temp folder named like a project (the name feeds the default database name). */
export function tempProject(name = 'blog'): { dir: string; cleanup: () => void } {
  const parent = mkdtempSync(join(tmpdir(), 'pgsetup-proj-'));
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}
