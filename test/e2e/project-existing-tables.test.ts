import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { projectSteps } from '../../src/steps/project/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyFixture, createAppDb, makeContext, runSteps, sql, writeEnv } from '../helpers/python-project.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

/** Create the app's tables the old way (create_all), as a previous run of the app did. */
async function createAllInto(dir: string, url: string): Promise<void> {
  const script = [
    'import os',
    'from sqlalchemy import create_engine',
    'import models',
    'from database import Base',
    'Base.metadata.create_all(create_engine(os.environ["PG_URL"]))',
  ].join('\n');
  await run('uv', ['run', '--with', 'psycopg[binary]', 'python', '-c', script], { cwd: dir, env: { PG_URL: url, UV_PYTHON_DOWNLOADS: 'never' } });
}

test('a database that already has the tables from create_all gets a real initial migration, is stamped, and keeps its data', async () => {
  const dir = copyFixture('tutorial-blog');
  const url = await createAppDb(cluster, 'blog_user', 'blog');
  await createAllInto(dir, url);
  await sql(cluster, 'blog', `INSERT INTO users (username, email) VALUES ('grace', 'grace@example.com')`);
  writeEnv(dir, 'DATABASE_URL', url);

  const outcomes = await runSteps(projectSteps(makeContext(cluster, dir, url, 'blog_user')));
  const migration = outcomes.find((o) => o.title.startsWith('Create the initial migration'))!;
  expect(migration.detail).toMatch(/stamped the existing tables/);

  const versions = readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'));
  expect(versions).toHaveLength(1);
  const revision = readFileSync(join(dir, 'alembic', 'versions', versions[0]!), 'utf8');
  for (const t of ['users', 'posts', 'password_reset_tokens']) expect(revision).toContain(`op.create_table('${t}'`);

  const current = await run('uv', ['run', 'alembic', 'current'], { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  expect(current.stdout).toMatch(/\(head\)/);
  expect(await sql(cluster, 'blog', 'SELECT username FROM users')).toEqual([{ username: 'grace' }]);
  // The scratch database is gone.
  expect(await sql(cluster, 'postgres', `SELECT datname FROM pg_database WHERE datname LIKE 'pgsetup_scratch%'`)).toEqual([]);
});

test('tables that differ from the models are reported and nothing is written', async () => {
  const dir = copyFixture('tutorial-blog');
  const url = await createAppDb(cluster, 'drift_user', 'drift');
  await createAllInto(dir, url);
  await sql(cluster, 'drift', 'ALTER TABLE posts DROP COLUMN content');
  writeEnv(dir, 'DATABASE_URL', url);

  await expect(runSteps(projectSteps(makeContext(cluster, dir, url, 'drift_user')))).rejects.toThrow(/differ from the models[\s\S]*add_column posts\.content/);
  expect(readdirSync(join(dir, 'alembic', 'versions'))).toEqual([]);
  expect(await sql(cluster, 'drift', `SELECT to_regclass('alembic_version') AS v`)).toEqual([{ v: null }]);
});
