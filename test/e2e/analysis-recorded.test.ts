import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { analyzeProject } from '../../src/project/analysis.js';
import { FIXTURES } from '../helpers/python-project.js';

test('the recorded analyses used by the unit tests match what the analyzer prints today', async () => {
  for (const name of ['tutorial-blog', 'pkg-layout', 'shape-constant', 'shape-literal', 'shape-getenv', 'shape-dotenv', 'shape-sync-sql-app', 'shape-config-class', 'shape-indirect', 'shape-sqlmodel']) {
    const live = JSON.stringify(await analyzeProject(join(FIXTURES, name))).replaceAll(`${FIXTURES}/`, 'FIXTURES/');
    const recorded = JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, 'analysis', `${name}.json`), 'utf8')));
    expect(live).toBe(recorded);
  }
});
