import type { Step } from '../../plan/step.js';
import type { ProjectContext } from '../../project/context.js';
import { pythonLoginStep } from '../../project/login-check.js';
import { analyzeStep } from './analyze.js';
import { dependencyStep } from './deps.js';
import { migrationStep } from './migrate.js';
import { computeChanges, ProjectRun, type FileChange } from './project-run.js';
import { scaffoldStep } from './scaffold.js';
import { importStep, sqliteStep } from './sqlite.js';
import { verifyStep } from './verify.js';
import { wiringStep } from './wire.js';


/** The code changes the wiring step would make, with diffs: for showing before the task list. */
export async function previewProjectChanges(ctx: ProjectContext): Promise<{ changes: FileChange[]; notes: string[] }> {
  return computeChanges(new ProjectRun(ctx));
}

/**
 * The Python-project half of a setup, in order: analyze, add dependencies, wire settings/
 * engine/lifespan, scaffold Alembic, initial migration + upgrade, verify, SQLite file.
 * The env file with `ctx.envKey` must exist before these run.
 */
export function projectSteps(ctx: ProjectContext): Step[] {
  const r = new ProjectRun(ctx);
  // --sqlite delete imports first: the file is only moved after its rows are in PostgreSQL, verified.
  const importing = ctx.sqlite === 'import' || ctx.sqlite === 'delete' ? [importStep(r)] : [];
  // Last: the app's own driver logs in with the URL as written (the migration's process did, when it ran).
  const login = ctx.loginCheck ? [pythonLoginStep(ctx.projectDir, ctx.loginCheck.manager, ctx.loginCheck.role, ctx.driver, ctx.databaseUrl, () => r.migration?.login)] : [];
  const steps = [analyzeStep(r), dependencyStep(r), wiringStep(r), scaffoldStep(r), migrationStep(r), verifyStep(r), ...importing, sqliteStep(r), ...login];
  // A dry run reports what it would do; only the analysis (read-only) really runs.
  return ctx.dryRun ? steps.map((s, i) => (i === 0 ? s : { ...s, run: async () => `would ${s.describe().join('; ')}` })) : steps;
}
