import { isatty } from 'node:tty';

/**
 * The lines listr2's simple renderer prints for a task list off a terminal (pipes, CI, logs),
 * byte for byte: same icons, same colour rules (colorette's), one line per event. Printing them
 * directly spares a run that has nothing to draw live from loading the progress library at all
 * (test/unit/task-lines.test.ts holds the two side by side).
 */
export interface TaskLines {
  started(title: string): void;
  output(message: string): void;
  completed(title: string): void;
  failed(title: string, message: string): void;
}

export function taskLines(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): TaskLines {
  const color = isColorSupported(env);
  const paint = (open: number, close: number) => (s: string) => (color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  const yellow = paint(33, 39);
  const green = paint(32, 39);
  const red = paint(31, 39);
  const u = isUnicodeSupported(env);
  const icons = { started: u ? '❯' : '>', output: '›', completed: u ? '✔' : '√', failed: u ? '✖' : '×' };
  // listr2's logger: a multi-line message gets the icon on each line; blank (not empty) lines are dropped.
  // A suffix goes on each line of the message, itself unsplit.
  const log = (icon: string, message: string, suffix = '') => {
    const lines = message.split('\n').filter((m) => !m || m.trim() !== '');
    const withSuffix = suffix ? lines.map((m) => `${m}${m ? ' ' : ''}${suffix}`) : lines;
    stream.write(withSuffix.map((m) => (m ? `${icon} ${m}` : m)).join('\n') + '\n');
  };
  return {
    started: (title) => log(yellow(icons.started), title),
    output: (message) => log(icons.output, message),
    completed: (title) => log(green(icons.completed), title),
    failed: (title, message) => log(red(icons.failed), title, red(`[FAILED: ${message}]`)),
  };
}

/** colorette's rule, read once per run as colorette reads it once per process. */
function isColorSupported(env: NodeJS.ProcessEnv): boolean {
  if ('NO_COLOR' in env || process.argv.includes('--no-color')) return false;
  const dumb = env.TERM === 'dumb';
  return (
    'FORCE_COLOR' in env ||
    process.argv.includes('--color') ||
    (process.platform === 'win32' && !dumb) ||
    (isatty(1) && Boolean(env.TERM) && !dumb) ||
    ('CI' in env && ('GITHUB_ACTIONS' in env || 'GITLAB_CI' in env || 'CIRCLECI' in env))
  );
}

/** listr2's rule for unicode figures. */
function isUnicodeSupported(env: NodeJS.ProcessEnv): boolean {
  return (
    Boolean(env.LISTR_FORCE_UNICODE) ||
    process.platform !== 'win32' ||
    Boolean(env.CI) ||
    Boolean(env.WT_SESSION) ||
    env.TERM_PROGRAM === 'vscode' ||
    env.TERM === 'xterm-256color' ||
    env.TERM === 'alacritty'
  );
}
