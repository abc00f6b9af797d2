import { join } from 'node:path';
import { usageError } from '../../errors.js';
import { writeFileAtomic } from '../../files/writer.js';
import type { Step } from '../../plan/step.js';
import { backupProjectFile, listUncommitted } from '../../project/project-files.js';
import { ProjectRun, type FileChange, computeChanges } from './project-run.js';

export function wiringStep(r: ProjectRun): Step {
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
      // Consent was given before the task list (--yes, or the wizard's yes to the diff: confirmProjectChanges).
      if (!r.ctx.yes) throw usageError(`pg-setup would change ${files.join(', ')} and needs confirmation.${dirtyNote}`, 'Pass --yes to apply the changes (see them with --dry-run).');
      for (const c of changes) if (c.before !== '') await backupProjectFile(r.ctx.projectDir, r.stamp, join(r.ctx.projectDir, c.file));
      for (const c of changes) await writeFileAtomic(join(r.ctx.projectDir, c.file), c.after, { mkdirs: true });
      r.changed();
      const extra = [dirty.length ? `uncommitted changes were in ${dirty.join(', ')}` : '', ...notes].filter(Boolean);
      return `changed ${files.join(', ')} (backups in .pg-setup/backups/${r.stamp})${extra.length ? `; ${extra.join('; ')}` : ''}`;
    },
  };
}
