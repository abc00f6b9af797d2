/**
 * One unit of work in a run. `check` makes re-runs idempotent and feeds --dry-run and doctor:
 * it returns a short message when the effect is already in place, or undefined when work is due.
 */
export interface Step {
  title: string;
  check(): Promise<string | undefined>;
  /** Do the work; returns a one-line summary of what changed. `progress` updates the task's output line. */
  run(progress: (message: string) => void): Promise<string | undefined>;
  /** What `run` would do: commands and SQL with secrets masked. */
  describe(): string[];
  /** `run` only reads and verifies (analysis, login checks): it never counts as a change. */
  readOnly?: boolean;
}

/** What a run did, for the summary and --json. */
export interface StepOutcome {
  title: string;
  status: 'done' | 'present' | 'skipped' | 'planned' | 'failed';
  detail: string | undefined;
}
