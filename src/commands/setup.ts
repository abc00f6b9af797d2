import { basename, join, relative } from 'node:path';
import type { AdminSql } from '../db/admin.js';
import {
  alterPasswordSql,
  createDatabaseSql,
  createRoleSql,
  ensureAdminCanSetRole,
  inspectDatabase,
  inspectRole,
  isTemplateUtf8,
  loginError,
  probeAsApp,
  tryAppLogin,
  verifyAppCanWrite,
  type AppLogin,
} from '../db/provision.js';
import { generatePassword } from '../db/scram.js';
import { buildUrl, isSqliteUrl, maskUrl, parseUrl } from '../db/url.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import { countAssignments, mergeEnvExample, mergeEnvKey, placeholderUrl, readEnvValue } from '../files/env-file.js';
import { gitIgnoredOf, isGitRepo, isGitTracked } from '../files/git.js';
import { appendGitignore, gitignoreCovers } from '../files/gitignore.js';
import { checkWritable, makePrivate, readTextIfExists, writeFileAtomic } from '../files/writer.js';
import { addSecret } from '../io/secrets.js';
import { style, type Output } from '../io/output.js';
import type { Given } from '../options/resolve.js';
import type { Options } from '../options/types.js';
import { describeSteps, runSteps } from '../plan/run.js';
import type { Step, StepOutcome } from '../plan/step.js';
import { detectMachine, rememberedProvider, selectProvider } from '../providers/select.js';
import { existingProvider } from '../providers/existing.js';
import { confirmProjectChanges, prepareProject, projectPhaseSteps, type ProjectPlan } from './project-phase.js';
import { pythonLoginStep } from '../project/login-check.js';
import { createRecorded, isRecordedCreated, serverKey } from '../state/created.js';
import type { Provider } from '../providers/types.js';

export interface SetupResult {
  ok: true;
  dryRun: boolean;
  changed: boolean;
  provider: string;
  host: string;
  port: number;
  database: string;
  role: string;
  envFile: string;
  envKey: string;
  /** The URL with the password masked. */
  url: string;
  steps: StepOutcome[];
  warnings: string[];
  nextSteps: string[];
  /** SQLite-only workarounds in the code to check by hand (`file:line: why`). */
  review: string[];
}

/** What the pre-flight inspection decided, before any change is made. */
interface Decisions {
  password: string;
  roleAction: 'create' | 'keep' | 'reset';
  envReplaceAllowed: boolean;
}

/** pg-setup [setup]: questions, then server, then provisioning, files and the project. */
export async function setup(opts: Options, given: Given, out: Output): Promise<SetupResult> {
  // The project first: it settles the env key, finds the SQLite file, and a run lacking consent stops here.
  let project = await prepareProject(opts, out);
  // The wizard shows what the machine has, and its first question is where PostgreSQL comes from.
  const detected = opts.interactive && !opts.yes ? await detectMachine(opts, out) : undefined;
  // A re-run whose env file already logs in needs no superuser and no detection: one app
  // connection proves the server, role, database, ownership and write access.
  const inPlace = await checkInPlace(opts);
  const provider =
    inPlace && (opts.provider === 'existing' || (opts.provider === 'auto' && !(await rememberedProvider(opts)))) ? existingProvider(opts) : await selectProvider(opts, given, out, detected);
  if (opts.interactive) await askForGaps(opts, given, project, out);

  // Phase 1: a ready server. Prompts never run while a task list is on screen.
  const serverSteps = inPlace ? [reachedStep(opts, inPlace)] : provider.steps();
  const outcomes: StepOutcome[] = [];
  if (opts.dryRun) {
    outcomes.push(...(await describeSteps(serverSteps, out)));
  } else {
    outcomes.push(...(await runSteps(serverSteps, out)));
  }

  // Phase 2: look before touching anything, and settle every question.
  const endpoint = inPlace ? { host: opts.host, port: opts.port as number } : provider.endpoint();
  // The superuser session opens on first use only (a re-run that finds everything in place never needs it).
  let adminP: Promise<AdminSql> | undefined;
  let adminUsable = true;
  const getAdmin = (): Promise<AdminSql> => {
    if (!adminUsable) return Promise.reject(new Error('the server is not running yet'));
    return (adminP ??= provider.admin());
  };
  if (opts.dryRun && !inPlace) {
    // A dry run may stop here: the server it would start is not running yet.
    adminUsable = await getAdmin().then((a) => a.query('SELECT 1')).then(() => true, () => false);
  }
  try {
    const decisions = opts.dryRun && !adminUsable ? dryRunDecisions(opts) : await decide(opts, getAdmin, endpoint, out, inPlace);
    project = await confirmProjectChanges(project, opts, out);
    const url = buildUrl({ driver: opts.driver, user: opts.dbUser, password: decisions.password, host: endpoint.host, port: endpoint.port, database: opts.dbName, tls: opts.tls });
    addSecret(decisions.password);
    const steps = [
      ...provisionSteps(opts, provider, getAdmin, decisions, url, out, inPlace),
      ...(await projectPhaseSteps(project, opts, url, getAdmin)),
      // Last: the app's own driver logs in with the URL as written (its TLS parameters included).
      // A re-run that found everything in place proved that before, unless TLS is in play.
      ...(project.enabled && (!inPlace || opts.tls) ? [pythonLoginStep(opts.projectDir, project.manager ?? 'unknown', opts.dbUser, opts.driver, url)] : []),
    ];
    outcomes.push(...(opts.dryRun ? await describeSteps(steps, out) : await runSteps(steps, out)));
    const changed = outcomes.some((o) => o.status === 'done');
    const result: SetupResult = {
      ok: true,
      dryRun: opts.dryRun,
      changed,
      provider: provider.name,
      host: endpoint.host,
      port: endpoint.port,
      database: opts.dbName,
      role: opts.dbUser,
      envFile: opts.envFile,
      envKey: opts.envKey,
      url: maskUrl(url),
      steps: outcomes,
      warnings: out.warnings,
      nextSteps: nextSteps(opts, project.startCommand),
      review: project.review,
    };
    printSummary(result, out);
    return result;
  } finally {
    if (adminP) await (await adminP.catch(() => undefined))?.close();
  }
}

