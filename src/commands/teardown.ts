import { relative } from 'node:path';
import type { AdminSql } from '../db/admin.js';
import { quoteIdent } from '../db/ident.js';
import { dropDatabaseAsAdmin, inspectDatabase, inspectRole } from '../db/provision.js';
import { parseUrl } from '../db/url.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import { readEnvValue, removeEnvKey } from '../files/env-file.js';
import { readTextIfExists, writeFileAtomic } from '../files/writer.js';
import type { Output } from '../io/output.js';
import type { Given } from '../options/resolve.js';
import type { Options } from '../options/types.js';
import { describeSteps, runSteps } from '../plan/run.js';
import type { Step, StepOutcome } from '../plan/step.js';
import { selectProvider } from '../providers/select.js';
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
export async function teardown(opts: Options, given: Given, out: Output): Promise<TeardownResult> {
  const provider = await selectProvider(opts, given, out);
  const endpoint = provider.endpoint();
  const key = serverKey(endpoint);
  const record = (await readCreated(opts.projectDir)).servers[key];
  const admin = await provider.admin();
  try {
    const db = await inspectDatabase(admin, opts.dbName);
    const role = await inspectRole(admin, opts.dbUser);
    const ownsDb = record?.databases.includes(opts.dbName) ?? false;
    const ownsRole = record?.roles.includes(opts.dbUser) ?? false;
    const kept = [
      ...(db.exists && !ownsDb ? [`database ${opts.dbName}`] : []),
      ...(role.exists && !ownsRole ? [`role ${opts.dbUser}`] : []),
    ];
    if (!ownsDb && !ownsRole) {
      throw new UserError(
        `pg-setup did not create database "${opts.dbName}" or role "${opts.dbUser}" on ${key} (${relative(opts.projectDir, statePath(opts.projectDir))} does not list them), so it will not drop them.`,
        { hint: 'If you mean to remove them, do it yourself as a superuser (DROP DATABASE / DROP ROLE), or pass --db-name / --db-user for what pg-setup did create.', exitCode: ExitCode.usage },
      );
    }
    const dropping = [...(ownsDb ? [`database ${opts.dbName}`] : []), ...(ownsRole ? [`role ${opts.dbUser}`] : [])];
    for (const k of kept) out.info(`Keeping ${k}: it existed before pg-setup, which never drops what it did not create.`);

    const steps = [
      ...(ownsDb ? [dropDatabaseStep(opts, key, admin)] : []),
      ...(ownsRole ? [dropRoleStep(opts, key, admin)] : []),
      // What the provider started goes only when the state record says pg-setup made this server's objects.
      ...(record ? (provider.teardownSteps?.() ?? []) : []),
      removeEnvKeyStep(opts, endpoint),
    ];
    if (!opts.dryRun) await confirm(opts, dropping, out);
    const outcomes = opts.dryRun ? await describeSteps(steps, out) : await runSteps(steps, out);
    return { ok: true, dryRun: opts.dryRun, server: key, dropping, kept, steps: outcomes };
  } finally {
    await admin.close();
  }
}

async function confirm(opts: Options, dropping: string[], out: Output): Promise<void> {
  out.info(`This drops ${dropping.join(' and ')} with all their data, and removes ${opts.envKey} from ${relative(opts.projectDir, opts.envFile) || opts.envFile}.`);
  if (opts.interactive) {
    const { askTyped } = await import('../options/prompts.js');
    if (!(await askTyped(`Type the database name (${opts.dbName}) to confirm`, opts.dbName))) {
      throw usageError('The name did not match; nothing was dropped.', 'Run pg-setup teardown again and type the database name exactly.');
    }
  } else if (!opts.yes) {
    throw usageError('teardown drops data, so a non-interactive run needs --yes; nothing was dropped.', 'Run pg-setup teardown --yes (try --dry-run first to see what it would do).');
  }
}

function dropDatabaseStep(opts: Options, key: string, admin: AdminSql): Step {
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

function dropRoleStep(opts: Options, key: string, admin: AdminSql): Step {
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
async function goneCheck(opts: Options, key: string, kind: CreatedKind, name: string, exists: () => Promise<boolean>): Promise<string | undefined> {
  if (await exists()) return undefined;
  if (!opts.dryRun) await forgetCreated(opts.projectDir, key, kind, name);
  return 'already gone';
}

/** Remove the env key only when it still points at what was torn down; anything else is the user's. */
function removeEnvKeyStep(opts: Options, endpoint: { host: string; port: number }): Step {
  const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
  const pointsHere = (value: string | undefined): boolean => {
    const u = value === undefined ? undefined : parseUrl(value);
    return u !== undefined && u.host === endpoint.host && u.port === endpoint.port && u.database === opts.dbName && u.user === opts.dbUser;
  };
  return {
    title: `Remove ${opts.envKey} from ${envRel}`,
    async check() {
      const text = await readTextIfExists(opts.envFile);
      const value = text === undefined ? undefined : readEnvValue(text, opts.envKey);
      if (value === undefined) return 'not set';
      return pointsHere(value) ? undefined : 'left alone: it points somewhere else';
    },
    async run() {
      const text = (await readTextIfExists(opts.envFile)) ?? '';
      const backup = await writeFileAtomic(opts.envFile, removeEnvKey(text, opts.envKey), { backupRoot: opts.projectDir });
      return `removed (backup: ${relative(opts.projectDir, backup ?? '')})`;
    },
    describe: () => [`remove the ${opts.envKey} line from ${envRel} (a backup is kept in .pg-setup/backups/)`],
  };
}
