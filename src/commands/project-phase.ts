import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { ExitCode, UserError, usageError } from '../errors.js';
import { which } from '../io/exec.js';
import type { Output } from '../io/output.js';
import type { Options } from '../options/types.js';
import type { Step } from '../plan/step.js';
import type { SqlSession } from '../db/admin.js';
import type { ProjectContext } from '../project/context.js';
import { askConfirm } from '../options/prompts.js';
import { isSyncApp } from '../project/alembic-scaffold.js';
import type { ManagerKind } from '../project/analysis.js';
import { startCommand } from '../project/dependencies.js';
import { analyzeOnce, looksLikePythonProject, projectEnvKey } from '../project/discover.js';
import { previewProjectChanges, projectSteps } from '../steps/project/index.js';

/** What the pre-flight decided about the Python project, before anything changed. */
export interface ProjectPlan {
  enabled: boolean;
  /** The user agreed to the code changes (or passed --yes). */
  approved: boolean;
  /** The code changes, shown as diffs by confirmProjectChanges (empty: nothing to change). */
  changes: { file: string; diff: string }[];
  /** SQLite database files the code names that exist, with their row counts. */
  sqliteFiles: { path: string; rows: number | null }[];
  /** SQLite-only workarounds to check by hand, `file:line: why`, for the summary. */
  review: string[];
  /** The app's own start command (`uv run uvicorn app.main:app`), for "Next steps". */
  startCommand?: string | undefined;
  /** The project's dependency manager: how its Python is started once the driver is in. */
  manager?: ManagerKind | undefined;
}

const DISABLED: ProjectPlan = { enabled: false, approved: false, changes: [], sqliteFiles: [], review: [] };

/**
 * Before any change: read the project, adopt the env key its settings already read, compute
 * the code changes, and require --yes for them when nobody can be asked, so a run that would
 * stop for want of consent stops before touching anything. The wizard asks later
 * (confirmProjectChanges), once every choice is made.
 */
export async function prepareProject(opts: Options, out: Output): Promise<ProjectPlan> {
  if (!looksLikePythonProject(opts.projectDir)) {
    if (opts.migrations === 'alembic') {
      throw new UserError(`No Python project found in ${opts.projectDir}.`, { hint: 'Pass --project-dir with the app folder, or --migrations none.', exitCode: ExitCode.project });
    }
    return DISABLED;
  }
  const analysis = await analyzeOnce(opts.projectDir, opts);
  if (!analysis.isSqlalchemy) {
    if (opts.migrations === 'alembic') {
      throw new UserError(`No SQLAlchemy code found in ${opts.projectDir}.`, { hint: 'Pass --base module:Base and --models, or --migrations none.', exitCode: ExitCode.project });
    }
    return DISABLED;
  }
  requireManagerTool(analysis.manager.kind, analysis.manager.evidence);
  const target = analysis.settingsTarget;
  if (opts.settings && target && target.kind !== 'settings' && target.kind !== 'url-constant') {
    throw usageError(`--settings ${opts.settings} does not name a settings object: found ${target.text}.`, 'Pass --settings module:obj naming the settings instance (settings = Settings()) or module:get_settings() for a factory.');
  }
  if (opts.driver === 'asyncpg' && isSyncApp(analysis)) {
    // Never convert an app from sync to async: its create_engine needs a sync driver.
    throw usageError(`The app uses a sync engine (create_engine in ${analysis.engines[0]!.file}), which asyncpg cannot serve.`, 'Pass --driver psycopg (psycopg 3 serves sync and async engines).');
  }
  const start = startCommand(analysis);
  // The env key was settled from this same analysis before the env file was read (settleProjectEnvKey).
  const appKey = projectEnvKey(analysis);
  if (appKey && appKey === opts.envKey && appKey !== 'DATABASE_URL' && !opts.envKeyGiven) {
    out.info(analysis.settings?.urlField ? `The settings field ${analysis.settings.urlField.name} reads ${appKey}; pg-setup writes that key.` : `The app reads ${appKey} from the environment; pg-setup writes that key.`);
  }
  const seen = new Set<string>();
  const sqliteFiles = analysis.sqlite
    .filter((s) => s.path && existsSync(s.path) && !seen.has(s.path) && seen.add(s.path))
    .map((s) => ({ path: s.path as string, rows: s.rows ?? null }));
  // Flagged, never edited: only the author knows what the value meant.
  const review = (analysis.sqliteQuirks ?? []).map((q) => `${q.file}:${q.line}: ${q.text}: ${q.message}`);
  for (const line of review) out.warn(`Check ${line}.`);
  const found = { sqliteFiles, review, startCommand: start, manager: analysis.manager.kind };
  if (opts.dryRun) return { enabled: true, approved: false, changes: [], ...found };
  const { changes } = await previewProjectChanges(projectContext(opts, '', async () => Promise.reject(new Error('no admin in preview')), false));
  if (changes.length === 0) return { enabled: true, approved: true, changes: [], ...found };
  if (!opts.yes && !opts.interactive) {
    const files = changes.map((c) => c.file).join(', ');
    throw usageError(`pg-setup would change ${files} to read the URL from the settings and drop create_all, and needs your consent.`, 'Pass --yes to apply the changes (see them first with --dry-run), or --migrations none to leave the code alone.');
  }
  return { enabled: true, approved: opts.yes, changes: changes.map((c) => ({ file: c.file, diff: c.diff })), ...found };
}

