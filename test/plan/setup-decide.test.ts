/**
 * The plan tier: setup's decisions from what a stand-in server and project hold, with no
 * PostgreSQL and no child process. Options come from the real resolver (flags, env file,
 * environment), facts from a stand-in inspection, and the plan from the pure decideSetup.
 */
import { describe, expect, test } from 'vitest';
import { readEnvValue } from '../../src/files/env-file.js';
import { parseFlags } from '../../src/options/parse.js';
import { resolveOptions } from '../../src/options/resolve.js';
import type { RunConfig } from '../../src/options/types.js';
import { decideSetup, type SetupAnswers, type SetupFacts, type SetupPlan } from '../../src/plan/decide.js';
import { VERIFIER_SHOWN, withVerifier } from '../../src/db/provision.js';
import { UserError } from '../../src/errors.js';

const PROJECT = process.cwd(); // any existing folder: the resolver only checks it exists
const FRESH = 'fresh-generated-password-0123456789';

/** A stand-in for the server: roles with their passwords, databases with their owners. */
interface StandIn {
  roles?: Record<string, { password: string; superuser?: boolean }>;
  databases?: Record<string, string>;
  /** Roles an earlier pg-setup run recorded as its own. */
  recorded?: string[];
  /** The admin is not a superuser (a managed service's CREATEROLE admin on PostgreSQL 16+). */
  adminGrant?: boolean;
}

interface Project {
  env?: string;
  example?: string;
  gitignore?: string;
  /** The env key the project's settings read (from the analysis), when not DATABASE_URL. */
  appKey?: string;
  shell?: string;
}

function config(argv: string[], p: Project, opts: { tty?: boolean; readUnder?: string } = {}): RunConfig {
  const flags = parseFlags([...argv, '--project-dir', PROJECT]);
  const key = opts.readUnder ?? flags['env-key'] ?? p.appKey ?? 'DATABASE_URL';
  const { options } = resolveOptions({
    flags,
    env: opts.tty ? {} : { CI: 'true' },
    cwd: PROJECT,
    stdinIsTTY: opts.tty ?? false,
    envFileValue: p.env === undefined ? undefined : readEnvValue(p.env, key),
    projectEnvKey: p.appKey,
  });
  return Object.freeze(options);
}

/** What inspectSetup would find, computed from the stand-ins as the real inspection reads the server. */
function inspect(c: RunConfig, s: StandIn | undefined, p: Project, inPlace = false): SetupFacts {
  const endpoint = { host: c.host, port: typeof c.port === 'number' ? c.port : 5432 };
  const role = s?.roles?.[c.dbUser];
  const owner = s?.databases?.[c.dbName];
  const tried = { host: endpoint.host, port: endpoint.port, user: c.dbUser, password: c.dbPassword ?? '', database: owner ? c.dbName : 'postgres' };
  return {
    endpoint,
    inPlace,
    server: s && {
      role: { exists: role !== undefined, superuser: role?.superuser ?? false },
      database: { exists: owner !== undefined, owner, encoding: owner ? 'UTF8' : undefined },
      templateUtf8: true,
      ownerGrant: s.adminGrant && owner === undefined ? `GRANT "${c.dbUser}" TO "cloud_admin" WITH SET TRUE, INHERIT FALSE` : undefined,
      login: role && c.dbPassword !== undefined && !inPlace ? { tried, result: role.password === c.dbPassword ? { ok: true } : { ok: false, reason: 'password', message: 'password authentication failed' } } : undefined,
      roleRecorded: (s.recorded ?? []).includes(c.dbUser),
    },
    envText: p.env ?? '',
    envExists: p.env !== undefined,
    exampleText: p.example ?? '',
    gitignoreText: p.gitignore ?? '',
    ignoredByGit: [],
    envTracked: false,
    shellValue: p.shell,
    freshPassword: FRESH,
  };
}

function planOf(c: RunConfig, f: SetupFacts, answers?: SetupAnswers): SetupPlan {
  const d = decideSetup(c, f, answers);
  if (d.kind !== 'plan') throw new Error(`expected a plan, got the question: ${d.question}`);
  return d.plan;
}

const steps = (p: SetupPlan) => [p.role, p.database, p.verify, p.env, p.example, p.gitignore];
/** The steps that would change something (the login check only reads). */
const withWork = (p: SetupPlan) => steps(p).filter((s) => s.present === undefined && !s.readOnly).map((s) => s.title);

