/** What a command returns to cli.ts: the exit code, and the value --json prints. */
export interface CommandResult {
  exitCode: number;
  json: unknown;
}