/**
 * The code diff and its question, the last one before the task list: every choice that shapes
 * the run is made by then. With --yes the diff is printed and applied (consent given up front).
 */
export async function confirmProjectChanges(plan: ProjectPlan, opts: Options, out: Output): Promise<ProjectPlan> {
  if (!plan.enabled || plan.changes.length === 0 || opts.dryRun) return plan;
  const files = plan.changes.map((c) => c.file).join(', ');
  if (plan.approved) {
    // The log still shows exactly what changes.
    out.info(`Changing ${files} (--yes; backups go to .pg-setup/backups/):`);
    for (const c of plan.changes) out.info(c.diff);
    return plan;
  }
  out.info('');
  for (const c of plan.changes) out.info(c.diff);
  if (await askConfirm(`Apply these changes to ${files}? (backups go to .pg-setup/backups/)`, true)) return { ...plan, approved: true };
  out.warn('Code left as it was, so the app still uses SQLite and no migration is made. Run pg-setup again to apply the changes.');
  return DISABLED;
}

/** The project's own package manager must be here before anything changes (uv add, poetry add). */
function requireManagerTool(kind: string, evidence: string): void {
  const tool = kind === 'uv' ? 'uv' : kind === 'poetry' ? 'poetry' : undefined;
  if (!tool || which(tool)) return;
  const install = tool === 'uv' ? 'pip install uv  (or see https://docs.astral.sh/uv/)' : 'pipx install poetry';
  throw new UserError(`This is a ${tool} project (${evidence}), but ${tool} is not on PATH, so pg-setup cannot add the driver and Alembic. Nothing was changed.`, {
    hint: `Install ${tool}: ${install}; then run pg-setup again.`,
    exitCode: ExitCode.project,
  });
}

/** The project steps for the main task list, once the URL is known. */
/** `loginCheck`: end with the app's driver logging in from Python (project/login-check.ts). */
export async function projectPhaseSteps(plan: ProjectPlan, opts: Options, url: string, admin: () => Promise<SqlSession>, loginCheck = false): Promise<Step[]> {
  if (!plan.enabled) return [];
  const ctx = projectContext(opts, url, admin, plan.approved);
  return projectSteps(loginCheck ? { ...ctx, loginCheck: { role: opts.dbUser, manager: plan.manager ?? 'unknown' } } : ctx);
}

function projectContext(opts: Options, url: string, admin: () => Promise<SqlSession>, approved: boolean): ProjectContext {
  return {
    projectDir: opts.projectDir,
    envKey: opts.envKey,
    envFileRel: relative(opts.projectDir, opts.envFile).split(sep).join('/'),
    databaseUrl: url,
    driver: opts.driver,
    yes: approved || opts.yes,
    dryRun: opts.dryRun,
    migrations: opts.migrations,
    sqlite: opts.sqlite,
    sqliteImportIntoNonempty: opts.sqliteImportIntoNonempty,
    admin,
    appRole: opts.dbUser,
    settings: opts.settings,
    urlField: opts.urlField,
    base: opts.base,
    models: opts.models,
  };
}
