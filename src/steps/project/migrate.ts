import { relative } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import type { Step } from '../../plan/step.js';
import { alembicDir, findEnvGaps } from '../../project/alembic-scaffold.js';
import { connectApp, isAtHeads, readDbState, runMigration } from '../../project/migration.js';
import type { ProjectRun } from './project-run.js';

export function migrationStep(r: ProjectRun): Step {
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
