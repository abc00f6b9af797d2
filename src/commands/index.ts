import { ExitCode } from '../errors.js';
import { readTextIfExists } from '../files/writer.js';
import { readEnvValue } from '../files/env-file.js';
import { createOutput } from '../io/output.js';
import type { Flags } from '../options/parse.js';
import { envFilePath, resolveOptions } from '../options/resolve.js';

export interface CommandResult {
  exitCode: number;
  json: unknown;
}

/** Resolve options and dispatch to the command. */
export async function runCommand(flags: Flags): Promise<CommandResult> {
  const envText = await readTextIfExists(envFilePath(flags, process.cwd()));
  const { options, given } = resolveOptions({
    flags,
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    envFileValue: envText === undefined ? undefined : readEnvValue(envText, flags['env-key'] ?? 'DATABASE_URL'),
  });
  const out = createOutput(options.json);
  switch (options.command) {
    case 'setup': {
      const { setup } = await import('./setup.js');
      const result = await setup(options, given, out);
      return { exitCode: ExitCode.ok, json: result };
    }
    case 'start':
    case 'stop':
    case 'status': {
      const control = await import('./local-control.js');
      return control[options.command](options, out);
    }
    default:
      out.warn(`"${options.command}" is not implemented yet.`);
      return { exitCode: ExitCode.failed, json: { ok: false } };
  }
}
