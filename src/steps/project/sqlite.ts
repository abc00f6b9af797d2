import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Step } from '../../plan/step.js';
import { moveToBackup } from '../../project/project-files.js';
import { importInputs, sqliteImportStep } from '../../project/sqlite-import.js';
import { forgetSqliteFiles, readCreated, recordSqliteFiles } from '../../state/created.js';
import type { ProjectRun } from './project-run.js';

/** --sqlite import and delete: the rows move once the schema is at head (src/project/sqlite-import.ts). */
export function importStep(r: ProjectRun): Step {
  return sqliteImportStep(async () => {
    if (!r.first) await r.analysis();
    const recorded = ((await readCreated(r.ctx.projectDir)).sqliteFiles ?? []).map((f) => join(r.ctx.projectDir, f));
    const opts = { projectDir: r.ctx.projectDir, databaseUrl: r.ctx.databaseUrl, intoNonempty: r.ctx.sqliteImportIntoNonempty ?? false, recorded };
    return importInputs(opts, r.first!, () => r.analysis());
  }, Boolean(process.stdout.isTTY));
}

export function sqliteStep(r: ProjectRun): Step {
  const files = async () => {
    // Only the first analysis is read here (it still knows the SQLite URL the wiring removed).
    if (!r.first) await r.analysis();
    const paths = (r.first?.sqlite ?? []).map((s) => s.path).filter((p): p is string => !!p);
    // A re-run no longer sees the SQLite URL in the code (the wiring removed it): the first run recorded the file.
    const recorded = ((await readCreated(r.ctx.projectDir)).sqliteFiles ?? []).map((f) => join(r.ctx.projectDir, f));
    return [...new Set([...paths, ...recorded])].filter((p) => existsSync(p));
  };
  return {
    // Runs after the import step: a failed or refused import stops the run before the file moves.
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
