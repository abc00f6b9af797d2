/**
 * One e2e suite per project shape (issue 11): the built CLI runs once on a fixture app, the
 * app's own start command serves a request that writes a row found in PostgreSQL, `alembic
 * current` is at head, a second run changes no byte, and `doctor` passes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { run } from '../../src/io/exec.js';
import { startCluster, type TestCluster } from './cluster.js';
import { runCli, type CliResult } from './cli.js';
import { copyFixture, postJson, snapshot, sql, withApp } from './python-project.js';

export interface ShapeSpec {
  /** Folder under test/fixtures/. */
  fixture: string;
  /** --db-name for the run. */
  db: string;
  /** The fixture's own start command; `uv` is replaced by the real uv binary. withApp adds --host/--port. */
  start: string[];
  /** A path that answers once the app is up. */
  ready: string;
  /** The request that writes a row. */
  post: { path: string; body: unknown; status?: number };
  /** The query that finds the row, and the rows it must return. */
  row: { query: string; expect: Record<string, unknown>[] };
  /** How `alembic current` runs in this project (default: uv run). */
  runner?: string[];
  /** Extra CLI flags of the first run. */
  flags?: string[];
  /** Change the copied fixture before the first run (a SQLite file the app made, an existing .env). */
  prepare?: (dir: string) => void;
}

/** The CLI flags of a run against the suite's cluster. */
export function shapeArgs(cluster: TestCluster, db: string, more: string[] = []): string[] {
  return ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', db, ...more];
}

export interface ShapeRun {
  dir: string;
  cluster: TestCluster;
  first: CliResult;
  before: Record<string, string>;
}

/** uv itself, not pyenv's shim (which fails in a project whose .python-version names another Python). */
export function realUv(): string {
  const found = execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim();
  if (!found.includes('/shims/')) return found;
  return execFileSync('pyenv', ['which', 'uv'], { encoding: 'utf8' }).trim();
}

const ENV = { UV_PYTHON_DOWNLOADS: 'never' };

/** Register the shape's tests; `more` adds the shape's own assertions on the first run. */
export function shapeSuite(spec: ShapeSpec, more?: (r: () => ShapeRun) => void): void {
  const state = {} as ShapeRun;
  const uv = realUv();
  const cmd = (argv: string[]) => argv.map((a) => (a === 'uv' ? uv : a));
  const args = () => shapeArgs(state.cluster, spec.db, spec.flags);

  beforeAll(async () => {
    state.cluster = await startCluster();
    state.dir = copyFixture(spec.fixture);
    spec.prepare?.(state.dir);
    state.before = snapshot(state.dir);
    const t0 = performance.now();
    state.first = await runCli(args(), { cwd: state.dir, env: ENV });
    const after = snapshot(state.dir);
    const changed = Object.keys(after).filter((f) => after[f] !== state.before[f]).sort();
    console.log(`shape ${spec.fixture}: first run ${((performance.now() - t0) / 1000).toFixed(2)} s; files written: ${changed.join(', ')}`);
  });
  afterAll(() => state.cluster?.stop());

  test(`${spec.fixture}: one non-interactive run succeeds and names the app's own start command`, () => {
    expect(state.first.code, state.first.all).toBe(0);
    expect(state.first.all).toContain('Done.');
  });

  test(`${spec.fixture}: the app's own start command serves a request that writes a row into PostgreSQL`, async () => {
    await withApp(state.dir, cmd(spec.start), spec.ready, async (base) => {
      const res = await postJson(`${base}${spec.post.path}`, spec.post.body);
      expect(res.status, await res.clone().text()).toBe(spec.post.status ?? 200);
    });
    expect(await sql(state.cluster, spec.db, spec.row.query)).toEqual(spec.row.expect);
  });

  test(`${spec.fixture}: alembic current is at head`, async () => {
    // A runner ending in / is a bin folder (.venv/bin/alembic); otherwise a command (uv run alembic).
    const runner = cmd(spec.runner ?? ['uv', 'run']);
    const [head, ...rest] = runner[0]!.endsWith('/') ? [`${runner[0]}alembic`] : [...runner, 'alembic'];
    const r = await run(head!.startsWith('.') ? join(state.dir, head!) : head!, [...rest, 'current'], { cwd: state.dir, env: ENV, reject: false });
    expect(r.stdout, r.stderr).toMatch(/^[0-9a-f]{12} \(head\)$/m);
  });

  more?.(() => state);

  test(`${spec.fixture}: a second run changes no byte`, async () => {
    const before = snapshot(state.dir);
    const r = await runCli(args(), { cwd: state.dir, env: ENV });
    expect(r.code, r.all).toBe(0);
    expect(r.all).toContain('Everything is already in place; nothing changed.');
    expect(snapshot(state.dir)).toEqual(before);
  });

  test(`${spec.fixture}: doctor passes every check`, async () => {
    const r = await runCli(['doctor', '--json'], { cwd: state.dir, env: ENV });
    const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.filter((c) => c.status === 'fail'), r.all).toEqual([]);
    expect(report.checks.find((c) => c.id === 'alembic')?.status).toBe('pass');
    expect(r.code).toBe(0);
  });
}
