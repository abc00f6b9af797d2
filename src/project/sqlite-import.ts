import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { quoteIdent } from '../db/ident.js';
import { parseUrl } from '../db/url.js';
import { ExitCode, UserError, usageError } from '../errors.js';
import { run } from '../io/exec.js';
import { redact } from '../io/secrets.js';
import { pythonDir } from '../package-dir.js';
import type { Step } from '../plan/step.js';
import { readCreated, updateCreated } from '../state/created.js';
import type { ProjectAnalysis } from './analysis.js';
import { projectPython } from './dependencies.js';
import { connectApp } from './migration.js';

/** What `.pg-setup/state.json` remembers of a finished import, per target database. */
export interface ImportRecord {
  /** The SQLite file, relative to the project. */
  file: string;
  size: number;
  mtimeMs: number;
  importedAt: string;
  rows: Record<string, number>;
}

export interface ImportedTable {
  table: string;
  sqliteRows: number;
  /** Rows the copy added (when appending, the rows already there are not counted). */
  pgRows: number;
  /** Rows the table had before (appending with --sqlite-import-into-nonempty). */
  before: number;
  hashMatch: boolean;
  seconds: number;
}

export interface ImportResult {
  tables: ImportedTable[];
  /**
   * Nothing copied: every target table already held exactly this file's rows (same count, same
   * content hash), the import of a run killed between PostgreSQL's commit and its record.
   */
  alreadyImported?: boolean;
  notes: string[];
  imported: number;
  /** Foreign keys deferred inside the transaction because of a cycle across tables. */
  deferred: string[];
  /** Foreign keys dropped and re-created inside the transaction (checked once, after the copy). */
  foreignKeysChecked?: number;
  /** timestamptz columns filled: SQLite's naive datetimes were taken as UTC there. */
  timestamptzColumns?: string[];
}

/** What the import needs to know; the command and the setup step both build one. */
export interface ImportInputs {
  projectDir: string;
  /** The app's URL (a secret: passed to Python only through the environment). */
  databaseUrl: string;
  sqliteFile: string;
  intoNonempty: boolean;
  /** Tables the models map (Alembic's at head); undefined = every table on both sides. */
  modelTables: string[] | undefined;
  /** Rows in the SQLite file, when the analysis counted them (a file the code names). */
  sqliteRows?: number | null;
  analysis: () => Promise<ProjectAnalysis>;
}

/** The key an import is recorded under: the database the URL names. */
export function importKey(databaseUrl: string): string {
  const p = parseUrl(databaseUrl);
  return p ? `${p.host}:${p.port}/${p.database}` : 'unknown';
}

/** The SQLite file to import: --from, else the one the code named, else the only *.db / *.sqlite(3) in the project. */
export function findSqliteFile(projectDir: string, from: string | undefined, fromCode: string[]): string | undefined {
  if (from) {
    const p = resolve(projectDir, from);
    if (!existsSync(p)) throw usageError(`The SQLite file ${from} does not exist.`, 'Pass --from with the path of the SQLite database file.');
    return p;
  }
  const named = fromCode.filter((p) => existsSync(p));
  if (named.length > 1) throw usageError(`The code names several SQLite files (${named.map((p) => relative(projectDir, p)).join(', ')}).`, 'Pass --from FILE to say which one to import.');
  if (named[0]) return named[0];
  const found = readdirSync(projectDir).filter((f) => /\.(db|sqlite3?)$/i.test(f) && statSync(join(projectDir, f)).isFile());
  if (found.length > 1) throw usageError(`The project has several SQLite-looking files (${found.join(', ')}).`, 'Pass --from FILE to say which one to import.');
  return found[0] ? join(projectDir, found[0]) : undefined;
}

/**
 * Already imported? The record in state.json and the target's row counts decide: recorded and
 * the tables still hold at least the imported rows -> done. Recorded but the tables are empty
 * again (the database was recreated) -> import again. Returns the message, or undefined.
 * Without a record, the import itself recognises rows it committed before a crash (same count
 * and content hash in every table) and only records them.
 */
