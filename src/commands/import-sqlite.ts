import { ExitCode, UserError } from '../errors.js';
import { readEnvValue } from '../files/env-file.js';
import { readTextIfExists } from '../files/writer.js';
import { parseUrl } from '../db/url.js';
import { addSecret } from '../io/secrets.js';
import { style, type Output } from '../io/output.js';
import type { Options } from '../options/types.js';
import { describeSteps, runSteps } from '../plan/run.js';
import { analyzeProject } from '../project/analysis.js';
import { importInputs, sqliteImportStep } from '../project/sqlite-import.js';
import type { StepOutcome } from '../plan/step.js';
import type { CommandResult } from './result.js';

/**
 * `pg-setup import-sqlite [--from FILE]`: the import step on its own, for later. The target is
 * the database the env file's URL names, logged in as the app (no superuser needed).
 */
export async function importSqlite(opts: Options, out: Output): Promise<CommandResult> {
  const first = await analyzeProject(opts.projectDir, opts);
  const envKey = opts.envKeyGiven ? opts.envKey : (first.settings?.urlField?.envKey ?? opts.envKey);
  const url = readEnvValue((await readTextIfExists(opts.envFile)) ?? '', envKey) ?? process.env[envKey];
  if (!url || !parseUrl(url)) {
    throw new UserError(`No PostgreSQL URL under ${envKey} in ${opts.envFile}.`, {
      hint: 'Run pg-setup first (it writes the URL and migrates the schema), or pass --env-file / --env-key.',
      exitCode: ExitCode.usage,
    });
  }
  addSecret(url);
  const inputs = importInputs({ projectDir: opts.projectDir, databaseUrl: url, from: opts.sqliteFrom, intoNonempty: opts.sqliteImportIntoNonempty ?? false }, first, async () => first);
  if (!inputs) {
    throw new UserError(`No SQLite database file found in ${opts.projectDir}.`, { hint: 'Pass --from FILE with the SQLite file to import.', exitCode: ExitCode.usage });
  }
  const step = sqliteImportStep(async () => inputs, Boolean(out.stream.isTTY));
  const outcomes: StepOutcome[] = opts.dryRun ? await describeSteps([step], out) : await runSteps([step], out);
  const s = style(out);
  const imported = outcomes[0]?.status === 'done';
  out.info('');
  if (!opts.dryRun) out.info(imported ? s.green(s.bold('Done.')) : s.green('Nothing to import; nothing changed.'));
  return { exitCode: ExitCode.ok, json: { ok: true, dryRun: opts.dryRun, changed: imported, steps: outcomes } };
}
