import { accessSync, appendFileSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Options as ExecaOptions } from 'execa';
import { passwdEntries } from './passwd.js';
import { redact } from './secrets.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Data for the child's stdin: the way secrets and SQL reach a child (never argv). */
  input?: string;
  /** Run as this OS user (as root: switched in the child, see asUser; else sudo -n). */
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

/** A child started by launch(): wait for it, or stop waiting once what it was for is done. */
export interface Launched {
  /** Its result once it exits (never rejects). */
  readonly exited: Promise<RunResult>;
  /**
   * Stop waiting for it: this process may then exit first (its output is dropped). For a child
   * whose work is proven done another way and that only has its own wait left, such as
   * `pg_ctl start -w` once the server answers.
   */
  release(): void;
}

/**
 * The one subprocess wrapper. Every child process pg-setup starts goes through here,
 * which is what lets tests record argv (PGSETUP_TRACE_EXEC) and prove no secret is in it.
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const out = await (await start(cmd, args, opts, 'wait')).exited;
  if (opts.reject !== false && out.exitCode !== 0) throw new ExecError(out);
  return out;
}

/** Start a child without waiting for it (run()'s options; its stdout is not kept, so no `onStdoutLine`). */
export function launch(cmd: string, args: string[], opts: Omit<RunOptions, 'reject' | 'timeoutMs' | 'onStdoutLine'> = {}): Promise<Launched> {
  return start(cmd, args, opts, 'launch');
}

/** `how`: 'wait' for run(); 'launch' keeps no stdout and lets the child outlive this process once released. */
async function start(cmd: string, args: string[], opts: RunOptions, how: 'wait' | 'launch'): Promise<Launched> {
  const { file, argv, as } = asUser(cmd, args, opts.user);
  trace(file, argv);
  const execaOpts: ExecaOptions = {
    cwd: opts.cwd,
    env: as ? { ...opts.env, ...as.env } : opts.env,
    extendEnv: true,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    reject: false,
    timeout: opts.timeoutMs,
    stripFinalNewline: true,
    // A launched child's output is not kept (its errors are): one pipe less to set up.
    ...(how === 'launch' ? { stdout: 'ignore' as const } : {}),
    // A released child finishes on its own after this process has exited.
    cleanup: how === 'wait',
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
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
  const command = [file, ...argv].join(' ');
  const exited = Promise.resolve(child).then((result): RunResult => {
    if ((result as { code?: string }).code === 'ENOENT') return { exitCode: 127, stdout: '', stderr: `command not found: ${file}`, command };
    return { exitCode: result.exitCode ?? (result.failed ? 1 : 0), stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), command };
  });
  return {
    exited,
    release: () => {
      // Unreferenced, not destroyed: destroying the pipes runs execa's error paths for nothing.
      for (const pipe of [child.stdout, child.stderr]) (pipe as { unref?: () => void } | null)?.unref?.();
      child.unref();
    },
  };
}

/**
 * How to run `cmd` as another OS user. Root switches user in the child itself (Node's spawn
 * sets uid and gid, with no supplementary groups), as runuser would but without its PAM session,
 * which costs ~40 ms a child; HOME, SHELL, USER and LOGNAME are set as runuser sets them. A
 * user missing from /etc/passwd (a directory service) goes through runuser; a normal user
 * goes through sudo -n.
 */
function asUser(cmd: string, args: string[], user: string | undefined): { file: string; argv: string[]; as?: { uid: number; gid: number; env: Record<string, string> } } {
  if (!user) return { file: cmd, argv: args };
  if (process.getuid?.() !== 0) return { file: 'sudo', argv: ['-n', '-u', user, '--', cmd, ...args] };
  const e = passwdEntries().find((p) => p.user === user);
  if (!e) return { file: 'runuser', argv: ['-u', user, '--', cmd, ...args] };
  return { file: cmd, argv: args, as: { uid: e.uid, gid: e.gid, env: { HOME: e.home, SHELL: e.shell, USER: e.user, LOGNAME: e.user } } };
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