export async function checkImported(inputs: ImportInputs): Promise<string | undefined> {
  const state = (await readCreated(inputs.projectDir)) as { sqliteImports?: Record<string, ImportRecord> };
  const rec = state.sqliteImports?.[importKey(inputs.databaseUrl)];
  const rel = relative(inputs.projectDir, inputs.sqliteFile);
  if (!rec || rec.file !== rel) return undefined;
  const tables = Object.keys(rec.rows);
  const total = Object.values(rec.rows).reduce((a, b) => a + b, 0);
  const done = `already imported ${total} rows from ${rel} on ${rec.importedAt.slice(0, 10)} (.pg-setup/state.json); nothing imported`;
  if (total === 0) return done;
  const app = await connectApp(inputs.databaseUrl);
  try {
    const present = new Set((await app.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema()`)).map((r) => String(r.t)));
    const known = tables.filter((t) => present.has(t));
    if (known.length === 0) return undefined;
    const rows = await app.query(known.map((t) => `SELECT '${t.replace(/'/g, "''")}' AS t, count(*)::bigint AS n FROM ${quoteIdent(t)}`).join(' UNION ALL '));
    const now = Object.fromEntries(rows.map((r) => [String(r.t), Number(r.n)]));
    if (known.every((t) => now[t] === 0)) return undefined;
    return done;
  } finally {
    await app.close();
  }
}

/** Progress of one table, as the Python side reports it. */
export interface ImportProgress {
  table: string;
  done: number;
  total: number;
}

/** Run python/import_sqlite.py with the project's interpreter: one transaction, verified before commit. */
export async function runSqliteImport(inputs: ImportInputs, onProgress: (p: ImportProgress) => void, onPlan?: (tables: { table: string; rows: number }[]) => void): Promise<ImportResult> {
  const py = projectPython(await inputs.analysis());
  const input = JSON.stringify({ sqlite: inputs.sqliteFile, intoNonempty: inputs.intoNonempty, tables: inputs.modelTables ?? null });
  let last: Record<string, unknown> | undefined;
  const r = await run(py.cmd, [...py.args, join(pythonDir(), 'import_sqlite.py')], {
    cwd: inputs.projectDir,
    env: { PGSETUP_IMPORT_URL: inputs.databaseUrl },
    input,
    reject: false,
    onStdoutLine: (line) => {
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (ev.event === 'progress') onProgress(ev as unknown as ImportProgress);
      else if (ev.event === 'plan') onPlan?.(ev.tables as { table: string; rows: number }[]);
      else last = ev;
    },
  });
  const rel = relative(inputs.projectDir, inputs.sqliteFile);
  if (last?.event === 'error') throw importError(last, rel);
  if (r.exitCode !== 0 || last?.event !== 'done') {
    const tail = redact(r.stderr.trim().split('\n').slice(-6).join('\n'));
    throw new UserError(`The SQLite import failed; nothing was committed:\n${tail}`, {
      hint: `Fix the error above, then run \`pg-setup import-sqlite --from ${rel}\`.`,
      exitCode: ExitCode.project,
    });
  }
  return last as unknown as ImportResult;
}

function importError(ev: Record<string, unknown>, rel: string): UserError {
  const detail = String(ev.detail);
  if (ev.kind === 'nonempty') {
    return new UserError(`${detail}, so the rows of ${rel} were not imported (nothing was written).`, {
      hint: 'Pass --sqlite-import-into-nonempty to append to those tables, or empty them first.',
      exitCode: ExitCode.project,
    });
  }
  if (ev.kind === 'bad-value') {
    return new UserError(`A value in ${rel} cannot be converted: ${detail}. Nothing was committed.`, {
      hint: `Fix that row in ${rel} (or the model's column type), then run \`pg-setup import-sqlite --from ${rel}\`.`,
      exitCode: ExitCode.project,
    });
  }
  if (ev.kind === 'conflict') {
    return new UserError(`A row of ${rel} clashes with PostgreSQL's constraints: ${detail}. Nothing was committed.`, {
      hint: 'When appending (--sqlite-import-into-nonempty), the tables must not already hold rows with the same keys; empty them or import into a fresh database.',
      exitCode: ExitCode.project,
    });
  }
  return new UserError(`The SQLite import stopped: ${detail}. Nothing was committed.`, {
    hint: `Fix what it names, then run \`pg-setup import-sqlite --from ${rel}\`.`,
    exitCode: ExitCode.project,
  });
}

/** Remember the import, so a re-run does not import twice. */
export async function recordImport(inputs: ImportInputs, result: ImportResult): Promise<void> {
  const st = statSync(inputs.sqliteFile);
  const rec: ImportRecord = {
    file: relative(inputs.projectDir, inputs.sqliteFile),
    size: st.size,
    mtimeMs: Math.round(st.mtimeMs),
    importedAt: new Date().toISOString(),
    rows: Object.fromEntries(result.tables.map((t) => [t.table, t.sqliteRows])),
  };
  await updateCreated(inputs.projectDir, (s) => {
    const withImports = s as typeof s & { sqliteImports?: Record<string, ImportRecord> };
    (withImports.sqliteImports ??= {})[importKey(inputs.databaseUrl)] = rec;
  });
}

