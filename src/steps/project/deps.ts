import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import { run } from '../../io/exec.js';
import { writeFileAtomic } from '../../files/writer.js';
import type { Step } from '../../plan/step.js';
import { addProjectDependencies, appendRequirements, planDependencies } from '../../project/dependencies.js';
import type { ProjectRun } from './project-run.js';

export function dependencyStep(r: ProjectRun): Step {
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
        await writeFileAtomic(path, next, { mkdirs: true });
      } else if (p.requirementLines.length) {
        await writeFileAtomic(join(r.ctx.projectDir, 'requirements.txt'), await appendRequirements(r.ctx.projectDir, p.requirementLines), { mkdirs: true });
      }
      await r.dependenciesChanged();
      return p.missing.length ? `added ${p.missing.join(', ')}` : `installed ${p.notInstalled.join(', ')}`;
    },
  };
}
