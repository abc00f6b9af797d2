/**
 * Exit codes are part of the CLI contract (README "Exit codes").
 * One code per failure class so scripts can tell them apart.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  server: 3,
  auth: 4,
  project: 5,
  files: 6,
  locked: 7,
  interrupted: 130,
  /** The reader of our output went away (`| head -1`): 128 + SIGPIPE, what a shell reports for git or ls. */
  closedPipe: 141,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: a plain message, the next step to take, and an exit code. */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;
  constructor(message: string, opts: { hint?: string; exitCode?: ExitCodeValue; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.failed;
  }
}

/** A usage error: bad or missing input. Exit code 2. */
export function usageError(message: string, hint?: string): UserError {
  return new UserError(message, { hint, exitCode: ExitCode.usage });
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Thrown when the user presses Ctrl-C in a prompt or the process gets SIGINT. */
export class InterruptedError extends UserError {
  constructor() {
    super('Interrupted.', { exitCode: ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}
