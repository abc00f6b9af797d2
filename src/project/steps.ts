import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ExitCode, UserError, usageError } from '../errors.js';
import { run } from '../io/exec.js';
import type { Step } from '../plan/step.js';
import {
  alembicDir,
  ensureVersionsDir,
  findEnvGaps,
  isSyncApp,
  listMissingScaffold,
  renderAlembicFiles,
  type EnvPyInputs,
} from './alembic-scaffold.js';
import { analyzeProject, findGaps, forgetAnalyses, readAlembicSetup, type ProjectAnalysis } from './analysis.js';
import type { ProjectContext } from './context.js';
import { addProjectDependencies, appendRequirements, planDependencies, runnerPrefix } from './dependencies.js';
import { connectApp, isAtHeads, readDbState, runMigration, type MigrationResult } from './migration.js';
import { backupProjectFile, listUncommitted, makeStamp, moveToBackup, writeAtomic } from './project-files.js';
import { applyEdits } from './text-edits.js';
import { forgetSqliteFiles, readCreated, recordSqliteFiles } from '../state/created.js';
import { renderUnifiedDiff } from './unified-diff.js';
import { importInputs, sqliteImportStep } from './sqlite-import.js';
import { planWiring, type WiringPlan } from './wiring.js';

export type { ProjectContext } from './context.js';

/** One file the wiring step would change: its new text and a unified diff. */
export interface FileChange {
  file: string;
  before: string;
  after: string;
  diff: string;
  reasons: string[];
}

