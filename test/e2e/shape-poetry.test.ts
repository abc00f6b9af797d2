/**
 * Shape 7 (poetry): a real Poetry from PyPI manages the project (package-mode off, venv in the
 * project via poetry.toml). `poetry add` adds the driver and Alembic; the app starts with
 * `poetry run uvicorn`. Its URL field reads DB_URL, so the re-run also proves the env key is settled first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { realUv, shapeSuite } from '../helpers/shape.js';

// `uv tool install poetry` (as .ci/run does) puts it in uv's tool bin folder, which may not be on PATH.
const toolBin = execFileSync(realUv(), ['tool', 'dir', '--bin'], { encoding: 'utf8' }).trim();
if (existsSync(join(toolBin, 'poetry'))) process.env.PATH = `${toolBin}:${process.env.PATH}`;
process.env.POETRY_NO_INTERACTION = '1';

shapeSuite(
  {
    fixture: 'shape-poetry',
    db: 'events',
    start: ['poetry', 'run', 'uvicorn', 'events_api.main:app'],
    ready: '/health',
    post: { path: '/events', body: { name: 'PGConf', day: '2026-12-03' }, status: 201 },
    row: { query: "SELECT name, to_char(day, 'YYYY-MM-DD') AS day FROM events", expect: [{ name: 'PGConf', day: '2026-12-03' }] },
    runner: ['poetry', 'run'],
    prepare(dir) {
      execFileSync('poetry', ['install', '--no-ansi', '--quiet'], { cwd: dir, stdio: 'ignore' });
    },
  },
  (r) => {
    test('poetry add put the driver and alembic in pyproject.toml and poetry.lock; DB_URL is the key written', () => {
      const pyproject = readFileSync(join(r().dir, 'pyproject.toml'), 'utf8');
      expect(pyproject).toMatch(/"psycopg\[binary\] \(>=[\d.]+,<[\d.]+\)"/);
      expect(pyproject).toMatch(/"alembic \(>=/);
      expect(readFileSync(join(r().dir, 'poetry.lock'), 'utf8')).toContain('name = "psycopg-binary"');
      expect(readFileSync(join(r().dir, '.env'), 'utf8')).toMatch(/^DB_URL="postgresql\+psycopg:\/\/events_user:/);
      expect(r().first.all).toContain('start it as usual: poetry run uvicorn events_api.main:app');
    });
  },
);
