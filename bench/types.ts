/** What the bench's scenarios are made of: shared by run.ts, scenarios.ts and growth.ts. */

/** A side of a pair: a command to spawn, or (for in-process phases) a function that returns its ms. */
export type Side = Run | (() => Promise<number>);

export interface Run {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** The verdict's ratio may be at most this. */
  target: number;
  /** How the verdict is computed: (A − N) / B, or A / B (B is `node -e 0` itself, or A is in-process). */
  verdict: 'minus-node' | 'plain';
  iterations: number;
  /** How pg-setup's peak RSS is taken (see run.ts time()): GNU time where it starts no larger child, else a hook. */
  rssBy?: 'hook' | 'time';
  /** What B is, for the table. */
  baseline: string;
  /** Build the i-th pair; `prepare` runs untimed before each side. */
  pair(i: number): Promise<{ a: Side; b: Side; prepareA?: () => Promise<void> | void; prepareB?: () => Promise<void> | void }>;
  done?(): Promise<void> | void;
}
