import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError, usageError } from '../errors.js';
import { which } from '../io/exec.js';
import type { Output } from '../io/output.js';
import type { Options } from '../options/types.js';
import type { Step } from '../plan/step.js';
import type { AdminSql } from '../db/admin.js';
import type { ProjectContext } from '../project/context.js';

/** What the pre-flight decided about the Python project, before anything changed. */
export interface ProjectPlan {
  enabled: boolean;
  /** The user agreed to the code changes (or passed --yes). */
  approved: boolean;
}

const DISABLED: ProjectPlan = { enabled: false, approved: false };

/**
 * Before any change: read the project, adopt the env key its settings already read, show the
 * code changes and get them approved (wizard) or require --yes (non-interactive), so a run
 * that would stop for want of consent stops before touching anything.
 */
export async function prepareProject(opts: Options, out: Output): Promise<ProjectPlan> {
  if (!looksLikePythonProject(opts.projectDir)) {
    if (opts.migrations === 'alembic') {
      throw new UserError(`No Python project found in ${opts.projectDir}.`, { hint: 'Pass --project-dir with the app folder, or --migrations none.', exitCode: ExitCode.project });
    }
    return DISABLED;
  }
  const { analyzeProject } = await import('../project/analysis.js');
  const analysis = await analyzeProject(opts.projectDir, opts);
  if (!analysis.isSqlalchemy) {
    if (opts.migrations === 'alembic') {
      throw new UserError(`No SQLAlchemy code found in ${opts.projectDir}.`, { hint: 'Pass --base module:Base and --models, or --migrations none.', exitCode: ExitCode.project });
    }
    return DISABLED;
  }
  requireManagerTool(analysis.manager.kind, analysis.manager.evidence);
  const fieldKey = analysis.settings?.urlField?.envKey;
  if (fieldKey && fieldKey !== opts.envKey && !opts.envKeyGiven) {
    out.info(`The settings field ${analysis.settings?.urlField?.name} reads ${fieldKey}; pg-setup writes that key.`);
    opts.envKey = fieldKey;
  }
  if (opts.dryRun) return { enabled: true, approved: false };
  const { previewProjectChanges } = await import('../project/steps.js');
  const { changes } = await previewProjectChanges(projectContext(opts, '', async () => Promise.reject(new Error('no admin in preview')), false));
  if (changes.length === 0) return { enabled: true, approved: true };
  if (opts.yes) {
    // Consent was given up front; the log still shows exactly what changes.
    out.info(`Changing ${changes.map((c) => c.file).join(', ')} (--yes; backups go to .pg-setup/backups/):`);
    for (const c of changes) out.info(c.diff);
    return { enabled: true, approved: true };
  }
  const files = changes.map((c) => c.file).join(', ');
  if (!opts.interactive) {
    throw usageError(`pg-setup would change ${files} to read the URL from the settings and drop create_all, and needs your consent.`, 'Pass --yes to apply the changes (see them first with --dry-run), or --migrations none to leave the code alone.');
  }
  out.info('');
  for (const c of changes) out.info(c.diff);
  const { askConfirm } = await import('../options/prompts.js');
  if (await askConfirm(`Apply these changes to ${files}? (backups go to .pg-setup/backups/)`, true)) return { enabled: true, approved: true };
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
export async function projectPhaseSteps(plan: ProjectPlan, opts: Options, url: string, admin: () => Promise<AdminSql>): Promise<Step[]> {
  if (!plan.enabled) return [];
  const { projectSteps } = await import('../project/steps.js');
  return projectSteps(projectContext(opts, url, admin, plan.approved));
}

function projectContext(opts: Options, url: string, admin: () => Promise<AdminSql>, approved: boolean): ProjectContext {
  return {
    projectDir: opts.projectDir,
    envKey: opts.envKey,
    databaseUrl: url,
    driver: opts.driver,
    yes: approved || opts.yes,
    dryRun: opts.dryRun,
    interactive: false,
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

/** Any sign of Python: a manifest, or a .py file in the folder or one level down. */
export function looksLikePythonProject(dir: string): boolean {
  if (['pyproject.toml', 'requirements.txt', 'setup.py', 'Pipfile'].some((f) => existsSync(join(dir, f)))) return true;
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name.endsWith('.py'))) return true;
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .some((d) => {
      try {
        return readdirSync(join(dir, d.name)).some((f) => f.endsWith('.py'));
      } catch {
        return false;
      }
    });
}
