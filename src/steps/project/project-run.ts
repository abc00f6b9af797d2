import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import { isSyncApp, type EnvPyInputs } from '../../project/alembic-scaffold.js';
import { analyzeProject, findGaps, forgetAnalyses, readAlembicSetup, readManager, type ProjectAnalysis } from '../../project/analysis.js';
import type { ProjectContext } from '../../project/context.js';
import { runnerPrefix } from '../../project/dependencies.js';
import type { MigrationResult } from '../../project/migration.js';
import { makeStamp } from '../../project/project-files.js';
import { applyEdits } from '../../project/text-edits.js';
import { renderUnifiedDiff } from '../../project/unified-diff.js';
import { planWiring, type WiringPlan } from '../../project/wiring.js';

/** One file the wiring step would change: its new text and a unified diff. */
export interface FileChange {
  file: string;
  before: string;
  after: string;
  diff: string;
  reasons: string[];
}

/** State shared by the steps of one run. */
export class ProjectRun {
  readonly stamp: string;
  private current: ProjectAnalysis | undefined;
  /** The analysis before any change: it still knows the SQLite URL the wiring removes. */
  first: ProjectAnalysis | undefined;
  migration: MigrationResult | undefined;

  constructor(readonly ctx: ProjectContext) {
    this.stamp = ctx.backupStamp ?? makeStamp();
  }

  async analysis(): Promise<ProjectAnalysis> {
    if (!this.current) {
      this.current = await analyzeProject(this.ctx.projectDir, this.ctx);
      this.first ??= this.current;
    }
    return this.current;
  }

  /** Read the project again before the next decision. */
  invalidate(): void {
    if (this.current) this.last = this.current;
    this.current = undefined;
  }

  /** A step wrote to the project: nothing read before (in this run or another) describes it now. */
  changed(): void {
    this.invalidate();
    forgetAnalyses();
  }

  /**
   * The scaffold wrote Alembic's files only. In a folder the analyzer never reads as app code
   * (python/pgsetup/source.py skips alembic/, migrations/ and hidden folders) they change the
   * `alembic` part of the analysis alone, which is read again without parsing the app.
   */
  async alembicChanged(dir: string): Promise<void> {
    const a = this.current;
    if (!a || !dir.split('/').some((d) => d === 'alembic' || d === 'migrations' || d.startsWith('.'))) return this.changed();
    forgetAnalyses();
    this.current = { ...a, alembic: await readAlembicSetup(this.ctx.projectDir) };
  }

  /**
   * The dependency step changed only what the manager's part of the analysis reads
   * (pyproject.toml's dependencies, the lock, the venv, requirements.txt): that part is read
   * again, the app's code is not (at 500 models a full read is about a second), and the wiring
   * stays the one the preview showed. A project with a file the first interpreter could not
   * parse is read whole again: the venv's interpreter may be newer.
   */
  async dependenciesChanged(): Promise<void> {
    const a = this.current;
    if (!a || a.parseErrors.length > 0) return this.changed();
    forgetAnalyses();
    this.current = { ...a, manager: await readManager(this.ctx.projectDir) };
  }

  /** The latest analysis, even one a step has since made stale. */
  private last: ProjectAnalysis | undefined;

  async usesAlembic(): Promise<boolean> {
    if (this.ctx.migrations === 'none') return false;
    // Whether the project is a SQLAlchemy one (a declarative base or an engine) is the one
    // answer no step changes: the wiring edits the engine's arguments and the scaffold and
    // migration write under alembic/, which the analysis does not read as app code.
    const a = this.current ?? this.last ?? (await this.analysis());
    if (this.ctx.migrations === 'alembic' && !a.isSqlalchemy) {
      throw new UserError(`No SQLAlchemy project found in ${this.ctx.projectDir} (no declarative base, no create_engine).`, {
        hint: 'Pass --project-dir with the app folder, --base module:Base if the base is unusual, or --migrations none.',
        exitCode: ExitCode.project,
      });
    }
    return a.isSqlalchemy;
  }

  async wiring(): Promise<WiringPlan> {
    return planWiring(await this.analysis(), { envKey: this.ctx.envKey, envFile: this.ctx.envFileRel, removeCreateAll: await this.usesAlembic() });
  }

  async envInputs(): Promise<EnvPyInputs> {
    const a = await this.analysis();
    const gaps = findGaps(a);
    if (gaps.length) {
      throw new UserError(`Could not find ${gaps.map((g) => g.what).join('; ')}.`, {
        hint: `Pass ${gaps.map((g) => g.flag).join(' and ')}.`,
        exitCode: ExitCode.project,
      });
    }
    return {
      url: (await this.wiring()).url,
      base: a.base!,
      models: a.models.modules,
      sync: isSyncApp(a),
      sqlmodel: a.base!.kind === 'sqlmodel',
      importRoot: a.importRoot ?? '.',
      runner: runnerPrefix(a),
    };
  }
}

export async function computeChanges(r: ProjectRun): Promise<{ changes: FileChange[]; notes: string[] }> {
  if (!(await r.analysis()).isSqlalchemy) return { changes: [], notes: [] };
  const plan = await r.wiring();
  const changes: FileChange[] = [];
  for (const [file, edits] of Object.entries(plan.edits)) {
    // A file the plan creates (the new settings module) starts empty.
    const path = join(r.ctx.projectDir, file);
    const before = existsSync(path) ? await readFile(path, 'utf8') : '';
    const after = applyEdits(before, edits);
    if (after !== before) changes.push({ file, before, after, diff: renderUnifiedDiff(file, before, after), reasons: edits.map((e) => e.reason) });
  }
  return { changes, notes: plan.notes };
}
