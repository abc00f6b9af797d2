import { ExitCode, UserError } from '../errors.js';
import { isRoot } from '../detect/os.js';
import { ExecError, run, type RunOptions, type RunResult } from '../io/exec.js';

/**
 * Run a command that needs root: directly as root, else through sudo. Non-interactive
 * runs use `sudo -n` so a password prompt can never hang CI; that failure becomes one
 * clear error naming the command to run by hand.
 */
export async function runAsRoot(
  cmd: string,
  args: string[],
  opts: RunOptions & { interactive: boolean },
): Promise<RunResult> {
  const { interactive, ...runOpts } = opts;
  if (isRoot()) return run(cmd, args, runOpts);
  const sudoArgs = interactive ? [cmd, ...args] : ['-n', cmd, ...args];
  const r = await run('sudo', sudoArgs, { ...runOpts, reject: false });
  if (r.exitCode === 127 && /command not found: sudo/.test(r.stderr))
    throw new UserError(`Running "${cmd}" needs root, and sudo is not installed.`, {
      hint: `Run pg-setup as root, or run "${[cmd, ...args].join(' ')}" as root first.`,
      exitCode: ExitCode.server,
    });
  if (r.exitCode !== 0 && /a password is required|a terminal is required/.test(r.stderr))
    throw new UserError(`sudo needs a password to run "${cmd}", and this run is non-interactive.`, {
      hint: `Run "sudo ${[cmd, ...args].join(' ')}" yourself, or run pg-setup in a terminal without --yes/CI.`,
      exitCode: ExitCode.server,
    });
  if (r.exitCode !== 0 && opts.reject !== false) throw new ExecError(r);
  return r;
}
