import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { ALL_CASES } from '../e2e/fault-cases.js';
import { renderReport, resultsFromReport, resultsFromVitest } from '../helpers/robustness-report.js';

const DOC = join(ROOT, 'docs', 'robustness.md');
const RESULTS = join(ROOT, 'coverage', 'robustness-results.json');

test('every case id is unique and every non-pending case says what the user gets', () => {
  const ids = ALL_CASES.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const c of ALL_CASES) expect(c.exit === 'pending' ? c.pending : c.outcome, c.id).toBeTruthy();
});

// `npm run report` sets PGSETUP_WRITE_REPORT after running the e2e suite with the JSON reporter.
test('docs/robustness.md matches the case table (npm run report regenerates it)', () => {
  if (process.env.PGSETUP_WRITE_REPORT && existsSync(RESULTS)) {
    writeFileSync(DOC, renderReport(ALL_CASES, resultsFromVitest(JSON.parse(readFileSync(RESULTS, 'utf8')))));
  }
  const doc = readFileSync(DOC, 'utf8');
  expect(doc).toBe(renderReport(ALL_CASES, resultsFromReport(doc)));
});
