/**
 * One e2e suite per project shape (issue 11): the built CLI runs once on a fixture app, then the
 * app's own start command serves a request that writes a row into PostgreSQL, `alembic current`
 * is at head, ruff finds nothing new, a second run changes no byte, and doctor passes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { runCli, type CliResult } from './cli.js';
import { startCluster, type TestCluster } from './cluster.js';
import { copyFixture, postJson, snapshot, sql, withApp } from './python-project.js';
import { pythonFiles, ruffFindings, uvBinary } from './ruff.js';

export interface ShapeSpec {
  fixture: string;
  dbName: string;
  /** The fixture's own start command (withApp adds --host and --port). */
  start: string[];
  readyPath: string;
  /** A request that writes one row, and where the row lands. */
  write: { path: string; body: Record<string, unknown> };
  table: string;
  column: string;
  /** Files the first run must change (or create). */
  changes: string[];
  /** What the first run's output must say besides. */
  says?: RegExp[];
  /** Assertions on the edited files. */
  files?: Record<string, (text: string) => void>;
}

export function describeShape(spec: ShapeSpec): void {
  let cluster: TestCluster;
  let dir: string;
  let pristine: string;
  let first: CliResult;
  const env = { UV_PYTHON_DOWNLOADS: 'never' };
  const args = () => ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', spec.dbName];

  beforeAll(async () => {
    cluster = await startCluster();
    dir = copyFixture(spec.fixture);
    pristine = copyFixture(spec.fixture);
    const t0 = performance.now();
    first = await runCli(args(), { cwd: dir, env });
    const ms = performance.now() - t0;
    console.log(`pg-setup on ${spec.fixture}, first run: ${(ms / 1000).toFixed(2)} s`);
  });
  afterAll(() => cluster?.stop());

  test(`one run migrates ${spec.fixture}: changes ${spec.changes.join(', ')}, and the table is in PostgreSQL`, async () => {
    expect(first.code, first.all).toBe(0);
    expect(first.all).toContain('Done.');
    for (const f of spec.changes) expect(first.all, `diff of ${f}`).toContain(`+++ b/${f}`);
    for (const re of spec.says ?? []) expect(first.all).toMatch(re);
    for (const [f, check] of Object.entries(spec.files ?? {})) check(readFileSync(join(dir, f), 'utf8'));
    const tables = (await sql(cluster, spec.dbName, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map((r) => r.tablename);
    expect(tables).toContain(spec.table);
    expect(tables).toContain('alembic_version');
  });

  test("the app's own start command, with no exported variable, writes a row into PostgreSQL", async () => {
    const value = `${spec.fixture}-row`;
    await withApp(dir, spec.start, spec.readyPath, async (base) => {
      const res = await postJson(`${base}${spec.write.path}`, { ...spec.write.body, [spec.column]: value });
      expect(res.status, await res.clone().text()).toBe(201);
    });
    const rows = await sql(cluster, spec.dbName, `SELECT ${spec.column} FROM ${spec.table}`);
    expect(rows).toEqual([{ [spec.column]: value }]);
  });

  test('alembic current is at head', async () => {
    const r = await run(uvBinary(), ['run', 'alembic', 'current'], { cwd: dir, env, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{12} \(head\)$/m);
  });

  test("pg-setup's edits add no ruff format or import-order findings", async () => {
    // A probe file with both kinds of finding proves ruff runs and is read right.
    writeFileSync(join(pristine, 'ruff_probe.py'), 'import sys\nimport os\nx=[os,sys]\n');
    const before = await ruffFindings(pristine, pythonFiles(pristine));
    expect(before['ruff_probe.py']).toMatch(/would reformat\n.*I001/s);
    const after = await ruffFindings(dir, pythonFiles(dir));
    for (const [f, findings] of Object.entries(after)) {
      if (before[f] === undefined || before[f] === '') expect(findings, f).toBe('');
    }
  });

  test('a second run says everything is in place and changes no byte', async () => {
    const before = snapshot(dir);
    const r = await runCli(args(), { cwd: dir, env });
    expect(r.code, r.all).toBe(0);
    expect(r.all).toContain('Everything is already in place; nothing changed.');
    expect(snapshot(dir)).toEqual(before);
  });

  test('doctor passes every check', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: dir, env });
    expect(r.code, r.all).toBe(0);
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string }[] };
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(Object.fromEntries(report.checks.map((c) => [c.id, c.status]))).toMatchObject({ alembic: 'pass', 'no-create-all': 'pass' });
  });
}
