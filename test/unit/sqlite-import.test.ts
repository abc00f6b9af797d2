import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeVerification, findSqliteFile, formatProgress, importKey } from '../../src/project/sqlite-import.js';
import { parseFlags } from '../../src/options/parse.js';
import { resolveOptions } from '../../src/options/resolve.js';

const project = (files: string[]) => {
  const dir = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-unit-import-'));
  for (const f of files) writeFileSync(join(dir, f), '');
  return dir;
};

describe('which SQLite file', () => {
  test('--from wins, then the file the code named, then the only *.db / *.sqlite(3) in the folder', () => {
    const dir = project(['blog.db', 'notes.txt']);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'other.sqlite3'), '');
    expect(findSqliteFile(dir, 'data/other.sqlite3', [])).toBe(join(dir, 'data', 'other.sqlite3'));
    expect(findSqliteFile(dir, undefined, [join(dir, 'data', 'other.sqlite3')])).toBe(join(dir, 'data', 'other.sqlite3'));
    expect(findSqliteFile(dir, undefined, [join(dir, 'gone.db')])).toBe(join(dir, 'blog.db'));
    expect(findSqliteFile(project([]), undefined, [])).toBeUndefined();
  });

  test('a missing --from or two candidates is a usage error that names --from', () => {
    expect(() => findSqliteFile(project([]), 'nope.db', [])).toThrow(/nope\.db does not exist/);
    try {
      findSqliteFile(project(['a.db', 'b.sqlite']), undefined, []);
      expect.unreachable();
    } catch (e) {
      expect((e as { hint?: string }).hint).toContain('--from');
    }
  });
});

test('progress is a bar per table on a terminal and a plain line off one', () => {
  expect(formatProgress({ table: 'posts', done: 500, total: 1000 }, false)).toBe('posts: 500/1,000 rows');
  expect(formatProgress({ table: 'posts', done: 500, total: 1000 }, true)).toBe(`posts [${'#'.repeat(12)}${'-'.repeat(12)}] 500/1,000`);
  expect(formatProgress({ table: 'empty', done: 0, total: 0 }, true)).toContain('0/0');
});

test('the verification says rows on each side and whether the content hash matches', () => {
  const lines = describeVerification({
    imported: 5, notes: [], deferred: [],
    tables: [
      { table: 'users', sqliteRows: 2, pgRows: 2, before: 0, hashMatch: true, seconds: 0 },
      { table: 'posts', sqliteRows: 3, pgRows: 3, before: 2, hashMatch: true, seconds: 0 },
    ],
  });
  expect(lines).toEqual(['users: SQLite 2 rows, PostgreSQL 2 rows, content hash matches', 'posts: SQLite 3 rows, PostgreSQL 3 rows added to 2, content hash matches']);
});

test('an import is recorded per database, never with the password', () => {
  expect(importKey('postgresql+psycopg://u:secret@127.0.0.1:5433/blog')).toBe('127.0.0.1:5433/blog');
});

test('--sqlite import, --sqlite-import-into-nonempty and import-sqlite --from parse; a wrong --sqlite names the choices', () => {
  const cwd = project([]);
  const r = resolveOptions({ flags: parseFlags(['import-sqlite', '--from', 'x.db', '--sqlite-import-into-nonempty']), env: {}, cwd, stdinIsTTY: false });
  expect(r.options).toMatchObject({ command: 'import-sqlite', sqliteFrom: 'x.db', sqliteImportIntoNonempty: true });
  expect(resolveOptions({ flags: parseFlags(['--sqlite', 'import']), env: {}, cwd, stdinIsTTY: false }).options.sqlite).toBe('import');
  expect(() => resolveOptions({ flags: parseFlags(['--sqlite', 'copy']), env: {}, cwd, stdinIsTTY: false })).toThrow(/keep, delete or import/);
});