type InPlace = Extract<Awaited<ReturnType<typeof probeAsApp>>, { ok: true }>;

/**
 * The fast path of a re-run: the env file's URL logs in as the role, the database belongs to
 * it, and it may create tables in public (one connection, one query). Undefined when anything is missing (the full run follows).
 */
async function checkInPlace(opts: Options): Promise<InPlace | undefined> {
  if (opts.dryRun || opts.resetPassword || opts.dbPassword === undefined || typeof opts.port !== 'number') return undefined;
  // A first run (no URL in the env file yet) has nothing to re-check: skip the doomed login.
  const text = await readTextIfExists(opts.envFile).catch(() => undefined);
  if (text === undefined || readEnvValue(text, opts.envKey) === undefined) return undefined;
  const probe = await probeAsApp({ host: opts.host, port: opts.port, user: opts.dbUser, password: opts.dbPassword as string, database: opts.dbName, tls: opts.tls }, { write: true });
  return probe.ok && probe.databaseOwner === opts.dbUser && probe.canCreate ? probe : undefined;
}

function reachedStep(opts: Options, p: InPlace): Step {
  return {
    title: `Check PostgreSQL on ${opts.host}:${opts.port}`,
    check: async () => {
      // A re-run that asks for another major must not be told "in place" on the old server.
      const major = p.serverVersion.split('.')[0];
      if (opts.pgVersion !== undefined && opts.pgVersion.split('.')[0] !== major)
        throw new UserError(`${opts.envKey} points at PostgreSQL ${p.serverVersion} on ${opts.host}:${opts.port}, not the --pg-version ${opts.pgVersion} asked for; pg-setup keeps the server the project uses. Nothing was changed.`, {
          hint: `Drop --pg-version (or pass --pg-version ${major}) to keep it; for another major, set up a new server (e.g. another --container-name) and move the data with pg_dump and pg_restore.`,
          exitCode: ExitCode.usage,
        });
      return `PostgreSQL ${p.serverVersion}, reached as ${opts.dbUser}`;
    },
    run: async () => undefined,
    describe: () => [],
  };
}

/**
 * What to do with a SQLite file that holds rows. Each choice is an `--sqlite` value, so the
 * wizard and the flag mean the same; a new mode is one more line here.
 */
const SQLITE_CHOICES: { value: Options['sqlite']; name: string }[] = [
  { value: 'keep', name: 'Keep it where it is' },
  { value: 'import', name: 'Import its rows into PostgreSQL once the tables exist (the file is kept)' },
  { value: 'delete', name: 'Import its rows, then move it into .pg-setup/backups/ (nothing is deleted)' },
];

