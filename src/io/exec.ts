import { accessSync, appendFileSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Options as ExecaOptions } from 'execa';
import { redact } from './secrets.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Data for the child's stdin: the way secrets and SQL reach a child (never argv). */
  input?: string;
  /** Run as this OS user (root only; uses runuser, else sudo -n). */
  user?: string;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit. */
  reject?: boolean;
  /** Called with each line of stdout as it arrives (progress from a long child). */
  onStdoutLine?: (line: string) => void;
  /** Called once the child is started: work that can overlap the wait for it. */
  onSpawn?: () => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  command: string;
}

/**
 * The one subprocess wrapper. Every child process pg-setup starts goes through here,
 * which is what lets tests record argv (PGSETUP_TRACE_EXEC) and prove no secret is in it.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  let file = cmd;
  let argv = args;
  if (opts.user) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot) {
      argv = ['-u', opts.user, '--', cmd, ...args];
      file = 'runuser';
    } else {
      argv = ['-n', '-u', opts.user, '--', cmd, ...args];
      file = 'sudo';
    }
  }
  trace(file, argv);
  const execaOpts: ExecaOptions = {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    reject: false,
    timeout: opts.timeoutMs,
    stripFinalNewline: true,
  };
  // Loaded on first use: execa is the heaviest import on the start-up path and many runs spawn nothing.
  const { execa } = await import('execa');
  const child = execa(file, argv, execaOpts);
  opts.onSpawn?.();
  if (opts.onStdoutLine) {
    const onLine = opts.onStdoutLine;
    let partial = '';
    child.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  const result = await child;
  const out: RunResult = {
    exitCode: result.exitCode ?? (result.failed ? 1 : 0),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    command: [file, ...argv].join(' '),
  };
  if ((result as { code?: string }).code === 'ENOENT') {
    out.stderr = `command not found: ${file}`;
    out.exitCode = 127;
  }
  if (opts.reject !== false && out.exitCode !== 0) throw new ExecError(out);
  return out;
}

/** A failed child process. Its message is redacted. */
export class ExecError extends Error {
  readonly result: RunResult;
  constructor(result: RunResult) {
    const tail = (result.stderr || result.stdout).split('\n').slice(-5).join('\n');
    super(redact(`${result.command} exited with ${result.exitCode}${tail ? `:\n${tail}` : ''}`));
    this.name = 'ExecError';
    this.result = result;
  }
}

/** Full path of `cmd` on PATH (or in `extraDirs`), or undefined. No child process needed. */
export function which(cmd: string, extraDirs: string[] = []): string | undefined {
  if (cmd.includes('/')) return isExecutable(cmd) ? cmd : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const full = join(dir, cmd);
    if (isExecutable(full)) return full;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function trace(file: string, argv: string[]): void {
  const path = process.env.PGSETUP_TRACE_EXEC;
  if (path) appendFileSync(path, JSON.stringify([file, ...argv]) + '\n');
}
