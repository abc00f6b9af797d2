/**
 * The SQLite import on a shop whose models use every type the import converts (booleans,
 * datetimes with and without zone, Numeric, Float, JSON, JSONB, UUID text and blobs, bytea,
 * enums, Date, Time), with NULLs, unicode, a self-referencing foreign key, a composite key and
 * an empty table; then a bad value (nothing committed), and Ctrl-C in a large table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { copyFixture, postJson, snapshot, sql, withApp } from '../helpers/python-project.js';
import { realUv } from '../helpers/shape.js';

const SEED = join(import.meta.dirname, '..', 'helpers', 'seed-import-types.py');
const env = { UV_PYTHON_DOWNLOADS: 'never' };
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

/** A copy of the fixture with its venv, and shop.db filled by the app's models (plus `seedArgs`). */
function shop(seedArgs: string[] = []): string {
  const dir = copyFixture('import-types');
  for (const [cmd, args] of [['uv', ['sync', '-q']], [join(dir, '.venv', 'bin', 'python'), [SEED, ...seedArgs]]] as const) {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  }
  return dir;
}

const setupArgs = (db: string, sqlite: string) => ['--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', db, '--sqlite', sqlite];
const foreignKeys = async (db: string) => (await sql(cluster, db, `SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1`)).map((r) => r.conname);
const count = async (db: string, table: string) => Number((await sql(cluster, db, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

describe('every type', () => {
  let r: CliResult;
  let dir: string;
  beforeAll(async () => {
    dir = shop();
    r = await runCli(setupArgs('shop', 'import'), { cwd: dir, env });
  }, 300_000);

  test('the run imports and verifies every table, and lists what it did not import', () => {
    expect(r.code, r.all).toBe(0);
    expect(r.all).toContain('products: SQLite 3 rows, PostgreSQL 3 rows, content hash matches');
    expect(r.all).toContain('categories: SQLite 3 rows, PostgreSQL 3 rows, content hash matches');
    expect(r.all).toContain('order_lines: SQLite 3 rows, PostgreSQL 3 rows, content hash matches');
    expect(r.all).toContain('audit_entries: SQLite 0 rows, PostgreSQL 0 rows, content hash matches');
    expect(r.all).toContain('note: SQLite table legacy_stats has no table in PostgreSQL: not imported');
    expect(r.all).toContain('note: column products.legacy_code has no column in PostgreSQL: not imported');
  });

  test('values are converted by the target column: each type reads back as the app wrote it', async () => {
    const rows = await sql(
      cluster,
      'shop',
      `SELECT id, sku::text, name, description, price::text, weight_kg, in_stock, status::text, attributes::text, tags::text,
              encode(thumbnail, 'hex') AS thumb, created_at::text, updated_at::text, release_date::text, opens_at::text, category_id
       FROM products ORDER BY id`,
    );
    const hex = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');
    expect(rows[0]).toEqual({
      id: 1, sku: '6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f', name: 'Ristretto 3000 — “pro”', description: 'line one\nline two\ttab, comma "quote" \\ backslash',
      price: '1299.99', weight_kg: 7.25, in_stock: true, status: 'active',
      attributes: '{"colour": "red", "watts": 1450, "ratio": 0.1, "nested": {"b": [1, 2], "a": null}}',
      tags: '["steel", "ünïcode", {"a": 2.5, "zz": 1}]', thumb: hex,
      created_at: '2024-05-01 09:30:00.123456+00', updated_at: '2024-05-02 18:00:05', release_date: '2024-04-30', opens_at: '08:15:30.5', category_id: 1,
    });
    // NULLs stay NULL; SQLAlchemy's JSON null stays JSON null; 0 is false.
    expect(rows[1]).toMatchObject({ weight_kg: null, in_stock: false, status: 'draft', attributes: 'null', thumb: null, updated_at: null, release_date: null, opens_at: null, category_id: null, price: '0.10' });
    // Another writer's shapes: a UUID as a 16-byte blob, numeric text, 'T' and offsets.
    expect(rows[2]).toMatchObject({ sku: '00112233-4455-6677-8899-aabbccddeeff', price: '12.35', weight_kg: 1, created_at: '2024-03-01 10:30:00+00', updated_at: '2024-03-01 12:30:00.5', tags: '[]' });
  });

  test("the app's own start command, with no exported variable, lists the imported products and adds one with the next key", async () => {
    await withApp(dir, [realUv(), 'run', 'uvicorn', 'main:app'], '/health', async (base) => {
      const listed = (await (await fetch(`${base}/api/products`)).json()) as { id: number }[];
      expect(listed.map((p) => p.id)).toEqual([1, 2, 3]);
      const res = await postJson(`${base}/api/products`, { name: 'Grinder', price: '89.50' });
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await res.json()).toEqual({ id: 4, name: 'Grinder', price: '89.50' });
    });
    expect(await sql(cluster, 'shop', `SELECT id, name, price::text AS price FROM products WHERE id = 4`)).toEqual([{ id: 4, name: 'Grinder', price: '89.50' }]);
    await sql(cluster, 'shop', 'DELETE FROM products WHERE id = 4');
  });

  test('a second run imports nothing and changes no byte', async () => {
    const before = snapshot(dir);
    const again = await runCli(setupArgs('shop', 'import'), { cwd: dir, env });
    expect(again.code, again.all).toBe(0);
    expect(again.all).toContain('Everything is already in place; nothing changed.');
    expect(snapshot(dir)).toEqual(before);
  });

  test('a self-reference, a composite key and unicode arrive intact; sequences continue past the largest key', async () => {
    expect(await sql(cluster, 'shop', 'SELECT id, name, parent_id FROM categories ORDER BY id')).toEqual([
      { id: 1, name: 'Espresso machines', parent_id: 2 },
      { id: 2, name: 'Küche & Café ☕', parent_id: null },
      { id: 3, name: 'Unsorted', parent_id: null },
    ]);
    expect(await sql(cluster, 'shop', 'SELECT order_id, line_no, unit_price::text AS p FROM order_lines ORDER BY 1, 2')).toEqual([
      { order_id: 100, line_no: 1, p: '1299.9900' },
      { order_id: 100, line_no: 2, p: '0.1000' },
      { order_id: 101, line_no: 1, p: '0.0950' },
    ]);
    // The foreign keys were dropped and re-created inside the transaction: all there, all checked.
    expect(await foreignKeys('shop')).toEqual(['categories_parent_id_fkey', 'order_lines_product_id_fkey', 'products_category_id_fkey']);
    const [next] = await sql(cluster, 'shop', `SELECT nextval('products_id_seq')::int AS p, nextval('categories_id_seq')::int AS c, nextval('audit_entries_id_seq')::int AS a`);
    expect(next).toEqual({ p: 5, c: 4, a: 1 }); // 4 went to the product the app added above
  });
});

test('a value that cannot convert stops the import naming the row, PostgreSQL has none of the rows, and --sqlite delete leaves the file', async () => {
  const dir = shop(['--bad']);
  const original = readFileSync(join(dir, 'shop.db'));
  // --sqlite delete imports first: the failed import stops the run before the file is moved.
  const r = await runCli(setupArgs('shop_bad', 'delete'), { cwd: dir, env });
  expect(r.code, r.all).toBe(5);
  expect(r.all).toContain('products (id=3), column in_stock: 7 is not a boolean (0 or 1)');
  expect(r.all).toContain('Nothing was committed.');
  for (const t of ['categories', 'products', 'order_lines']) expect(await count('shop_bad', t)).toBe(0);
  expect(readFileSync(join(dir, 'shop.db')).equals(original)).toBe(true);
  // The run backs up the code files it edits there, but not the SQLite file.
  const backups = join(dir, '.pg-setup', 'backups');
  expect(existsSync(backups) ? readdirSync(backups, { recursive: true }).map(String).filter((f) => f.endsWith('shop.db')) : []).toEqual([]);
  // Fixed in the SQLite file, the standalone command imports it.
  spawnSync(join(dir, '.venv', 'bin', 'python'), ['-c', 'import sqlite3; c = sqlite3.connect("shop.db"); c.execute("UPDATE products SET in_stock = 1 WHERE id = 3"); c.commit()'], { cwd: dir });
  const fixed = await runCli(['import-sqlite', '--from', 'shop.db'], { cwd: dir, env });
  expect(fixed.code, fixed.all).toBe(0);
  expect(await count('shop_bad', 'products')).toBe(3);
});

test('Ctrl-C in the middle of a large table commits nothing; the next run imports everything once', async () => {
  const bulk = 400_000;
  const dir = shop(['--bulk', String(bulk)]);
  const setupRun = await runCli(setupArgs('shop_big', 'keep'), { cwd: dir, env });
  expect(setupRun.code, setupRun.all).toBe(0);
  const keys = await foreignKeys('shop_big');
  const cli = startCli(['import-sqlite'], { cwd: dir, env });
  // A progress line with some rows done but not all.
  await cli.waitFor(/order_lines: [1-9][\d,]*\/400,003 rows/, 120_000);
  cli.signal('SIGINT');
  const stopped = await cli.done;
  expect(stopped.code, stopped.all).toBe(130);
  await new Promise((r) => setTimeout(r, 1000));
  for (const t of ['categories', 'products', 'order_lines']) expect(await count('shop_big', t)).toBe(0);
  expect(await foreignKeys('shop_big')).toEqual(keys);
  const again = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(again.code, again.all).toBe(0);
  expect(again.all).toContain(`order_lines: SQLite ${bulk + 3} rows, PostgreSQL ${bulk + 3} rows, content hash matches`);
  expect(await count('shop_big', 'order_lines')).toBe(bulk + 3);
  const third = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(third.all).toContain('Nothing to import; nothing changed.');
  expect(await count('shop_big', 'order_lines')).toBe(bulk + 3);
});

test('a target table that already has rows is refused, and --sqlite-import-into-nonempty appends and checks the new rows', async () => {
  const dir = shop();
  const setupRun = await runCli(setupArgs('shop_append', 'keep'), { cwd: dir, env });
  expect(setupRun.code, setupRun.all).toBe(0);
  await sql(cluster, 'shop_append', `INSERT INTO categories (id, name) VALUES (50, 'Made on PostgreSQL')`);
  const refused = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(refused.code, refused.all).toBe(5);
  expect(refused.all).toContain('PostgreSQL already has rows in categories (1)');
  expect(refused.all).toContain('--sqlite-import-into-nonempty');
  expect(await count('shop_append', 'products')).toBe(0);
  const appended = await runCli(['import-sqlite', '--sqlite-import-into-nonempty'], { cwd: dir, env });
  expect(appended.code, appended.all).toBe(0);
  expect(appended.all).toContain('categories: SQLite 3 rows, PostgreSQL 3 rows added to 1, content hash matches');
  expect(await count('shop_append', 'categories')).toBe(4);
  const [next] = await sql(cluster, 'shop_append', `SELECT nextval('categories_id_seq')::int AS c`);
  expect(next).toEqual({ c: 51 });
});

/** Forget the import's record, as a run killed between PostgreSQL's commit and the record would. */
function dropImportRecord(dir: string): void {
  const file = join(dir, '.pg-setup', 'state.json');
  const state = JSON.parse(readFileSync(file, 'utf8')) as { sqliteImports?: unknown };
  expect(state.sqliteImports).toBeDefined();
  delete state.sqliteImports;
  writeFileSync(file, JSON.stringify(state, null, 2));
}

test('rows committed without their record (a run killed in between) are found, recorded, and never imported twice', async () => {
  const dir = shop();
  const first = await runCli(setupArgs('shop_crash', 'import'), { cwd: dir, env });
  expect(first.code, first.all).toBe(0);
  const tables = ['categories', 'products', 'order_lines', 'audit_entries'];
  const counts = async () => Promise.all(tables.map((t) => count('shop_crash', t)));
  const before = await counts();
  expect(before).toEqual([3, 3, 3, 0]);
  dropImportRecord(dir);
  const found = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(found.code, found.all).toBe(0);
  expect(found.all).toMatch(/already imported 9 rows from shop\.db \(found in PostgreSQL, recorded now\); nothing imported/);
  expect(found.all).not.toContain('already has rows');
  expect(await counts()).toEqual(before);
  // Recorded now: the next run reads the record.
  const recorded = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(recorded.all).toContain('already imported 9 rows from shop.db on');
  expect(recorded.all).toContain('Nothing to import; nothing changed.');
  // Appending is allowed, but not of the very rows already there.
  dropImportRecord(dir);
  const append = await runCli(['import-sqlite', '--sqlite-import-into-nonempty'], { cwd: dir, env });
  expect(append.code, append.all).toBe(0);
  expect(append.all).toContain('(found in PostgreSQL, recorded now)');
  expect(await counts()).toEqual(before);
  // One row changed in PostgreSQL: no longer this file's import, so the refusal stands.
  dropImportRecord(dir);
  await sql(cluster, 'shop_crash', `UPDATE categories SET name = 'Renamed on PostgreSQL' WHERE id = 3`);
  const changed = await runCli(['import-sqlite'], { cwd: dir, env });
  expect(changed.code, changed.all).toBe(5);
  expect(changed.all).toContain('PostgreSQL already has rows in');
  expect(await counts()).toEqual(before);
});