/** A project after a finished first run: the env file, the example and the ignore file as pg-setup wrote them. */
function afterFirstRun(argv: string[], appKey?: string): { project: Project; server: StandIn } {
  const c = config(argv, { appKey });
  const plan = planOf(c, inspect(c, {}, { appKey }));
  return {
    project: { env: plan.env.content, example: plan.example.content, gitignore: plan.gitignore.content, appKey },
    server: { roles: { [c.dbUser]: { password: plan.password } }, databases: { [c.dbName]: c.dbUser } },
  };
}

describe('a first run', () => {
  test('on an empty server plans every step, and what the dry run shows is what runs (bar the verifier)', () => {
    const c = config(['--db-name', 'blog'], {});
    const plan = planOf(c, inspect(c, {}, {}));
    expect(withWork(plan)).toEqual(['Create role blog_user', 'Create database blog', 'Write DATABASE_URL to .env', 'List DATABASE_URL in .env.example', 'Keep .env out of git']);
    expect(plan.roleAction).toBe('create');
    expect(plan.password).toBe(FRESH);
    expect(plan.role.shown).toEqual([`CREATE ROLE "blog_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '${VERIFIER_SHOWN}'`]);
    expect(plan.role.sql).toBe(plan.role.shown[0]);
    const run = withVerifier(plan.role.sql!, plan.password);
    expect(run).toMatch(/PASSWORD 'SCRAM-SHA-256\$4096:[^']+'$/);
    expect(run).not.toContain(FRESH);
    expect(plan.database.shown).toEqual([`CREATE DATABASE "blog" OWNER "blog_user" ENCODING 'UTF8'`]);
    expect(plan.env.content).toBe(`DATABASE_URL="postgresql+psycopg://blog_user:${FRESH}@localhost:5432/blog"\n`);
    expect(plan.env.shown.join('\n')).not.toContain(FRESH);
    expect(plan.gitignore.content).toBe('.env\n.pg-setup/\n');
  });

  test('a non-superuser admin on PostgreSQL 16+ plans the GRANT it needs before CREATE DATABASE, and shows it', () => {
    const c = config(['--db-name', 'blog'], {});
    const plan = planOf(c, inspect(c, { adminGrant: true }, {}));
    expect(plan.database.shown[0]).toBe('GRANT "blog_user" TO "cloud_admin" WITH SET TRUE, INHERIT FALSE');
    expect(plan.database.grant).toBe(plan.database.shown[0]);
  });

  test('a dry run before the server exists still plans the role and database, and asks nothing', () => {
    const c = config(['--db-name', 'blog', '--dry-run'], {});
    const plan = planOf(c, inspect(c, undefined, {}));
    expect(withWork(plan)).toContain('Create role blog_user');
    expect(plan.database.present).toBeUndefined();
  });
});

describe('a re-run decides "nothing to do"', () => {
  test('on a DATABASE_URL project', () => {
    const { project, server } = afterFirstRun(['--db-name', 'blog']);
    const c = config(['--db-name', 'blog'], project);
    expect(withWork(planOf(c, inspect(c, server, project)))).toEqual([]);
    expect(withWork(planOf(c, inspect(c, server, project, true)))).toEqual([]);
  });

  test('on a project whose settings read SQLALCHEMY_DATABASE_URI, with the env file read under that key', () => {
    const { project, server } = afterFirstRun([], 'SQLALCHEMY_DATABASE_URI');
    expect(project.env).toMatch(/^SQLALCHEMY_DATABASE_URI="postgresql\+psycopg:/);
    const c = config([], project);
    expect(c.envKey).toBe('SQLALCHEMY_DATABASE_URI');
    expect(c.dbPassword).toBeDefined();
    const plan = planOf(c, inspect(c, server, project));
    expect(withWork(plan)).toEqual([]);
    expect(plan.roleAction).toBe('keep');
  });

  test('(the bug it guards against) reading that env file under DATABASE_URL knows no password, and a non-interactive run stops', () => {
    const { project, server } = afterFirstRun([], 'SQLALCHEMY_DATABASE_URI');
    const c = config([], project, { readUnder: 'DATABASE_URL' });
    expect(c.dbPassword).toBeUndefined();
    expect(() => decideSetup(c, inspect(c, server, project))).toThrow(/already exists and no password for it is known/);
  });
});

describe('the role exists and the known password does not log in', () => {
  const project: Project = { env: 'DATABASE_URL="postgresql+psycopg://blog_user:old-wrong@localhost:5432/blog"\n' };
  const server: StandIn = { roles: { blog_user: { password: 'the-real-one' } }, databases: { blog: 'blog_user' } };

  test('non-interactive: stops, naming --reset-password and --db-password', () => {
    const c = config([], project);
    try {
      decideSetup(c, inspect(c, server, project));
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).message).toBe('Role "blog_user" already exists and the known password does not log in.');
      expect((e as UserError).hint).toMatch(/--reset-password.*--db-password/);
    }
  });

  test('--reset-password: a fresh password, and the stale URL is replaced (same role and database)', () => {
    const c = config(['--reset-password'], project);
    const plan = planOf(c, inspect(c, server, project));
    expect(plan.roleAction).toBe('reset');
    expect(plan.role.shown[0]).toBe(`ALTER ROLE "blog_user" WITH PASSWORD '${VERIFIER_SHOWN}'`);
    expect(plan.password).toBe(FRESH);
    expect(plan.env.action).toBe('replace');
  });

  test('the wizard asks, and a yes resets; a password the user typed is kept', () => {
    const c = Object.freeze({ ...config([], project, { tty: true }), dbPassword: 'typed-by-user-123', dbPasswordSource: 'user' as const });
    const d = decideSetup(c, inspect(c, server, project));
    expect(d).toMatchObject({ kind: 'ask', key: 'resetPassword' });
    const plan = planOf(c, inspect(c, server, project), { resetPassword: true });
    expect(plan.roleAction).toBe('reset');
    expect(plan.password).toBe('typed-by-user-123');
    expect(() => decideSetup(c, inspect(c, server, project), { resetPassword: false })).toThrow(/already exists/);
  });

  test('a role an earlier unfinished run created gets a new password without a question, and says so', () => {
    const c = config([], project);
    const plan = planOf(c, inspect(c, { ...server, recorded: ['blog_user'] }, project));
    expect(plan.roleAction).toBe('reset');
    expect(plan.notes.map((n) => n.text)).toContain('Role "blog_user" was created by an earlier pg-setup run that did not finish; setting a new password.');
  });
});