/** The verification, one line per table: rows on each side and the content check. */
export function describeVerification(result: ImportResult): string[] {
  return result.tables.map((t) => {
    const pg = t.before ? `${t.pgRows} rows added to ${t.before}` : `${t.pgRows} rows`;
    return `${t.table}: SQLite ${t.sqliteRows} rows, PostgreSQL ${pg}, ${t.hashMatch ? 'content hash matches' : 'content hash DIFFERS'}`;
  });
}

/** A progress line: a bar on a terminal, plain text off one. */
export function formatProgress(p: ImportProgress, tty: boolean): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (!tty) return `${p.table}: ${n(p.done)}/${n(p.total)} rows`;
  const width = 24;
  const filled = p.total ? Math.round((p.done / p.total) * width) : width;
  return `${p.table} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${n(p.done)}/${n(p.total)}`;
}

/**
 * The import as a step: after the migration is at head, before the SQLite file is kept or moved
 * (a failed import stops the run there, so the file is only moved after a verified import).
 */
export function sqliteImportStep(inputs: () => Promise<ImportInputs | undefined>, tty: boolean): Step {
  return {
    title: 'Import the SQLite rows into PostgreSQL',
    async check() {
      const i = await inputs();
      if (!i) return 'no SQLite database file';
      if (i.sqliteRows === 0) return `${relative(i.projectDir, i.sqliteFile)} has no rows: nothing to import`;
      return checkImported(i);
    },
    describe: () => [
      'copy every row of the SQLite file into the tables Alembic created, converted by each target column type, in one transaction (COPY FROM STDIN)',
      'refuse tables that already have rows (--sqlite-import-into-nonempty appends); verify row counts and a content hash per table; setval past the largest keys',
    ],
    async run(progress) {
      const i = (await inputs())!;
      const rel = relative(i.projectDir, i.sqliteFile);
      const t0 = performance.now();
      let lastStep = '';
      const result = await runSqliteImport(i, (p) => {
        // Off a terminal, a line per tenth of each table, not one per update.
        const step = `${p.table}:${p.total ? Math.floor((p.done / p.total) * 10) : 10}`;
        if (tty || step !== lastStep) progress(formatProgress(p, tty));
        lastStep = step;
      });
      await recordImport(i, result);
      if (result.alreadyImported) {
        const total = result.tables.reduce((a, t) => a + t.sqliteRows, 0);
        return `already imported ${total} rows from ${rel} (found in PostgreSQL, recorded now); nothing imported\n${describeVerification(result).map((l) => `  ${l}`).join('\n')}`;
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      const lines = [
        `imported ${result.imported} rows from ${rel} into ${result.tables.length} tables in ${secs} s (one transaction, verified)`,
        ...describeVerification(result).map((l) => `  ${l}`),
        ...result.notes.map((n) => `  note: ${n}`),
        ...(result.foreignKeysChecked ? [`  ${result.foreignKeysChecked} foreign keys dropped and re-created inside the transaction: each checked once, after the copy`] : []),
        ...(result.deferred.length ? [`  foreign keys deferred for a cycle: ${result.deferred.join(', ')}`] : []),
        ...(result.timestamptzColumns?.length ? [`  naive SQLite datetimes were taken as UTC in the timestamptz columns ${result.timestamptzColumns.join(', ')}`] : []),
      ];
      return lines.join('\n');
    },
  };
}

/** Build the inputs from a project analysis (the first one still knows the SQLite URL). */
export function importInputs(
  opts: { projectDir: string; databaseUrl: string; from?: string; intoNonempty: boolean; recorded?: string[] },
  first: ProjectAnalysis,
  analysis: () => Promise<ProjectAnalysis>,
): ImportInputs | undefined {
  // A re-run no longer sees the SQLite URL in the code; the file an earlier run kept is recorded.
  const fromCode = [...new Set([...first.sqlite.map((s) => s.path).filter((p): p is string => !!p), ...(opts.recorded ?? [])])];
  const file = findSqliteFile(opts.projectDir, opts.from, fromCode);
  if (!file) return undefined;
  const tables = first.models.classes.map((c) => c.table).filter((t): t is string => !!t && t !== '?');
  return {
    projectDir: opts.projectDir,
    databaseUrl: opts.databaseUrl,
    sqliteFile: file,
    intoNonempty: opts.intoNonempty,
    modelTables: tables.length ? tables : undefined,
    sqliteRows: first.sqlite.find((s) => s.path === file)?.rows,
    analysis,
  };
}
