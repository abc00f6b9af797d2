import { ExitCode } from '../errors.js';
import { readTextIfExists } from '../files/writer.js';
import { readEnvValue } from '../files/env-file.js';
import { createOutput, type Output } from '../io/output.js';
import type { Flags } from '../options/parse.js';
import { envFilePath, resolveOptions, type Given } from '../options/resolve.js';
import type { Options } from '../options/types.js';
import { acquireLock } from '../state/lock.js';

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
  // One changing run per project at a time; doctor and --dry-run only read, so they never wait.
  const changes = (options.command === 'setup' || options.command === 'teardown') && !options.dryRun;
  const release = changes ? await acquireLock(options.projectDir, options.command) : undefined;
  try {
    return await dispatch(options, given, out);
  } finally {
    await release?.();
  }
}

async function dispatch(options: Options, given: Given, out: Output): Promise<CommandResult> {
  switch (options.command) {
    case 'setup': {
      const { setup } = await import('./setup.js');
      const result = await setup(options, given, out);
      return { exitCode: ExitCode.ok, json: result };
    }
    case 'doctor': {
      const { doctor } = await import('./doctor.js');
      return doctor(options, out);
    }
    case 'teardown': {
      const { teardown } = await import('./teardown.js');
      return { exitCode: ExitCode.ok, json: await teardown(options, given, out) };
    }
    default:
      out.warn(`"${options.command}" is not implemented yet.`);
      return { exitCode: ExitCode.failed, json: { ok: false } };
  }
}
