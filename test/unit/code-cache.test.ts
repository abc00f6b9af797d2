import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { cachePath, loadBundle } from '../../src/io/code-cache.js';
import { importOutside } from '../../src/io/import-outside.js';

let work: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'pgsetup-code-cache-'));
  env = { XDG_CACHE_HOME: join(work, 'cache') };
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A small CommonJS bundle shaped like dist/commands-<hash>.cjs: it takes a shared module and exports a function. */
function bundle(name: string, body = ''): string {
  const file = join(work, name);
  writeFileSync(
    file,
    `const errors = __pgSetupShared['src/errors.ts'];
     exports.run = (x) => { if (x < 0) throw new errors.UserError('negative'); return x * 2; };
     exports.os = () => __pgSetupShared['src/io/import-outside.ts'].importOutside('node:os').then((m) => m.platform());
     exports.where = __filename;
     ${body}`,
  );
  return file;
}

class UserError extends Error {}
const shared = { 'src/errors.ts': { UserError }, 'src/io/import-outside.ts': { importOutside } };

function load(file: string): { exports: Record<string, unknown>; stored: boolean } {
  let store: (() => void) | undefined;
  const exports = loadBundle(file, shared, (s) => (store = s), env);
  store?.();
  return { exports, stored: store !== undefined };
}

test('the first load leaves a cache (pg-setup/ stays open to read, as the local provider\'s binaries beside it need), the next one uses it and writes nothing', () => {
  const file = bundle('commands-AAAA1111.cjs');
  const first = load(file);
  expect((first.exports.run as (x: number) => number)(21)).toBe(42);
  expect(first.exports.where).toBe(file);
  expect(first.stored).toBe(true);
  const dir = join(work, 'cache', 'pg-setup', 'code');
  const [cache] = readdirSync(dir);
  expect(cache).toBe(`commands-AAAA1111-node${process.versions.node}-${process.arch}.v8cache`);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(join(dir, '..')).mode & 0o777).toBe(0o755);
  expect(statSync(join(dir, cache!)).mode & 0o777).toBe(0o600);

  const second = load(file);
  expect(second.stored).toBe(false);
  expect((second.exports.run as (x: number) => number)(5)).toBe(10);
});

test("errors thrown inside are the loader's shared classes, and import() through the shared module works", async () => {
  const { exports } = load(bundle('commands-BBBB2222.cjs'));
  expect(() => (exports.run as (x: number) => number)(-1)).toThrow(UserError);
  expect(await (exports.os as () => Promise<string>)()).toBe(process.platform);
});

test('a new build replaces the cache of the old one under the same Node', () => {
  load(bundle('commands-OLD00000.cjs'));
  load(bundle('commands-NEW11111.cjs', '// another build'));
  expect(readdirSync(join(work, 'cache', 'pg-setup', 'code'))).toEqual([`commands-NEW11111-node${process.versions.node}-${process.arch}.v8cache`]);
});

test('no cache where others could write code for it: a folder open to others, or not our own', () => {
  const file = bundle('commands-DDDD4444.cjs');
  const dir = join(work, 'cache', 'pg-setup', 'code');
  expect(cachePath(file, env)).toBe(join(dir, `commands-DDDD4444-node${process.versions.node}-${process.arch}.v8cache`));
  chmodSync(dir, 0o777);
  expect(cachePath(file, env)).toBeUndefined();
  const r = load(file);
  expect(r.stored).toBe(false);
  expect((r.exports.run as (x: number) => number)(3)).toBe(6);
  expect(readdirSync(dir)).toEqual([]);
  chmodSync(dir, 0o700);
  expect(cachePath(file, env)).toBe(join(dir, `commands-DDDD4444-node${process.versions.node}-${process.arch}.v8cache`));
  chmodSync(join(dir, '..'), 0o777);
  expect(cachePath(file, env)).toBeUndefined();
  chmodSync(join(dir, '..'), 0o755);
  if (process.getuid?.() === 0) {
    chownSync(dir, 65534, 65534);
    expect(cachePath(file, env)).toBeUndefined();
    // Root with another user's cache home (sudo keeping HOME): nothing is made there.
    const theirs = join(work, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    expect(cachePath(file, { XDG_CACHE_HOME: theirs })).toBeUndefined();
    expect(readdirSync(theirs)).toEqual([]);
  }
});

test('NODE_DISABLE_COMPILE_CACHE turns it off; without XDG_CACHE_HOME it is under ~/.cache', () => {
  const file = bundle('commands-EEEE5555.cjs');
  expect(cachePath(file, { ...env, NODE_DISABLE_COMPILE_CACHE: '1' })).toBeUndefined();
  expect(existsSync(join(work, 'cache'))).toBe(false);
  const home = cachePath(file, {});
  if (home) expect(home).toMatch(/\/\.cache\/pg-setup\/code\/commands-EEEE5555-node/);
});
