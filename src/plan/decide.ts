import { basename, relative } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { countAssignments, mergeEnvExample, mergeEnvKey, placeholderUrl, readEnvValue } from '../files/env-file.js';
import { appendGitignore, gitignoreCovers } from '../files/gitignore.js';
import { createDatabaseSql, loginError, roleSqlShown, type AppLogin, type LoginResult } from '../db/provision.js';
import { buildUrl, isSqliteUrl, maskUrl, parseUrl } from '../db/url.js';
import type { RunConfig } from '../options/types.js';

/**
 * What setup inspected, after the server is ready and before anything is changed. Gathered by
 * steps/provision.ts (inspectSetup); everything decideSetup needs, so that it touches nothing.
 */
export interface SetupFacts {
  endpoint: { host: string; port: number };
  /** The env file's URL logged in and proved everything (the re-run's fast path). */
  inPlace: boolean;
  /** Undefined when the server could not be asked (a dry run before the server it would start exists). */
  server?:
    | {
        role: { exists: boolean; superuser: boolean };
        database: { exists: boolean; owner: string | undefined; encoding: string | undefined };
        /** template1 is UTF8 (CREATE DATABASE needs no template0). */
        templateUtf8: boolean;
        /** The GRANT a non-superuser admin needs before CREATE DATABASE ... OWNER the role; undefined when none. */
        ownerGrant: string | undefined;
        /** The known password tried as the role (undefined: there was none to try, or the run is in place). */
        login: { tried: AppLogin; result: LoginResult } | undefined;
        /** An earlier pg-setup run created the role (and stopped before writing the env file). */
        roleRecorded: boolean;
      }
    | undefined;
  /** The env file, .env.example and .gitignore as they are ('' when missing). */
  envText: string;
  envExists: boolean;
  exampleText: string;
  gitignoreText: string;
  /** Of the entries .gitignore should hold, those git ignores anyway (other patterns, global excludes). */
  ignoredByGit: string[];
  /** The env file is tracked by git (ignoring it then has no effect). */
  envTracked: boolean;
  /** The env key's value in the shell that starts the app, if any. */
  shellValue: string | undefined;
  /** A strong password generated for this run, used when none is known or the old one is replaced. */
  freshPassword: string;
}

/** The user's answers to the questions a decision asked for (wizard only). */
export interface SetupAnswers {
  resetPassword?: boolean;
  replaceEnv?: boolean;
}

export interface Note {
  level: 'info' | 'warn';
  text: string;
}

/** One provisioning or file step as it will run: what is already there, and else what it does. */
export interface PlannedStep {
  title: string;
  /** Why nothing needs doing (the step is found in place), or undefined when it has work. */
  present: string | undefined;
  /** What it does, as the dry run prints it: SQL (the password's verifier masked), or file lines. */
  shown: string[];
  /** It only reads and verifies: running it never counts as a change. */
  readOnly?: boolean;
}

export interface SetupPlan {
  password: string;
  roleAction: 'create' | 'keep' | 'reset';
  /** The app's URL (holds the password). */
  url: string;
  role: PlannedStep & { sql: string | undefined };
  database: PlannedStep & { grant: string | undefined; create: string };
  verify: PlannedStep;
  env: PlannedStep & { content: string; action: 'create' | 'add' | 'replace' | 'keep' };
  example: PlannedStep & { content: string };
  gitignore: PlannedStep & { content: string; missing: string[] };
  notes: Note[];
}

export type SetupDecision =
  | { kind: 'ask'; key: keyof SetupAnswers; question: string; notes: Note[] }
  | { kind: 'plan'; plan: SetupPlan };

/**
 * What setup will do, from what it inspected: pure (no io, no clock, no randomness), so the
 * task list, --dry-run and --json all come from this one list. When a choice is the user's
 * (wizard), it returns the question; the caller asks and decides again with the answer.
 */