/**
 * Interactive only: ask for what flags (or the env file) did not give, each default being
 * what a non-interactive run would take: names, password, the SQLite file, a SQLite URL in the env file.
 */
async function askForGaps(opts: Options, given: Given, project: ProjectPlan, out: Output): Promise<void> {
  const { askConfirm, askName, askPassword, askSelect } = await import('../options/prompts.js');
  if (!given.dbName) {
    opts.dbName = await askName('database', '--db-name', 'Database name', opts.dbName);
    if (!given.dbUser) opts.dbUser = `${opts.dbName}_user`;
  }
  if (!given.dbUser) opts.dbUser = await askName('role', '--db-user', 'Database user (role)', opts.dbUser);
  if (!given.dbPassword) {
    const pw = await askPassword('Password for that role (Enter to generate a strong one)');
    if (pw !== undefined) {
      opts.dbPassword = pw;
      opts.dbPasswordSource = 'user';
      addSecret(pw);
    }
  }
  const withRows = project.enabled && !given.sqlite && !opts.yes ? project.sqliteFiles.filter((f) => (f.rows ?? 0) > 0) : [];
  if (withRows.length > 0) {
    const what = withRows.map((f) => `${relative(opts.projectDir, f.path) || f.path} (${f.rows} row${f.rows === 1 ? '' : 's'})`).join(', ');
    opts.sqlite = await askSelect(`The SQLite database ${what} holds data. What should happen to it?`, SQLITE_CHOICES, opts.sqlite);
  }
  const current = readEnvValue((await readTextIfExists(opts.envFile).catch(() => undefined)) ?? '', opts.envKey);
  if (current !== undefined && isSqliteUrl(current) && !opts.overwriteEnv && !opts.yes && !opts.dryRun) {
    // The SQLite URL is the value this migration replaces: a plain yes/no, yes being what --yes does.
    const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
    out.info(`${opts.envKey} in ${envRel} holds the SQLite URL ${current}.`);
    if (!(await askConfirm(`Replace it with the PostgreSQL URL? (a backup of ${basename(opts.envFile)} is kept)`, true))) {
      throw new UserError(`Left ${opts.envKey} in ${envRel} as it was; nothing was changed.`, { hint: 'Pass --env-key to write the PostgreSQL URL to another key.', exitCode: ExitCode.usage });
    }
    opts.overwriteEnv = true;
  }
}

