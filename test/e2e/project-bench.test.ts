import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { analyzeProject } from '../../src/project/analysis.js';
import { projectSteps } from '../../src/project/steps.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyFixture, createAppDb, FIXTURES, makeContext, runSteps, writeEnv } from '../helpers/python-project.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

test('the recorded analyses used by the unit tests match what the analyzer prints today', async () => {
  for (const name of ['tutorial-blog', 'pkg-layout']) {
    const live = JSON.stringify(await analyzeProject(join(FIXTURES, name))).replaceAll(`${FIXTURES}/`, 'FIXTURES/');
    const recorded = JSON.stringify(JSON.parse(readFileSync(join(FIXTURES, 'analysis', `${name}.json`), 'utf8')));
    expect(live).toBe(recorded);
  }
});

/** Run the steps up to (not including) the migration, and return the remaining steps. */
async function prepare(tag: string) {
  const dir = copyFixture('tutorial-blog');
  const url = await createAppDb(cluster, `bench_${tag}`, `bench_${tag}`);
  writeEnv(dir, 'DATABASE_URL', url);
  const steps = projectSteps(makeContext(cluster, dir, url, `bench_${tag}`));
  await runSteps(steps.slice(0, 4));
  return { dir, migration: steps[4]! };
}

test('the Alembic phase takes at most 0.8x the time of typing revision --autogenerate + upgrade head', async () => {
  const ours = await prepare('ours');
  const typed = await prepare('typed');
  const uv = (args: string[]) => run('uv', args, { cwd: typed.dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  // Warm both (OS file cache, bytecode) the same way: import the app once.
  for (const d of [ours.dir, typed.dir]) await run(join(d, '.venv', 'bin', 'python'), ['-c', 'import alembic.command, models'], { cwd: d });

  let t = performance.now();
  await ours.migration.run(() => undefined);
  const oursMs = performance.now() - t;
  t = performance.now();
  await uv(['run', 'alembic', 'revision', '--autogenerate', '-m', 'initial schema']);
  await uv(['run', 'alembic', 'upgrade', 'head']);
  const typedMs = performance.now() - t;
  console.log(`Alembic phase: pg-setup ${oursMs.toFixed(0)} ms, typed commands ${typedMs.toFixed(0)} ms, ratio ${(oursMs / typedMs).toFixed(2)}`);
  expect(oursMs / typedMs).toBeLessThanOrEqual(0.8);
});