export function decideSetup(c: RunConfig, f: SetupFacts, answers: SetupAnswers = {}): SetupDecision {
  const notes: Note[] = [];
  const s = f.server;
  if (s?.role.exists && s.role.superuser) notes.push({ level: 'warn', text: `Role "${c.dbUser}" already exists and is a superuser; pg-setup leaves its attributes alone, but an app should not run as a superuser.` });
  if (s?.database.exists && s.database.owner !== c.dbUser) {
    throw new UserError(`Database "${c.dbName}" already exists and belongs to "${s.database.owner}", not "${c.dbUser}".`, {
      hint: `Pass --db-name with another name, or --db-user ${s.database.owner} to use its owner.`,
      exitCode: ExitCode.usage,
    });
  }
  const currentValue = readEnvValue(f.envText, c.envKey);
  if (countAssignments(f.envText, c.envKey) > 1) notes.push({ level: 'warn', text: `${c.envKey} is set more than once in ${c.envFile}; the last one wins and is the one pg-setup manages.` });

  // The role: keep it when the known password logs in; else reset it only when that is allowed.
  let password = c.dbPassword ?? f.freshPassword;
  let roleAction: SetupPlan['roleAction'] = !s || !s.role.exists ? 'create' : 'keep';
  if (s?.role.exists && !f.inPlace) {
    const r = s.login?.result ?? { ok: false as const, reason: 'password' as const, message: 'no password known' };
    if (!r.ok && r.reason !== 'password' && r.reason !== 'no-database') throw loginError(s.login!.tried, r);
    if (!r.ok) {
      const known = c.dbPassword === undefined ? 'no password for it is known (none in the env file or flags)' : 'the known password does not log in';
      let reset = c.resetPassword;
      if (!reset && s.roleRecorded) {
        notes.push({ level: 'info', text: `Role "${c.dbUser}" was created by an earlier pg-setup run that did not finish; setting a new password.` });
        reset = true;
      }
      if (!reset && c.interactive && !c.dryRun) {
        if (answers.resetPassword === undefined) {
          return { kind: 'ask', key: 'resetPassword', question: `Role "${c.dbUser}" exists but ${known}. Set a new password for it? (anything using the old one stops working)`, notes };
        }
        reset = answers.resetPassword;
      }
      if (!reset) {
        throw new UserError(`Role "${c.dbUser}" already exists and ${known}.`, {
          hint: 'Pass --reset-password to set a new password (anything using the old one stops working), or pass the right one with --db-password.',
          exitCode: ExitCode.usage,
        });
      }
      roleAction = 'reset';
      // A password the user typed or passed is kept; otherwise a fresh one replaces the stale one.
      if (c.dbPasswordSource !== 'user') password = f.freshPassword;
    }
  }

  // The env file: a SQLite URL is the value this migration replaces (--yes or the wizard's yes replaces it, with a backup).
  const url = buildUrl({ driver: c.driver, user: c.dbUser, password, host: f.endpoint.host, port: f.endpoint.port, database: c.dbName, tls: c.tls });
  const envRel = relative(c.projectDir, c.envFile) || c.envFile;
  let envReplaceAllowed = !s ? c.overwriteEnv : c.overwriteEnv || (currentValue !== undefined && isSqliteUrl(currentValue) && c.yes);
  if (s && currentValue !== undefined && currentValue !== url && !envReplaceAllowed) {
    const cur = parseUrl(currentValue);
    const sameTarget = cur && cur.user === c.dbUser && cur.database === c.dbName;
    if (roleAction === 'reset' && sameTarget) {
      envReplaceAllowed = true; // --reset-password: the stale URL is replaced, with a backup.
    } else if (c.interactive && !c.dryRun) {
      if (answers.replaceEnv === undefined) {
        notes.push({ level: 'info', text: `${c.envKey} in ${envRel} differs:\n  - ${maskUrl(currentValue)}\n  + ${maskUrl(url)}` });
        return { kind: 'ask', key: 'replaceEnv', question: `Replace it? (a backup of ${basename(c.envFile)} is kept)`, notes };
      }
      envReplaceAllowed = answers.replaceEnv;
      if (!envReplaceAllowed) throw new UserError(`Left ${c.envKey} in ${c.envFile} as it was; nothing was changed.`, { exitCode: ExitCode.usage });
    } else {
      throw new UserError(`${c.envKey} in ${c.envFile} already holds a different value (${maskUrl(currentValue)}).`, {
        hint: isSqliteUrl(currentValue)
          ? 'It is the SQLite URL this migration replaces: pass --yes (or --overwrite-env) to replace it (a backup is kept), or --env-key to write another key.'
          : `Pass --overwrite-env to replace it (a backup is kept), or --env-key to write another key.`,
        exitCode: ExitCode.usage,
      });
    }
  }
  if (s && f.shellValue !== undefined && f.shellValue !== url) {
    notes.push({ level: 'warn', text: `${c.envKey} is also set in your shell environment, and pydantic-settings prefers it over ${basename(c.envFile)}. Run \`unset ${c.envKey}\` so the app uses the new URL.` });
  }
  if (f.envTracked) notes.push({ level: 'warn', text: `${envRel} is tracked by git, so ignoring it has no effect. Untrack it (the file stays on disk): git rm --cached ${envRel} && git commit -m "Stop tracking ${envRel}"` });

  const merged = mergeEnvKey(f.envText, c.envKey, url);
  const envAction = currentValue === url ? 'keep' : !f.envExists ? 'create' : merged.action === 'replace' ? 'replace' : 'add';
  const entries = ignoreEntries(c);
  const missing = notListed(f.gitignoreText, entries).filter((e) => !f.ignoredByGit.includes(e));
  const exampleListed = readEnvValue(f.exampleText, c.envKey) !== undefined;
  const roleSql = roleAction === 'keep' ? undefined : roleSqlShown(roleAction, c.dbUser);
  const createDb = createDatabaseSql(c.dbName, c.dbUser, s?.templateUtf8 ?? true);
  const plan: SetupPlan = {
    password,
    roleAction,
    url,
    role: {
      title: `Create role ${c.dbUser}`,
      present: roleAction === 'keep' ? 'exists, password works' : undefined,
      shown: [roleSqlShown(roleAction === 'reset' ? 'reset' : 'create', c.dbUser)],
      sql: roleSql,
    },
    database: {
      title: `Create database ${c.dbName}`,
      present: f.inPlace ? `exists, owned by ${c.dbUser}` : s?.database.exists ? `exists, owned by ${s.database.owner}, ${s.database.encoding}` : undefined,
      shown: [...(s?.ownerGrant ? [s.ownerGrant] : []), createDb],
      grant: s?.ownerGrant,
      create: createDb,
    },
    verify: {
      title: `Log in as ${c.dbUser} over TCP`,
      present: f.inPlace ? 'can create tables in public' : undefined,
      readOnly: true,
      shown: [`connect to ${f.endpoint.host}:${f.endpoint.port}/${c.dbName} as ${c.dbUser}; check it may create tables in public`],
    },
    env: {
      title: `Write ${c.envKey} to ${envRel}`,
      present: envAction === 'keep' ? 'already set' : undefined,
      shown: [`${c.envKey}=${maskUrl(url)}`],
      content: merged.content,
      action: envAction,
    },
    example: {
      title: `List ${c.envKey} in .env.example`,
      present: exampleListed ? 'already listed' : undefined,
      shown: [`${c.envKey}=${placeholderUrl(c.driver)}`],
      content: mergeEnvExample(f.exampleText, c.envKey, placeholderUrl(c.driver)).content,
    },
    gitignore: {
      title: `Keep ${envRel} out of git`,
      present: missing.length === 0 ? 'already ignored' : undefined,
      shown: [`append ${(missing.length ? missing : entries).join(', ')} to .gitignore`],
      content: appendGitignore(f.gitignoreText, missing),
      missing,
    },
    notes,
  };
  return { kind: 'plan', plan };
}

