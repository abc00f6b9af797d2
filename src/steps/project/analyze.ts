import type { Step } from '../../plan/step.js';
import { findGaps, type ProjectAnalysis } from '../../project/analysis.js';
import type { ProjectRun } from './project-run.js';

export function analyzeStep(r: ProjectRun): Step {
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
