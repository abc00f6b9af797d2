import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { ALL_CASES } from '../e2e/fault-cases.js';

test('every case id is unique and every non-pending case says what the user gets', () => {
  const ids = ALL_CASES.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const c of ALL_CASES) expect(c.exit === 'pending' ? c.pending : c.outcome, c.id).toBeTruthy();
});

// The results column is checked against a real run by test/helpers/robustness-reporter.ts,
// which fails any run of the whole e2e project whose results the document does not show.
test('docs/robustness.md has a row for every case of the table, and no other', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'robustness.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| ([A-Z]\d\d) \|/gm)].map((m) => m[1]);
  expect(rows).toEqual(ALL_CASES.map((c) => c.id));
});