describe('the env file already holds another value', () => {
  const other = 'DATABASE_URL="postgresql+psycopg://someone:pw@db.example:5432/other"\n';

  test('non-interactive: stops with --overwrite-env as the way on, and the value masked', () => {
    const c = config(['--db-name', 'blog', '--db-user', 'blog_user'], { env: other });
    expect(() => decideSetup(c, inspect(c, {}, { env: other }))).toThrow(/already holds a different value \(postgresql\+psycopg:\/\/someone:\*\*\*\*@db\.example:5432\/other\)/);
    const plan = planOf(config(['--db-name', 'blog', '--db-user', 'blog_user', '--overwrite-env'], { env: other }), inspect(c, {}, { env: other }));
    expect(plan.env.action).toBe('replace');
  });

  test('the SQLite URL this migration replaces: --yes replaces it; the wizard asks', () => {
    const sqlite = 'DATABASE_URL=sqlite+aiosqlite:///./blog.db\n';
    const yes = config(['--yes'], { env: sqlite });
    expect(planOf(yes, inspect(yes, {}, { env: sqlite })).env.action).toBe('replace');
    const wizard = config([], { env: sqlite }, { tty: true });
    expect(decideSetup(wizard, inspect(wizard, {}, { env: sqlite }))).toMatchObject({ kind: 'ask', key: 'replaceEnv' });
    expect(planOf(wizard, inspect(wizard, {}, { env: sqlite }), { replaceEnv: true }).env.content).toMatch(/^DATABASE_URL="postgresql\+psycopg:/);
  });
});

test('a database owned by another role stops the run, naming both ways on', () => {
  const c = config(['--db-name', 'blog'], {});
  expect(() => decideSetup(c, inspect(c, { databases: { blog: 'legacy' } }, {}))).toThrow('Database "blog" already exists and belongs to "legacy", not "blog_user".');
});

test('warnings: a superuser app role, the key set twice, and a shell variable that would shadow the env file', () => {
  const env = 'DATABASE_URL=a\nDATABASE_URL=b\n';
  const c = config(['--db-name', 'blog', '--db-user', 'admin', '--db-password', 'pw-123456', '--overwrite-env'], { env });
  const plan = planOf(c, inspect(c, { roles: { admin: { password: 'pw-123456', superuser: true } } }, { env, shell: 'postgresql://elsewhere/db' }));
  expect(plan.notes.filter((n) => n.level === 'warn').map((n) => n.text.split(';')[0]!.split(',')[0])).toEqual([
    'Role "admin" already exists and is a superuser',
    'DATABASE_URL is set more than once in ' + c.envFile,
    'DATABASE_URL is also set in your shell environment',
  ]);
});
