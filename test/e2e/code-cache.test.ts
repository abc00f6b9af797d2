import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { runCli, tempProject } from '../helpers/cli.js';

const cacheHome = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-xdg-'));
const project = tempProject('cached');
afterAll(() => {
  rmSync(cacheHome, { recursive: true, force: true });
  project.cleanup();
});

// `status` loads the commands bundle and asks a port where nothing listens: the same answer every time.
const status = (env: Record<string, string> = {}) =>
  runCli(['status', '--provider', 'existing', '--host', '127.0.0.1', '--port', '9'], { cwd: project.dir, env: { XDG_CACHE_HOME: cacheHome, ...env } });

test('the commands load the same with no code cache, with one, with a damaged one, and with it turned off', async () => {
  const first = await status();
  expect(first.all).toMatch(/not answering/);
  const dir = join(cacheHome, 'pg-setup', 'code');
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(new RegExp(`^commands-[A-Z0-9]+-node${process.versions.node}-${process.arch}\\.v8cache$`));
  const cacheFile = join(dir, files[0]!);

  const cached = await status();
  expect([cached.code, cached.stdout, cached.stderr]).toEqual([first.code, first.stdout, first.stderr]);

  const size = readFileSync(cacheFile).length;
  writeFileSync(cacheFile, Buffer.alloc(size, 0x5a));
  const damaged = await status();
  expect([damaged.code, damaged.stdout, damaged.stderr]).toEqual([first.code, first.stdout, first.stderr]);
  expect(readFileSync(cacheFile).equals(Buffer.alloc(size, 0x5a))).toBe(false);

  rmSync(dir, { recursive: true });
  const off = await status({ NODE_DISABLE_COMPILE_CACHE: '1' });
  expect([off.code, off.stdout, off.stderr]).toEqual([first.code, first.stdout, first.stderr]);
  expect(existsSync(dir)).toBe(false);
});
