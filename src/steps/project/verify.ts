import { ExitCode, UserError } from '../../errors.js';
import type { Step } from '../../plan/step.js';
import { connectApp, isAtHeads, readDbState } from '../../project/migration.js';
import type { ProjectRun } from './project-run.js';

export function verifyStep(r: ProjectRun): Step {
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
