/**
 * Checks docs/robustness.md against the results of the run that just ended: when every case of
 * the table (test/e2e/fault-cases.ts) ran, the document must equal the one rendered from those
 * results, else the run fails. PGSETUP_WRITE_REPORT=1 (npm run report) rewrites it instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { ALL_CASES } from '../e2e/fault-cases.js';
import { renderReport, type CaseResult } from './robustness-report.js';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'robustness.md');

export default class RobustnessReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const results = new Map<string, CaseResult>();
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const id = /^([A-Z]\d\d) /.exec(t.name)?.[1];
        if (!id) continue;
        const s = t.result().state;
        const r: CaseResult = s === 'passed' ? 'passed' : s === 'failed' ? 'failed' : 'skipped';
        if (results.get(id) !== 'failed') results.set(id, r);
      }
    }
    // Only a run of the whole e2e project says something about every case.
    if (!ALL_CASES.every((c) => c.exit === 'pending' || results.has(c.id))) return;
    const want = renderReport(ALL_CASES, results);
    if (process.env.PGSETUP_WRITE_REPORT) {
      writeFileSync(DOC, want);
      process.stdout.write('\nrobustness report: docs/robustness.md written from this run\n');
      return;
    }
    if (readFileSync(DOC, 'utf8') !== want) {
      // What the document should say, for a look (or a copy) without running the suite again.
      mkdirSync(join(DOC, '..', '..', 'coverage'), { recursive: true });
      writeFileSync(join(DOC, '..', '..', 'coverage', 'robustness.expected.md'), want);
      process.stdout.write('\nrobustness report: docs/robustness.md does not match this run\'s results (coverage/robustness.expected.md has what it should say); run `npm run report` and commit it\n');
      process.exitCode = 1;
    }
  }
}
