/**
 * The shape suite (helpers/shape.ts) for fixtures that state their checks as a table, a column
 * and the files the first run changes: the row written through the app is that column's value,
 * every changed file shows as a diff, ruff finds nothing new in pg-setup's edits, and doctor
 * also passes its create_all check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from './cli.js';
import { copyFixture, sql } from './python-project.js';
import { pythonFiles, ruffFindings } from './ruff.js';
import { shapeSuite } from './shape.js';

export interface TableShapeSpec {
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

export function describeShape(spec: TableShapeSpec): void {
  const value = `${spec.fixture}-row`;
  shapeSuite(
    {
      fixture: spec.fixture,
      db: spec.dbName,
      start: spec.start,
      ready: spec.readyPath,
      post: { path: spec.write.path, body: { ...spec.write.body, [spec.column]: value }, status: 201 },
      row: { query: `SELECT ${spec.column} FROM ${spec.table}`, expect: [{ [spec.column]: value }] },
    },
    (r) => {
      test(`${spec.fixture}: the first run changes ${spec.changes.join(', ')}, and the table is in PostgreSQL`, async () => {
        const { first, dir, cluster } = r();
        for (const f of spec.changes) expect(first.all, `diff of ${f}`).toContain(`+++ b/${f}`);
        for (const re of spec.says ?? []) expect(first.all).toMatch(re);
        for (const [f, check] of Object.entries(spec.files ?? {})) check(readFileSync(join(dir, f), 'utf8'));
        const tables = (await sql(cluster, spec.dbName, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map((row) => row.tablename);
        expect(tables).toContain(spec.table);
        expect(tables).toContain('alembic_version');
      });

      test(`${spec.fixture}: pg-setup's edits add no ruff format or import-order findings`, async () => {
        // A probe file with both kinds of finding proves ruff runs and is read right.
        const pristine = copyFixture(spec.fixture);
        writeFileSync(join(pristine, 'ruff_probe.py'), 'import sys\nimport os\nx=[os,sys]\n');
        const before = await ruffFindings(pristine, pythonFiles(pristine));
        expect(before['ruff_probe.py']).toMatch(/would reformat\n.*I001/s);
        const after = await ruffFindings(r().dir, pythonFiles(r().dir));
        for (const [f, findings] of Object.entries(after)) {
          if (before[f] === undefined || before[f] === '') expect(findings, f).toBe('');
        }
      });

      test(`${spec.fixture}: doctor finds no create_all left at start-up`, async () => {
        const out = await runCli(['doctor', '--json'], { cwd: r().dir, env: { UV_PYTHON_DOWNLOADS: 'never' } });
        const report = JSON.parse(out.stdout) as { checks: { id: string; status: string }[] };
        expect(report.checks.find((c) => c.id === 'no-create-all')?.status, out.all).toBe('pass');
      });
    },
  );
}
