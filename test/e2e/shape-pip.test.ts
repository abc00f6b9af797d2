/**
 * Shape 7 (pip): a venv made with pip from a requirements.txt saved as UTF-16 with a BOM and CRLF
 * line endings. The driver and Alembic go into the venv with its own pip, and the new lines are
 * written back in the file's own encoding and line endings. The app's start command is .venv/bin/uvicorn.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { shapeSuite } from '../helpers/shape.js';

shapeSuite(
  {
    fixture: 'shape-pip',
    db: 'links',
    start: ['.venv/bin/uvicorn', 'endpoints:app'],
    ready: '/ping',
    post: { path: '/links', body: { url: 'https://www.postgresql.org/', label: 'pg' }, status: 201 },
    row: { query: 'SELECT url, label FROM links', expect: [{ url: 'https://www.postgresql.org/', label: 'pg' }] },
    runner: ['.venv/bin/'],
    prepare(dir) {
      // What the project's README says: python -m venv .venv && .venv/bin/pip install -r requirements.txt
      execFileSync('python3', ['-m', 'venv', '.venv'], { cwd: dir });
      execFileSync(join(dir, '.venv', 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', 'requirements.txt'], { cwd: dir, stdio: 'ignore' });
    },
  },
  (r) => {
    test('requirements.txt gains the driver and alembic in UTF-16 with its BOM and CRLF; Next steps name .venv/bin/uvicorn', () => {
      const bytes = readFileSync(join(r().dir, 'requirements.txt'));
      expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
      const text = bytes.subarray(2).toString('utf16le');
      expect(text).toMatch(/\r\npydantic-settings>=2\.4\r\npsycopg\[binary\]\r\nalembic\r\n$/);
      expect(text.replace(/\r\n/g, '')).not.toContain('\n');
      expect(r().first.all).toContain('start it as usual: .venv/bin/uvicorn endpoints:app');
    });
  },
);
