import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { analyzeProject } from '../../src/project/analysis.js';
import { projectSteps } from '../../src/steps/project/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyFixture, createAppDb, makeContext, postJson, runSteps, snapshot, sql, withApp, writeEnv } from '../helpers/python-project.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

test('a package layout (app/core/config.py, app/db/base.py, app/models/*) is found and migrated end to end', async () => {
  const dir = copyFixture('pkg-layout');
  const a = await analyzeProject(dir);
  expect(a.settings?.instance).toEqual({ module: 'app.core.config', name: 'config', call: false });
  expect(a.settings?.urlField?.envKey).toBe('SQLALCHEMY_DATABASE_URI');
  expect(a.base).toMatchObject({ module: 'app.db.base', name: 'ModelBase' });
  expect(a.models.modules).toEqual(['app.models.item', 'app.models.warehouse']);

  const url = await createAppDb(cluster, 'inventory', 'inventory');
  // The core writes the key the settings field reads (the analysis tells it which).
  writeEnv(dir, 'SQLALCHEMY_DATABASE_URI', url);
  const ctx = makeContext(cluster, dir, url, 'inventory', { envKey: 'SQLALCHEMY_DATABASE_URI' });
  const outcomes = await runSteps(projectSteps(ctx));
  expect(outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'present']);

  const env = readFileSync(join(dir, 'alembic', 'env.py'), 'utf8');
  expect(env).toContain('from app.core.config import config as app_config');
  expect(env).toContain('from app.db.base import ModelBase');
  expect(env).toContain('import app.models.item  # noqa: F401');
  expect(env).toContain('app_config.sqlalchemy_database_uri.replace("%", "%%")');
  expect(readFileSync(join(dir, 'app', 'core', 'config.py'), 'utf8')).toMatch(/^ {4}sqlalchemy_database_uri: str$/m);
  expect(readFileSync(join(dir, 'app', 'db', 'session.py'), 'utf8')).not.toMatch(/create_all|check_same_thread/);

  const tables = (await sql(cluster, 'inventory', `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.tablename);
  expect(tables).toEqual(['alembic_version', 'inventory_items', 'warehouses']);

  await withApp(dir, [join(dir, '.venv', 'bin', 'python'), '-m', 'uvicorn', 'app.main:app'], '/docs', async (base) => {
    expect((await postJson(`${base}/items`, { sku: 'A-1', quantity: 3 })).status).toBe(201);
  });
  expect(await sql(cluster, 'inventory', 'SELECT sku, quantity FROM inventory_items')).toEqual([{ sku: 'A-1', quantity: 3 }]);

  const before = snapshot(dir);
  const second = await runSteps(projectSteps(ctx));
  expect(second.filter((o) => o.status === 'done').length).toBe(2);
  expect(snapshot(dir)).toEqual(before);
  expect(readdirSync(join(dir, 'alembic', 'versions')).filter((f) => f.endsWith('.py'))).toHaveLength(1);
  const current = await run('uv', ['run', 'alembic', 'current'], { cwd: dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  expect(current.stdout).toMatch(/\(head\)/);
  expect(existsSync(join(dir, 'inventory.sqlite3'))).toBe(false);
});

test('a settings field that reads another env key than the env file is refused with the flag to pass', async () => {
  const dir = copyFixture('pkg-layout');
  const url = await createAppDb(cluster, 'wrongkey', 'wrongkey');
  writeEnv(dir, 'DATABASE_URL', url);
  await expect(runSteps(projectSteps(makeContext(cluster, dir, url, 'wrongkey')))).rejects.toThrow(/reads the env var SQLALCHEMY_DATABASE_URI/);
});
