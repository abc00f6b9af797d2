/**
 * Shape 7 (pip, pyproject.toml only): a venv made with `python -m venv` and `pip install -e .`,
 * no requirements.txt and no uv.lock. pg-setup stays with pip: it installs into the venv and
 * lists the packages in [project].dependencies (no uv.lock appears).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-pip-pyproject',
    db: 'todo',
    start: ['.venv/bin/uvicorn', 'todo.app:app'],
    ready: '/',
    post: { path: '/todos', body: { text: 'ship it' }, status: 201 },
    row: { query: 'SELECT text, done FROM todos', expect: [{ text: 'ship it', done: false }] },
    runner: ['.venv/bin/'],
    prepare(dir) {
      execFileSync('python3', ['-m', 'venv', '.venv'], { cwd: dir });
      execFileSync(join(dir, '.venv', 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-e', '.'], { cwd: dir, stdio: 'ignore' });
    },
  },
  (r) => {
    test('the packages are listed in [project].dependencies on its one line; no uv.lock; pip is named as the manager', () => {
      const pyproject = readFileSync(join(r().dir, 'pyproject.toml'), 'utf8');
      expect(pyproject).toContain('dependencies = ["fastapi>=0.115", "uvicorn>=0.30", "SQLAlchemy>=2.0.30", "pydantic-settings>=2.4", "psycopg[binary]", "alembic"]\n');
      expect(existsSync(join(r().dir, 'uv.lock'))).toBe(false);
      expect(r().first.all).toMatch(/pip project \(pyproject\.toml with a \[project\] table and \.venv\/ made by python -m venv/);
      expect(r().first.all).toContain('start it as usual: .venv/bin/uvicorn todo.app:app');
    });
  },
);
