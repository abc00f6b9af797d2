/** Robustness cases that need the Python half: F05, F06 and Q02 of test/e2e/fault-cases.ts. */
import { readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyFixture, snapshot, sql, tempDir } from '../helpers/python-project.js';
import { byId, caseTitle } from './fault-cases.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

const args = (db: string) => ['--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--db-name', db];
const env = { UV_PYTHON_DOWNLOADS: 'never' };

/** A PATH with git and sh but neither uv nor (optionally) python3. */
function pathWithout(keepPython: boolean): string {
  const bin = tempDir('pgsetup-path-');
  for (const [name, target] of [['git', '/usr/bin/git'], ['sh', '/bin/sh']]) symlinkSync(target as string, join(bin, name as string));
  if (keepPython) symlinkSync(process.env.PGSETUP_TEST_PYTHON ?? findPython(), join(bin, 'python3'));
  return bin;
}

function findPython(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'python3');
    if (existsSync(p) && !dir.includes('shims')) return p;
  }
  return '/usr/bin/python3';
}

test(caseTitle(byId('F05')), async () => {
  for (const [keepPython, message] of [
    [true, /This is a uv project .* but uv is not on PATH.*Nothing was changed/s],
    [false, /No Python interpreter found/],
  ] as const) {
    const dir = copyFixture('tutorial-blog');
    const before = snapshot(dir);
    const db = keepPython ? 'f05_nouv' : 'f05_nopy';
    const r = await runCli(args(db), { cwd: dir, env: { ...env, PATH: pathWithout(keepPython) } });
    expect(r.code, r.all).toBe(5);
    expect(r.all).toMatch(message);
    expect(r.all).toMatch(/Install (uv|Python)/);
    expect(snapshot(dir)).toEqual(before);
    expect(await sql(cluster, 'postgres', `SELECT count(*)::int AS n FROM pg_roles WHERE rolname = '${db}_user'`)).toEqual([{ n: 0 }]);
  }
});

test(caseTitle(byId('F06')), async () => {
  const dir = copyFixture('tutorial-blog');
  const models = join(dir, 'models.py');
  const good = readFileSync(models, 'utf8');
  writeFileSync(models, `${good}\nimport module_that_does_not_exist  # noqa\n`);
  const r = await runCli(args('f06'), { cwd: dir, env });
  expect(r.code, r.all).toBe(5);
  expect(r.all).toContain("ModuleNotFoundError: No module named 'module_that_does_not_exist'");
  expect(r.all).toMatch(/Fix the error above, then run pg-setup again/);
  expect(readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'))).toEqual([]);
  writeFileSync(models, good);
  const again = await runCli(args('f06'), { cwd: dir, env });
  expect(again.code, again.all).toBe(0);
  expect(readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'))).toHaveLength(1);
});

test(caseTitle(byId('Q02')), async () => {
  const dir = copyFixture('tutorial-blog');
  const snaps = [];
  const versions = [];
  for (let i = 0; i < 3; i++) {
    const r = await runCli(args('q02'), { cwd: dir, env });
    expect(r.code, r.all).toBe(0);
    snaps.push(snapshot(dir));
    versions.push(await sql(cluster, 'q02', 'SELECT version_num FROM alembic_version'));
  }
  expect(readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'))).toHaveLength(1);
  expect(snaps[1]).toEqual(snaps[0]);
  expect(snaps[2]).toEqual(snaps[0]);
  expect(versions[2]).toEqual(versions[0]);
});
