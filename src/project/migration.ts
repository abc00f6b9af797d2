import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connectAdmin, type SqlSession } from '../db/admin.js';
import { quoteIdent } from '../db/ident.js';
import { dropDatabaseAsAdmin } from '../db/provision.js';
import { buildUrl, parseUrl } from '../db/url.js';
import { ExitCode, UserError } from '../errors.js';
import { run } from '../io/exec.js';
import { addSecret, redact } from '../io/secrets.js';
import type { ProjectAnalysis } from './analysis.js';
import { pythonDir } from '../package-dir.js';
import type { ProjectContext } from './context.js';
import { projectPython } from './dependencies.js';
import type { EnvPyInputs } from './alembic-scaffold.js';
import type { PythonLogin } from './login-check.js';

/** What the migration driver reports. */
export interface MigrationResult {
  action: 'created' | 'stamped' | 'upgraded';
  tables: string[];
  heads: string[];
  current: string[];
  revisionFile?: string;
  /** Tables that were already in the database (stamped, data kept). */
  kept?: string[];
  /** The app's driver logging in with the URL as written, done by the driver's process when asked (ctx.loginCheck). */
  login?: PythonLogin;
}

/** Open a session as the app itself (its URL), for checks the app's role can answer. */
export async function connectApp(databaseUrl: string): Promise<SqlSession> {
  const p = parseUrl(databaseUrl);
  if (!p) throw new UserError('The app database URL is not a PostgreSQL URL.', { hint: 'Check the URL in the env file (e.g. DATABASE_URL=postgresql+psycopg://user:pw@host:5432/db), or run npx pg-setup to write it.', exitCode: ExitCode.usage });
  return connectAdmin({ host: p.host, port: p.port, user: p.user, password: p.password, database: p.database, tls: p.tls });
}

/** Tables in the app's schema and the revision(s) in alembic_version, if that table exists. */
export async function readDbState(sql: SqlSession): Promise<{ tables: string[]; versions: string[] | undefined }> {
  const rows = await sql.query(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const tables = rows.map((r) => String(r.t));
  if (!tables.includes('alembic_version')) return { tables, versions: undefined };
  const v = await sql.query('SELECT version_num AS v FROM alembic_version');
  return { tables: tables.filter((t) => t !== 'alembic_version'), versions: v.map((r) => String(r.v)) };
}

/** True when the database is at exactly the given heads. */
export function isAtHeads(versions: string[] | undefined, heads: string[]): boolean {
  return !!versions && heads.length > 0 && versions.length === heads.length && heads.every((h) => versions.includes(h));
}

/**
 * Autogenerate the first revision and upgrade (or only upgrade when revisions exist) in one
 * Python process. When the database already has tables but no alembic_version (create_all
 * ran), the revision is generated against an empty scratch database owned by the app role,
 * and the real database is stamped if its schema matches the models.
 */
export async function runMigration(ctx: ProjectContext, a: ProjectAnalysis, env: EnvPyInputs, progress: (m: string) => void): Promise<MigrationResult> {
  const app = await connectApp(ctx.databaseUrl);
  let state;
  try {
    state = await readDbState(app);
  } finally {
    await app.close();
  }
  const mode = a.alembic.heads.length > 0 ? 'upgrade' : 'initial';
  const childEnv: Record<string, string> = { [ctx.envKey]: ctx.databaseUrl };
  let scratch: { name: string; admin: SqlSession } | undefined;
  try {
    if (mode === 'initial' && state.tables.length > 0 && state.versions === undefined) {
      progress(`the database already has ${state.tables.length} tables (create_all?): autogenerating against an empty scratch database`);
      scratch = await createScratch(ctx);
      childEnv.PGSETUP_SCRATCH_URL = scratchUrl(ctx, scratch.name);
    }
    progress(mode === 'upgrade' ? 'alembic upgrade head' : 'alembic revision --autogenerate + upgrade head');
    return await runDriver(ctx, a, env, mode, childEnv);
  } finally {
    if (scratch) {
      await dropDatabaseAsAdmin(scratch.admin, scratch.name, ctx.appRole, { force: false, ifExists: true }).catch(() => undefined);
      await scratch.admin.close();
    }
  }
}

async function createScratch(ctx: ProjectContext): Promise<{ name: string; admin: SqlSession }> {
  const admin = await ctx.admin();
  const name = `pgsetup_scratch_${randomBytes(4).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(ctx.appRole)}`);
  } catch (e) {
    await admin.close();
    throw new UserError(`Could not create a scratch database for the initial migration: ${(e as Error).message}`, {
      hint: 'The admin connection needs CREATEDB; or drop the tables create_all made (data loss) and run again.',
      exitCode: ExitCode.project,
    });
  }
  return { name, admin };
}

function scratchUrl(ctx: ProjectContext, db: string): string {
  const p = parseUrl(ctx.databaseUrl)!;
  const url = buildUrl({ ...p, driver: ctx.driver, database: db });
  addSecret(url);
  return url;
}

async function runDriver(ctx: ProjectContext, a: ProjectAnalysis, env: EnvPyInputs, mode: string, childEnv: Record<string, string>): Promise<MigrationResult> {
  const py = projectPython(a);
  const input = JSON.stringify({
    mode,
    message: ctx.initialMessage ?? 'initial schema',
    settings: { module: env.url.module, name: env.url.name, expr: env.url.expr },
    base: env.base,
    models: env.models,
    sysPath: env.importRoot && env.importRoot !== '.' ? [env.importRoot] : [],
    login: ctx.loginCheck !== undefined,
  });
  const r = await run(py.cmd, [...py.args, join(pythonDir(), 'migrate.py')], {
    cwd: ctx.projectDir,
    // The URL the login check uses travels in the environment, as login_check.py takes it.
    env: ctx.loginCheck ? { ...childEnv, PGSETUP_LOGIN_URL: ctx.databaseUrl } : childEnv,
    input,
    reject: false,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let out: (MigrationResult & { error?: string; diffs?: string[]; detail?: string; present?: string[] }) | undefined;
  try {
    out = JSON.parse(last);
  } catch {
    out = undefined;
  }
  if (out?.error === 'schema-differs') {
    throw new UserError(
      `The database already has tables (${(out.present ?? []).join(', ')}) but they differ from the models, so pg-setup will not stamp it:\n  ${(out.diffs ?? []).join('\n  ')}`,
      {
        hint: 'Make the tables match the models (or drop them if their data is disposable), then run pg-setup again; nothing was written.',
        exitCode: ExitCode.project,
      },
    );
  }
  if (out?.error) throw new UserError(`Alembic could not run: ${out.detail ?? out.error}.`, { hint: 'Pass --models mod1,mod2 naming the modules that define your tables.', exitCode: ExitCode.project });
  if (r.exitCode !== 0 || !out) {
    const tail = redact(r.stderr.trim().split('\n').slice(-6).join('\n'));
    throw new UserError(`The Alembic run failed:\n${tail}`, {
      hint: `Fix the error above, then run pg-setup again (or run \`alembic upgrade head\` yourself in ${ctx.projectDir}).`,
      exitCode: ExitCode.project,
    });
  }
  return out;
}
