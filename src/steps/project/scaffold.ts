import { join } from 'node:path';
import { writeFileAtomic } from '../../files/writer.js';
import type { Step } from '../../plan/step.js';
import { alembicDir, ensureVersionsDir, findEnvGaps, listMissingScaffold, renderAlembicFiles } from '../../project/alembic-scaffold.js';
import type { ProjectRun } from './project-run.js';

export function scaffoldStep(r: ProjectRun): Step {
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
      for (const rel of f.missing) await writeFileAtomic(join(r.ctx.projectDir, rel), f.all[rel]!, { mkdirs: true });
      await ensureVersionsDir(r.ctx.projectDir, f.dir);
      await r.alembicChanged(f.dir);
      const kept = Object.keys(f.all).filter((k) => !f.missing.includes(k));
      return `wrote ${f.missing.join(', ')}${kept.length ? `; kept existing ${kept.join(', ')}` : ''}`;
    },
  };
}