async function decide(
  opts: Options,
  getAdmin: () => Promise<AdminSql>,
  endpoint: { host: string; port: number },
  out: Output,
  inPlace: InPlace | undefined,
): Promise<Decisions> {
  const admin = inPlace ? undefined : await getAdmin();
  const role = admin ? await inspectRole(admin, opts.dbUser) : { exists: true, superuser: inPlace!.superuser, createrole: false, canLogin: true };
  if (role.superuser) out.warn(`Role "${opts.dbUser}" already exists and is a superuser; pg-setup leaves its attributes alone, but an app should not run as a superuser.`);
  const db = admin ? await inspectDatabase(admin, opts.dbName) : { exists: true, owner: opts.dbUser, encoding: undefined };
  if (db.exists && db.owner !== opts.dbUser) {
    throw new UserError(`Database "${opts.dbName}" already exists and belongs to "${db.owner}", not "${opts.dbUser}".`, {
      hint: `Pass --db-name with another name, or --db-user ${db.owner} to use its owner.`,
      exitCode: ExitCode.usage,
    });
  }

  if (!opts.dryRun) await checkWritable(opts.envFile); // stop before creating anything the .env could not then name
  const envText = (await readTextIfExists(opts.envFile)) ?? '';
  const currentValue = readEnvValue(envText, opts.envKey);
  if (countAssignments(envText, opts.envKey) > 1) out.warn(`${opts.envKey} is set more than once in ${opts.envFile}; the last one wins and is the one pg-setup manages.`);

  let password = opts.dbPassword ?? generatePassword();
  let roleAction: Decisions['roleAction'] = 'create';
  if (role.exists) {
    const login: AppLogin = { host: endpoint.host, port: endpoint.port, user: opts.dbUser, password, database: db.exists ? opts.dbName : 'postgres', tls: opts.tls };
    const r = inPlace
      ? { ok: true as const }
      : opts.dbPassword === undefined
        ? { ok: false as const, reason: 'password' as const, message: 'no password known' }
        : await tryAppLogin(login);
    if (r.ok) {
      roleAction = 'keep';
    } else if (r.reason !== 'password' && r.reason !== 'no-database') {
      throw loginError(login, r);
    } else {
      const known = opts.dbPassword === undefined ? 'no password for it is known (none in the env file or flags)' : 'the known password does not log in';
      let reset = opts.resetPassword;
      if (!reset && (await isRecordedCreated(opts.projectDir, serverKey(endpoint), 'roles', opts.dbUser))) {
        // pg-setup made this role (an earlier run stopped before writing the env file): its password is ours to set.
        out.info(`Role "${opts.dbUser}" was created by an earlier pg-setup run that did not finish; setting a new password.`);
        reset = true;
      }
      if (!reset && opts.interactive && !opts.dryRun) {
        const { askConfirm } = await import('../options/prompts.js');
        reset = await askConfirm(`Role "${opts.dbUser}" exists but ${known}. Set a new password for it? (anything using the old one stops working)`, false);
      }
      if (!reset) {
        throw new UserError(`Role "${opts.dbUser}" already exists and ${known}.`, {
          hint: 'Pass --reset-password to set a new password (anything using the old one stops working), or pass the right one with --db-password.',
          exitCode: ExitCode.usage,
        });
      }
      roleAction = 'reset';
      // A password the user typed or passed is kept; otherwise a fresh one replaces the stale one.
      if (opts.dbPasswordSource !== 'user') password = generatePassword();
    }
  }

  // A SQLite URL is the value this migration replaces: --yes (or the wizard's yes) replaces it, with a backup.
  let envReplaceAllowed = opts.overwriteEnv || (currentValue !== undefined && isSqliteUrl(currentValue) && opts.yes);
  const desired = buildUrl({ driver: opts.driver, user: opts.dbUser, password, host: endpoint.host, port: endpoint.port, database: opts.dbName, tls: opts.tls });
  if (currentValue !== undefined && currentValue !== desired && !envReplaceAllowed) {
    const cur = parseUrl(currentValue);
    const sameTarget = cur && cur.user === opts.dbUser && cur.database === opts.dbName;
    if (roleAction === 'reset' && sameTarget) {
      envReplaceAllowed = true; // --reset-password: the stale URL is replaced, with a backup.
    } else if (opts.interactive && !opts.dryRun) {
      const { askConfirm } = await import('../options/prompts.js');
      out.info(`${opts.envKey} in ${relative(opts.projectDir, opts.envFile) || opts.envFile} differs:\n  - ${maskUrl(currentValue)}\n  + ${maskUrl(desired)}`);
      envReplaceAllowed = await askConfirm(`Replace it? (a backup of ${basename(opts.envFile)} is kept)`, false);
      if (!envReplaceAllowed) throw new UserError(`Left ${opts.envKey} in ${opts.envFile} as it was; nothing was changed.`, { exitCode: ExitCode.usage });
    } else {
      throw new UserError(`${opts.envKey} in ${opts.envFile} already holds a different value (${maskUrl(currentValue)}).`, {
        hint: isSqliteUrl(currentValue)
          ? 'It is the SQLite URL this migration replaces: pass --yes (or --overwrite-env) to replace it (a backup is kept), or --env-key to write another key.'
          : `Pass --overwrite-env to replace it (a backup is kept), or --env-key to write another key.`,
        exitCode: ExitCode.usage,
      });
    }
  }
  const shell = process.env[opts.envKey];
  if (shell !== undefined && shell !== desired) {
    out.warn(`${opts.envKey} is also set in your shell environment, and pydantic-settings prefers it over ${basename(opts.envFile)}. Run \`unset ${opts.envKey}\` so the app uses the new URL.`);
  }
  return { password, roleAction, envReplaceAllowed };
}

function dryRunDecisions(opts: Options): Decisions {
  return { password: opts.dbPassword ?? generatePassword(), roleAction: 'create', envReplaceAllowed: opts.overwriteEnv };
}