/** What .gitignore must cover: the env file (by name when it lies outside the project) and pg-setup's own folder. */
export function ignoreEntries(c: Pick<RunConfig, 'projectDir' | 'envFile'>): string[] {
  const envRel = relative(c.projectDir, c.envFile) || c.envFile;
  return [envRel.startsWith('..') ? basename(c.envFile) : envRel, '.pg-setup/'];
}

/** The entries this .gitignore text does not list (git may still ignore them through other patterns). */
export function notListed(gitignoreText: string, entries: string[]): string[] {
  return entries.filter((e) => !gitignoreCovers(gitignoreText, e.replace(/\/$/, '')) && !gitignoreCovers(gitignoreText, e));
}

/** What teardown inspected: the state record for this server, what exists, and the env key's value. */
export interface TeardownFacts {
  /** host:port, the state record's key. */
  serverKey: string;
  endpoint: { host: string; port: number };
  recorded: { databases: string[]; roles: string[] } | undefined;
  databaseExists: boolean;
  roleExists: boolean;
  /** The env key's value in the env file, if any. */
  envValue: string | undefined;
  statePath: string;
}

export interface TeardownPlan {
  /** Objects pg-setup created and this run drops. */
  dropping: string[];
  /** Objects that exist but pg-setup did not create: left alone. */
  kept: string[];
  dropDatabase: boolean;
  dropRole: boolean;
  /** The env key is removed only while it still points at what is torn down. */
  env: { present: string | undefined };
  notes: Note[];
}

/** What teardown will drop: only what the state record says pg-setup created (pure). */
export function decideTeardown(c: RunConfig, f: TeardownFacts): TeardownPlan {
  const dropDatabase = f.recorded?.databases.includes(c.dbName) ?? false;
  const dropRole = f.recorded?.roles.includes(c.dbUser) ?? false;
  if (!dropDatabase && !dropRole) {
    throw new UserError(
      `pg-setup did not create database "${c.dbName}" or role "${c.dbUser}" on ${f.serverKey} (${relative(c.projectDir, f.statePath)} does not list them), so it will not drop them.`,
      { hint: 'If you mean to remove them, do it yourself as a superuser (DROP DATABASE / DROP ROLE), or pass --db-name / --db-user for what pg-setup did create.', exitCode: ExitCode.usage },
    );
  }
  const kept = [...(f.databaseExists && !dropDatabase ? [`database ${c.dbName}`] : []), ...(f.roleExists && !dropRole ? [`role ${c.dbUser}`] : [])];
  const u = f.envValue === undefined ? undefined : parseUrl(f.envValue);
  const pointsHere = u !== undefined && u.host === f.endpoint.host && u.port === f.endpoint.port && u.database === c.dbName && u.user === c.dbUser;
  return {
    dropping: [...(dropDatabase ? [`database ${c.dbName}`] : []), ...(dropRole ? [`role ${c.dbUser}`] : [])],
    kept,
    dropDatabase,
    dropRole,
    env: { present: f.envValue === undefined ? 'not set' : pointsHere ? undefined : 'left alone: it points somewhere else' },
    notes: kept.map((k) => ({ level: 'info' as const, text: `Keeping ${k}: it existed before pg-setup, which never drops what it did not create.` })),
  };
}
