import { relative } from 'node:path';
import type { SqlSession } from '../db/admin.js';
import { quoteIdent } from '../db/ident.js';
import { dropDatabaseAsAdmin, inspectDatabase, inspectRole } from '../db/provision.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import { readEnvValue, removeEnvKey } from '../files/env-file.js';
import { readTextIfExists, writeFileAtomic } from '../files/writer.js';
import type { Output } from '../io/output.js';
import type { Given } from '../options/resolve.js';
import { askTyped } from '../options/prompts.js';
import type { Options, RunConfig } from '../options/types.js';
import { describeSteps, runSteps } from '../plan/run.js';
import type { Step, StepOutcome } from '../plan/step.js';
import { buildProvider, chooseServer } from '../providers/select.js';
import { decideTeardown, type TeardownPlan } from '../plan/decide.js';
import { forgetCreated, readCreated, serverKey, statePath, type CreatedKind } from '../state/created.js';

export interface TeardownResult {
  ok: true;
  dryRun: boolean;
  server: string;
  /** Objects pg-setup created and this run dropped (or would drop, with --dry-run). */
  dropping: string[];
  /** Objects that exist but pg-setup did not create: left alone. */
  kept: string[];
  steps: StepOutcome[];
}

/**
 * pg-setup teardown: drop what pg-setup created on this server (database, role; provider
 * extras), then remove the env key (a backup is kept). Refuses anything the state record does
 * not list. Interactive runs ask the user to type the database name; others need --yes.
 */
export async function teardown(opts: Options, _given: Given, out: Output): Promise<TeardownResult> {
  const server = await chooseServer(opts, out);
  const c: RunConfig = Object.freeze({ ...opts, ...server.patch });
  const provider = await buildProvider(server.name, c);
  const endpoint = provider.endpoint();
  const key = serverKey(endpoint);
  const record = (await readCreated(c.projectDir)).servers[key];
  const admin = await provider.admin();
  try {
    const envText = await readTextIfExists(c.envFile);
    const plan = decideTeardown(c, {
      serverKey: key,
      endpoint,
      recorded: record,
      databaseExists: (await inspectDatabase(admin, c.dbName)).exists,
      roleExists: (await inspectRole(admin, c.dbUser)).exists,
      envValue: envText === undefined ? undefined : readEnvValue(envText, c.envKey),
      statePath: statePath(c.projectDir),
    });
    for (const n of plan.notes) out.info(n.text);
    const steps = [
      ...(plan.dropDatabase ? [dropDatabaseStep(c, key, admin)] : []),
      ...(plan.dropRole ? [dropRoleStep(c, key, admin)] : []),
      // What the provider started goes only when the state record says pg-setup made this server's objects.
      ...(record ? (provider.teardownSteps?.() ?? []) : []),
      removeEnvKeyStep(c, plan),
    ];
    if (!c.dryRun) await confirm(c, plan.dropping, out);
    const outcomes = c.dryRun ? await describeSteps(steps, out) : await runSteps(steps, out);
    return { ok: true, dryRun: c.dryRun, server: key, dropping: plan.dropping, kept: plan.kept, steps: outcomes };
  } finally {
    await admin.close();
  }
}

async function confirm(opts: RunConfig, dropping: string[], out: Output): Promise<void> {
  out.info(`This drops ${dropping.join(' and ')} with all their data, and removes ${opts.envKey} from ${relative(opts.projectDir, opts.envFile) || opts.envFile}.`);
  if (opts.interactive) {
    if (!(await askTyped(`Type the database name (${opts.dbName}) to confirm`, opts.dbName))) {
      throw usageError('The name did not match; nothing was dropped.', 'Run pg-setup teardown again and type the database name exactly.');
    }
  } else if (!opts.yes) {
    throw usageError('teardown drops data, so a non-interactive run needs --yes; nothing was dropped.', 'Run pg-setup teardown --yes (try --dry-run first to see what it would do).');
  }
}

function dropDatabaseStep(opts: RunConfig, key: string, admin: SqlSession): Step {
  return {
    title: `Drop database ${opts.dbName}`,
    check: () => goneCheck(opts, key, 'databases', opts.dbName, async () => (await inspectDatabase(admin, opts.dbName)).exists),
    async run() {
      // WITH (FORCE) (PostgreSQL 13+) ends the app's open sessions instead of failing on them.
      const rows = await admin.query(`SELECT current_setting('server_version_num')::int >= 130000 AS force`);
      const owner = (await inspectDatabase(admin, opts.dbName)).owner ?? opts.dbUser;
      // A CREATEROLE admin (managed services) drops it as the owner it may SET ROLE to.
      await dropDatabaseAsAdmin(admin, opts.dbName, owner, { force: rows[0]?.force === true });
      await forgetCreated(opts.projectDir, key, 'databases', opts.dbName);
      return 'dropped';
    },
    describe: () => [`DROP DATABASE "${opts.dbName}" WITH (FORCE)`],
  };
}

function dropRoleStep(opts: RunConfig, key: string, admin: SqlSession): Step {
  return {
    title: `Drop role ${opts.dbUser}`,
    check: () => goneCheck(opts, key, 'roles', opts.dbUser, async () => (await inspectRole(admin, opts.dbUser)).exists),
    async run() {
      try {
        await admin.query(`DROP ROLE ${quoteIdent(opts.dbUser)}`);
      } catch (e) {
        throw new UserError(`Role "${opts.dbUser}" cannot be dropped: ${(e as Error).message}`, {
          hint: `It still owns objects or holds privileges in other databases. In each of them, as a superuser: REASSIGN OWNED BY ${quoteIdent(opts.dbUser)} TO postgres; DROP OWNED BY ${quoteIdent(opts.dbUser)}; then run teardown again.`,
          exitCode: ExitCode.failed,
        });
      }
      await forgetCreated(opts.projectDir, key, 'roles', opts.dbUser);
      return 'dropped';
    },
    describe: () => [`DROP ROLE "${opts.dbUser}"`],
  };
}

/** A drop step's check: nothing to do when the object is gone already (then the record forgets it). */
async function goneCheck(opts: RunConfig, key: string, kind: CreatedKind, name: string, exists: () => Promise<boolean>): Promise<string | undefined> {
  if (await exists()) return undefined;
  if (!opts.dryRun) await forgetCreated(opts.projectDir, key, kind, name);
  return 'already gone';
}

/** Remove the env key only when it still points at what was torn down (decided by decideTeardown); anything else is the user's. */
function removeEnvKeyStep(opts: RunConfig, plan: TeardownPlan): Step {
  const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
  return {
    title: `Remove ${opts.envKey} from ${envRel}`,
    check: async () => plan.env.present,
    async run() {
      const text = (await readTextIfExists(opts.envFile)) ?? '';
      const backup = await writeFileAtomic(opts.envFile, removeEnvKey(text, opts.envKey), { backupRoot: opts.projectDir });
      return `removed (backup: ${relative(opts.projectDir, backup ?? '')})`;
    },
    describe: () => [`remove the ${opts.envKey} line from ${envRel} (a backup is kept in .pg-setup/backups/)`],
  };
}