/** State shared by the steps of one run. */
class ProjectRun {
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

/** The code changes the wiring step would make, with diffs: for showing before the task list. */
export async function previewProjectChanges(ctx: ProjectContext): Promise<{ changes: FileChange[]; notes: string[] }> {
  return computeChanges(new ProjectRun(ctx));
}

async function computeChanges(r: ProjectRun): Promise<{ changes: FileChange[]; notes: string[] }> {
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

/**
 * The Python-project half of a setup, in order: analyze, add dependencies, wire settings/
 * engine/lifespan, scaffold Alembic, initial migration + upgrade, verify, SQLite file.
 * The env file with `ctx.envKey` must exist before these run.
 */
export function projectSteps(ctx: ProjectContext): Step[] {
  const r = new ProjectRun(ctx);
  const importing = ctx.sqlite === 'import' ? [importStep(r)] : [];
  const steps = [analyzeStep(r), dependencyStep(r), wiringStep(r), scaffoldStep(r), migrationStep(r), verifyStep(r), ...importing, sqliteStep(r)];
  // A dry run reports what it would do; only the analysis (read-only) really runs.
  return ctx.dryRun ? steps.map((s, i) => (i === 0 ? s : { ...s, run: async () => `would ${s.describe().join('; ')}` })) : steps;
}

function analyzeStep(r: ProjectRun): Step {
  return {
    title: 'Read the Python project',
    readOnly: true,
    check: async () => undefined,
    describe: () => [`read the *.py files of ${r.ctx.projectDir} with ast (python/analyze.py); nothing is imported`],
    async run() {
      r.invalidate();
      const a = await r.analysis();
      if (!a.isSqlalchemy) return `no SQLAlchemy code found (${a.manager.kind} project): no code changes, no migrations`;
      return summarizeAnalysis(a);
    },
  };
}

/** One line on what the analysis found, for the step summary. */
export function summarizeAnalysis(a: ProjectAnalysis): string {
  const s = a.settings;
  const parts = [`${a.manager.kind} project (${a.manager.evidence})`];
  if (s?.instance) parts.push(`settings ${s.instance.module}:${s.instance.name}${s.urlField ? `.${s.urlField.name} (${s.urlField.envKey})` : ''}`);
  for (const u of s ? [] : (a.urlSources ?? [])) parts.push(`URL from ${u.kind === 'environ' ? `the environment (${u.environ?.envKey})` : u.kind === 'constant' ? `the constant ${u.constant}` : 'a literal'} at ${u.file}:${u.engineLine}, no settings class`);
  if (a.base) parts.push(`base ${a.base.module}:${a.base.name}`);
  const tables = a.models.classes.map((c) => c.table).filter((t): t is string => !!t && t !== '?');
  parts.push(`models ${a.models.modules.join(', ') || 'none'}${tables.length ? ` (${tables.join(', ')})` : ''}`);
  const gaps = findGaps(a);
  if (gaps.length) parts.push(`not found: ${gaps.map((g) => `${g.what} (${g.flag})`).join('; ')}`);
  return parts.join('; ');
}

function dependencyStep(r: ProjectRun): Step {
  const plan = async () => planDependencies(await r.analysis(), r.ctx.driver, await r.usesAlembic(), (await r.wiring()).packages);
  return {
    title: 'Add the PostgreSQL driver and Alembic to the project',
    async check() {
      if (!(await r.analysis()).isSqlalchemy) return 'not a SQLAlchemy project';
      const p = await plan();
      return p.commands.length ? undefined : `${p.required.join(' and ')} already in the project`;
    },
    describe: () => [`${r.ctx.driver === 'asyncpg' ? 'asyncpg' : 'psycopg[binary]'}${r.ctx.migrations === 'none' ? '' : ' and alembic'} with the project's manager (uv add / poetry add / venv pip + requirements.txt)`],
    async run(progress) {
      const p = await plan();
      for (const c of p.commands) {
        progress(`${c.cmd === 'uv' || c.cmd === 'poetry' ? c.cmd : 'pip'} ${c.args.filter((x) => !x.startsWith('-')).join(' ')}`);
        const res = await run(c.cmd, c.args, { cwd: r.ctx.projectDir, reject: false });
        if (res.exitCode !== 0) {
          throw new UserError(`Adding ${p.missing.concat(p.notInstalled).join(', ')} failed (${res.command}):\n${res.stderr.split('\n').slice(-4).join('\n')}`, {
            hint: `Run \`${res.command}\` in ${r.ctx.projectDir} yourself, fix what it reports, then run pg-setup again.`,
            exitCode: ExitCode.project,
          });
        }
      }
      if (p.requirementLines.length && p.manifest === 'pyproject.toml') {
        const path = join(r.ctx.projectDir, 'pyproject.toml');
        const next = addProjectDependencies(await readFile(path, 'utf8'), p.requirementLines);
        if (next === undefined) throw new UserError(`Installed ${p.requirementLines.join(', ')}, but found no [project] dependencies array in pyproject.toml to list them in.`, { hint: `Add ${p.requirementLines.map((l) => `"${l}"`).join(', ')} to [project].dependencies by hand.`, exitCode: ExitCode.project });
        await writeAtomic(path, next);
      } else if (p.requirementLines.length) {
        await writeAtomic(join(r.ctx.projectDir, 'requirements.txt'), await appendRequirements(r.ctx.projectDir, p.requirementLines));
      }
      r.changed();
      return p.missing.length ? `added ${p.missing.join(', ')}` : `installed ${p.notInstalled.join(', ')}`;
    },
  };
}

function wiringStep(r: ProjectRun): Step {
  let preview: { changes: FileChange[]; notes: string[] } | undefined;
  return {
    title: 'Point the app at the PostgreSQL URL from its settings',
    async check() {
      preview = await computeChanges(r);
      if ((await r.analysis()).isSqlalchemy && preview.changes.length === 0) {
        const url = (await r.wiring()).url;
        return `already wired: engine uses ${url.expr} (env ${url.envKey})`;
      }
      return (await r.analysis()).isSqlalchemy ? undefined : 'not a SQLAlchemy project';
    },
    describe: () =>
      preview?.changes.length
        ? preview.changes.flatMap((c) => [...c.reasons, ...c.diff.trimEnd().split('\n')])
        : ['add database_url to the settings, engine from settings.database_url, drop check_same_thread, remove create_all from the lifespan'],
    async run() {
      const { changes, notes } = await computeChanges(r);
      if (changes.length === 0) return 'nothing to change';
      const files = changes.map((c) => c.file);
      const dirty = await listUncommitted(r.ctx.projectDir, files);
      const dirtyNote = dirty.length ? `\nUncommitted git changes in ${dirty.join(', ')} (backed up before editing).` : '';
      if (!r.ctx.yes) {
        if (!r.ctx.interactive || !r.ctx.confirm) {
          throw usageError(`pg-setup would change ${files.join(', ')} and needs confirmation.${dirtyNote}`, 'Pass --yes to apply the changes (see them with --dry-run).');
        }
        const question = `${changes.map((c) => c.diff).join('\n')}${dirtyNote}\nApply these changes to ${files.join(', ')}?`;
        if (!(await r.ctx.confirm(question))) {
          throw new UserError('The code changes were not applied.', { hint: 'Apply them by hand (pg-setup --dry-run shows the diff), or run again and accept.', exitCode: ExitCode.project });
        }
      }
      for (const c of changes) if (c.before !== '') await backupProjectFile(r.ctx.projectDir, r.stamp, join(r.ctx.projectDir, c.file));
      for (const c of changes) await writeAtomic(join(r.ctx.projectDir, c.file), c.after);
      r.changed();
      const extra = [dirty.length ? `uncommitted changes were in ${dirty.join(', ')}` : '', ...notes].filter(Boolean);
      return `changed ${files.join(', ')} (backups in .pg-setup/backups/${r.stamp})${extra.length ? `; ${extra.join('; ')}` : ''}`;
    },
  };
}

function scaffoldStep(r: ProjectRun): Step {
  const files = async () => {
    const a = await r.analysis();
    const inputs = await r.envInputs();
    const dir = alembicDir(a);
    const all = await renderAlembicFiles(inputs, dir);
    return { a, inputs, dir, all, missing: listMissingScaffold(r.ctx.projectDir, all) };
  };
  return {
    title: 'Set up Alembic for the app\'s SQLAlchemy engine',
    async check() {
      if (!(await r.usesAlembic())) return r.ctx.migrations === 'none' ? 'skipped (--migrations none)' : 'not a SQLAlchemy project';
      const f = await files();
      if (f.missing.length) return undefined;
      const gaps = findEnvGaps(f.a, f.inputs);
      return gaps.length ? `${f.dir}/ exists (not changed); not wired: ${gaps.join('; ')}` : `${f.dir}/ and alembic.ini present and wired`;
    },
    describe: () => ['write alembic.ini (no URL), alembic/env.py (URL from settings, models imported), alembic/script.py.mako, alembic/versions/; existing files are kept'],
    async run() {
      const f = await files();
      for (const rel of f.missing) await writeAtomic(join(r.ctx.projectDir, rel), f.all[rel]!);
      await ensureVersionsDir(r.ctx.projectDir, f.dir);
      await r.alembicChanged(f.dir);
      const kept = Object.keys(f.all).filter((k) => !f.missing.includes(k));
      return `wrote ${f.missing.join(', ')}${kept.length ? `; kept existing ${kept.join(', ')}` : ''}`;
    },
  };
}

function migrationStep(r: ProjectRun): Step {
  return {
    title: 'Create the initial migration and upgrade the database',
    async check() {
      if (!(await r.usesAlembic())) return r.ctx.migrations === 'none' ? 'skipped (--migrations none)' : 'not a SQLAlchemy project';
      const a = await r.analysis();
      if (a.alembic.heads.length === 0) return undefined;
      const app = await connectApp(r.ctx.databaseUrl);
      try {
        const state = await readDbState(app);
        return isAtHeads(state.versions, a.alembic.heads) ? `database at head (${a.alembic.heads.join(', ')})` : undefined;
      } finally {
        await app.close();
      }
    },
    describe: () => [
      'alembic revision --autogenerate -m "initial schema" (only when versions/ is empty) and alembic upgrade head, in one Python process',
      'if the database already has the tables (create_all) but no alembic_version: autogenerate against an empty scratch database, then stamp',
    ],
    async run(progress) {
      const a = await r.analysis();
      const inputs = await r.envInputs();
      const gaps = findEnvGaps(a, inputs);
      if (gaps.length) {
        throw new UserError(`${alembicDir(a)}/env.py is not ready for migrations: ${gaps.join('; ')}.`, {
          hint: `Edit ${alembicDir(a)}/env.py as listed (pg-setup never overwrites it), then run pg-setup again.`,
          exitCode: ExitCode.project,
        });
      }
      r.migration = await runMigration(r.ctx, a, inputs, progress);
      r.changed();
      const m = r.migration;
      const rev = m.revisionFile ? relative(r.ctx.projectDir, m.revisionFile) : undefined;
      if (m.action === 'stamped') return `wrote ${rev} from an empty scratch database; stamped the existing tables (${(m.kept ?? []).join(', ')}) at ${m.heads.join(', ')}, data kept`;
      if (m.action === 'created') return `wrote ${rev}; created ${m.tables.join(', ')}; at ${m.heads.join(', ')}`;
      return `upgraded to ${m.heads.join(', ')}`;
    },
  };
}

function verifyStep(r: ProjectRun): Step {
  return {
    title: 'Check the tables and alembic_version in PostgreSQL',
    readOnly: true,
    async check() {
      return (await r.usesAlembic()) ? undefined : 'nothing to verify';
    },
    describe: () => ['every table of the models exists, and alembic_version is at head'],
    async run() {
      // The migration's own report names the tables and heads; only without one is the project read again.
      const a = r.migration ? undefined : await r.analysis();
      const expected = r.migration?.tables ?? a!.models.classes.map((c) => c.table).filter((t): t is string => !!t && t !== '?');
      const heads = r.migration?.heads ?? a!.alembic.heads;
      const app = await connectApp(r.ctx.databaseUrl);
      let state;
      try {
        state = await readDbState(app);
      } finally {
        await app.close();
      }
      const missing = expected.filter((t) => !state.tables.includes(t.split('.').pop()!));
      if (missing.length || !isAtHeads(state.versions, heads)) {
        throw new UserError(
          `The database does not match the migrations: ${missing.length ? `missing tables ${missing.join(', ')}; ` : ''}alembic_version is ${state.versions?.join(', ') || 'absent'}, head is ${heads.join(', ') || 'none'}.`,
          { hint: `Run \`alembic upgrade head\` in ${r.ctx.projectDir} and read its output.`, exitCode: ExitCode.project },
        );
      }
      return `${expected.join(', ')} present; alembic_version at ${heads.join(', ')} (head)`;
    },
  };
}

/** --sqlite import: the rows move once the schema is at head (src/project/sqlite-import.ts). */
function importStep(r: ProjectRun): Step {
  return sqliteImportStep(async () => {
    if (!r.first) await r.analysis();
    const opts = { projectDir: r.ctx.projectDir, databaseUrl: r.ctx.databaseUrl, intoNonempty: r.ctx.sqliteImportIntoNonempty ?? false };
    return importInputs(opts, r.first!, () => r.analysis());
  }, Boolean(process.stdout.isTTY));
}

function sqliteStep(r: ProjectRun): Step {
  const files = async () => {
    // Only the first analysis is read here (it still knows the SQLite URL the wiring removed).
    if (!r.first) await r.analysis();
    const paths = (r.first?.sqlite ?? []).map((s) => s.path).filter((p): p is string => !!p);
    // A re-run no longer sees the SQLite URL in the code (the wiring removed it): the first run recorded the file.
    const recorded = ((await readCreated(r.ctx.projectDir)).sqliteFiles ?? []).map((f) => join(r.ctx.projectDir, f));
    return [...new Set([...paths, ...recorded])].filter((p) => existsSync(p));
  };
  return {
    title: r.ctx.sqlite === 'delete' ? 'Move the SQLite database into the backup folder' : 'Keep the SQLite database file',
    async check() {
      const found = await files();
      if (found.length === 0) return 'no SQLite database file';
      const rel = found.map((p) => relative(r.ctx.projectDir, p));
      if (r.ctx.sqlite !== 'delete') {
        if (!r.ctx.dryRun) await recordSqliteFiles(r.ctx.projectDir, rel);
        return `kept ${rel.join(', ')} (--sqlite delete moves it into .pg-setup/backups/)`;
      }
      return undefined;
    },
    describe: () => [r.ctx.sqlite === 'delete' ? 'move the SQLite file (e.g. blog.db) to .pg-setup/backups/<time>/' : 'leave the SQLite file where it is'],
    async run() {
      const moved = [];
      const found = await files();
      for (const p of found) moved.push(relative(r.ctx.projectDir, await moveToBackup(r.ctx.projectDir, r.stamp, p)));
      await forgetSqliteFiles(r.ctx.projectDir, found.map((p) => relative(r.ctx.projectDir, p)));
      return moved.length ? `moved to ${moved.join(', ')}` : 'no SQLite file';
    },
  };
}