/** The provisioning and file steps, each checking first whether its effect is already there. */
function provisionSteps(
  opts: Options,
  provider: Provider,
  admin: () => Promise<AdminSql>,
  d: Decisions,
  url: string,
  out: Output,
  inPlace: InPlace | undefined,
): Step[] {
  const endpoint = inPlace ? { host: opts.host, port: opts.port as number } : provider.endpoint();
  const login: AppLogin = { host: endpoint.host, port: endpoint.port, user: opts.dbUser, password: d.password, database: opts.dbName, tls: opts.tls };
  const roleStep: Step = {
    title: `Create role ${opts.dbUser}`,
    async check() {
      if (inPlace) return 'exists, password works';
      const r = await inspectRole(await admin(), opts.dbUser);
      if (!r.exists) return undefined;
      return d.roleAction === 'reset' ? undefined : 'exists, password works';
    },
    async run() {
      const a = await admin();
      const exists = (await inspectRole(a, opts.dbUser)).exists;
      if (exists) {
        await a.query(alterPasswordSql(opts.dbUser, d.password)).catch((e: unknown) => {
          // PostgreSQL 16+: a CREATEROLE admin may alter only roles it administers (those it created).
          throw new UserError(`The admin cannot set a new password for role "${opts.dbUser}": ${(e as Error).message}`, {
            hint: `Use the admin that created the role (or a superuser), or pass --db-user with a new role name.`,
            exitCode: ExitCode.auth,
          });
        });
      }
      else await createRecorded(opts.projectDir, serverKey(endpoint), provider.name, 'roles', opts.dbUser, () => a.query(createRoleSql(opts.dbUser, d.password)));
      return exists ? 'new password set' : 'created (LOGIN, not superuser)';
    },
    describe: () => [
      d.roleAction === 'reset'
        ? `ALTER ROLE "${opts.dbUser}" WITH PASSWORD '<SCRAM-SHA-256 verifier>'`
        : `CREATE ROLE "${opts.dbUser}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '<SCRAM-SHA-256 verifier>'`,
    ],
  };
  const dbStep: Step = {
    title: `Create database ${opts.dbName}`,
    async check() {
      if (inPlace) return `exists, owned by ${inPlace.databaseOwner}`;
      const s = await inspectDatabase(await admin(), opts.dbName);
      return s.exists ? `exists, owned by ${s.owner}, ${s.encoding}` : undefined;
    },
    async run() {
      const a = await admin();
      const sql = createDatabaseSql(opts.dbName, opts.dbUser, await isTemplateUtf8(a));
      const granted = await ensureAdminCanSetRole(a, opts.dbUser); // a CREATEROLE (not superuser) admin
      await createRecorded(opts.projectDir, serverKey(endpoint), provider.name, 'databases', opts.dbName, () => a.query(sql));
      return granted ? `created (UTF8); ${granted}` : 'created (UTF8)';
    },
    describe: () => [
      // Only an existing server's admin may be a non-superuser (the other providers use the superuser).
      ...(provider.name === 'existing' ? [`GRANT "${opts.dbUser}" TO <admin> WITH SET TRUE, INHERIT FALSE   (only a non-superuser admin that cannot SET ROLE to it yet; 15 and older: plain membership)`] : []),
      `CREATE DATABASE "${opts.dbName}" OWNER "${opts.dbUser}" ENCODING 'UTF8'`,
    ],
  };
  const verifyStep: Step = {
    title: `Log in as ${opts.dbUser} over TCP`,
    readOnly: true,
    check: async () => (inPlace ? 'can create tables in public' : undefined),
    async run() {
      await verifyAppCanWrite(login);
      return 'can create tables in public';
    },
    describe: () => [`connect to ${endpoint.host}:${endpoint.port}/${opts.dbName} as ${opts.dbUser}; check it may create tables in public`],
  };
  const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
  const envStep: Step = {
    title: `Write ${opts.envKey} to ${envRel}`,
    async check() {
      const text = await readTextIfExists(opts.envFile);
      return text !== undefined && readEnvValue(text, opts.envKey) === url ? 'already set' : undefined;
    },
    async run() {
      const text = await readTextIfExists(opts.envFile);
      const merged = mergeEnvKey(text ?? '', opts.envKey, url);
      if (merged.action === 'replace' && !d.envReplaceAllowed) {
        throw usageError(`${opts.envKey} in ${opts.envFile} changed while pg-setup ran.`, 'Run pg-setup again.');
      }
      // Others could read the password once it is in: tighten the mode first.
      const was = text === undefined ? undefined : await makePrivate(opts.envFile);
      const tightened = was === undefined ? '' : `; mode tightened from ${was.toString(8)} to ${(was & 0o700).toString(8)} (it holds the password)`;
      const backup = await writeFileAtomic(opts.envFile, merged.content, {
        mode: 0o600,
        backupRoot: merged.action === 'replace' ? opts.projectDir : undefined,
      });
      if (text === undefined) return 'created (mode 600)';
      return (merged.action === 'replace' ? `replaced (backup: ${relative(opts.projectDir, backup ?? '')})` : 'added') + tightened;
    },
    describe: () => [`${opts.envKey}=${maskUrl(url)}`],
  };
  const exampleFile = join(opts.projectDir, '.env.example');
  const exampleStep: Step = {
    title: `List ${opts.envKey} in .env.example`,
    async check() {
      const text = await readTextIfExists(exampleFile);
      return text !== undefined && readEnvValue(text, opts.envKey) !== undefined ? 'already listed' : undefined;
    },
    async run() {
      const text = (await readTextIfExists(exampleFile)) ?? '';
      await writeFileAtomic(exampleFile, mergeEnvExample(text, opts.envKey, placeholderUrl(opts.driver)).content, { mode: 0o644 });
      return 'placeholder added (no secret)';
    },
    describe: () => [`${opts.envKey}=${placeholderUrl(opts.driver)}`],
  };
  const gitignoreFile = join(opts.projectDir, '.gitignore');
  const ignoreEntries = [envRel.startsWith('..') ? basename(opts.envFile) : envRel, '.pg-setup/'];
  const missingIgnores = async (): Promise<string[]> => {
    const text = (await readTextIfExists(gitignoreFile)) ?? '';
    const notListed = ignoreEntries.filter((e) => !gitignoreCovers(text, e.replace(/\/$/, '')) && !gitignoreCovers(text, e));
    // Listed in the project's own .gitignore settles it; otherwise git knows about other patterns.
    if (notListed.length === 0 || !isGitRepo(opts.projectDir)) return notListed;
    const ignored = await gitIgnoredOf(opts.projectDir, notListed);
    return notListed.filter((e) => !ignored.has(e));
  };
  const gitignoreStep: Step = {
    title: `Keep ${envRel} out of git`,
    async check() {
      if (isGitRepo(opts.projectDir) && (await isGitTracked(opts.projectDir, opts.envFile))) {
        out.warn(`${envRel} is tracked by git, so ignoring it has no effect. Untrack it (the file stays on disk): git rm --cached ${envRel} && git commit -m "Stop tracking ${envRel}"`);
      }
      return (await missingIgnores()).length === 0 ? 'already ignored' : undefined;
    },
    async run() {
      const missing = await missingIgnores();
      const text = (await readTextIfExists(gitignoreFile)) ?? '';
      await writeFileAtomic(gitignoreFile, appendGitignore(text, missing), { mode: 0o644 });
      return `added ${missing.join(', ')} to .gitignore`;
    },
    describe: () => [`append ${ignoreEntries.join(', ')} to .gitignore (if git does not ignore them yet)`],
  };
  return [roleStep, dbStep, verifyStep, envStep, exampleStep, gitignoreStep];
}

