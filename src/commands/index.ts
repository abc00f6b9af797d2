import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isatty } from 'node:tty';
import { ExitCode } from '../errors.js';
import { readTextIfExists } from '../files/writer.js';
import { readEnvValue } from '../files/env-file.js';
import { createOutput } from '../io/output.js';
import type { Flags } from '../options/parse.js';
import { envFilePath, resolveOptions } from '../options/resolve.js';
import { acquireLock } from '../state/lock.js';
import { settleProjectEnvKey } from '../project/discover.js';
import { doctor } from './doctor.js';
import { importSqlite } from './import-sqlite.js';
import { start, status, stop } from './local-control.js';
import type { CommandResult } from './result.js';
import { setup } from './setup.js';
import { teardown } from './teardown.js';


/** Take the project lock when the command changes things, resolve options and dispatch. */
export async function runCommand(flags: Flags): Promise<CommandResult> {
  // One changing run per project at a time; doctor, status and --dry-run only read, so they never wait.
  // Taken before the env file is read: a run that waited must see what the holder wrote.
  const changes = ['setup', 'teardown', 'start', 'stop', 'import-sqlite'].includes(flags.command) && !flags['dry-run'];
  const projectDir = resolve(process.cwd(), flags['project-dir'] ?? '.');
  const release = changes && statSync(projectDir, { throwIfNoEntry: false })?.isDirectory() ? await acquireLock(projectDir, flags.command) : undefined;
  try {
    return await resolveAndDispatch(flags);
  } finally {
    await release?.();
  }
}

async function resolveAndDispatch(flags: Flags): Promise<CommandResult> {
  const envText = await readTextIfExists(envFilePath(flags, process.cwd()));
  // The key the app's settings read is settled before the env file is read under it: reading
  // DATABASE_URL on a SQLALCHEMY_DATABASE_URI project made a re-run reset the password.
  const projectEnvKey = flags['env-key'] ?? (['setup', 'doctor'].includes(flags.command) ? await settleProjectEnvKey(flags, process.cwd()) : undefined);
  const { options, given } = resolveOptions({
    flags,
    env: process.env,
    cwd: process.cwd(),
    // Not process.stdin.isTTY: reading it builds the stdin stream, which a run without prompts never uses.
    stdinIsTTY: isatty(0),
    envFileValue: envText === undefined ? undefined : readEnvValue(envText, projectEnvKey ?? 'DATABASE_URL'),
    projectEnvKey,
  });
  // Frozen from here on: no command or step assigns to the options (setup and teardown settle
  // what the wizard and the provider add into a new frozen config, commands/settle.ts).
  Object.freeze(options);
  const out = createOutput(options.json);
  switch (options.command) {
    case 'setup': {
      const result = await setup(options, given, out);
      return { exitCode: ExitCode.ok, json: result };
    }
    case 'doctor':
      return doctor(options, out);
    case 'teardown':
      return { exitCode: ExitCode.ok, json: await teardown(options, given, out) };
    case 'import-sqlite':
      return importSqlite(options, out);
    case 'start':
      return start(options, out);
    case 'stop':
      return stop(options, out);
    case 'status':
      return status(options, out);
    default:
      out.warn(`"${options.command}" is not implemented yet.`);
      return { exitCode: ExitCode.failed, json: { ok: false } };
  }
}