function nextSteps(opts: Options, start: string | undefined): string[] {
  const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
  const how = start ? `start it as usual: ${start}` : 'start it as usual';
  return [`Your app reads ${opts.envKey} from ${envRel}; ${how}`, 'Check everything at any time: npx pg-setup doctor'];
}

function printSummary(r: SetupResult, out: Output): void {
  const s = style(out);
  out.info('');
  if (r.dryRun) {
    out.info(s.bold('Dry run: nothing was changed.'));
    return;
  }
  if (!r.changed) {
    out.info(s.green('Everything is already in place; nothing changed.'));
  } else {
    out.info(s.green(s.bold('Done.')));
  }
  out.info(`  server    ${r.provider}, ${r.host}:${r.port}`);
  out.info(`  database  ${r.database}, owned by ${r.role}`);
  out.info(`  ${r.envKey}  ${r.url}  (in ${basename(r.envFile)})`);
  if (r.changed) {
    out.info('');
    out.info(s.bold('Next steps'));
    r.nextSteps.forEach((n, i) => out.info(`  ${i + 1}. ${n}`));
  }
  if (r.review.length) {
    out.info('');
    out.info(s.bold('Check by hand (SQLite-only code that PostgreSQL changes; not edited)'));
    for (const line of r.review) out.info(`  ${line}`);
  }
}
