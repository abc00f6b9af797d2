import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'pgsetup-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// --ignore-scripts: npm test built dist/ already, and a rebuild would pull it from under the other test files.
test('npm pack ships only what runs, and `npx --yes ./pg-setup-<version>.tgz --help` works in an empty folder', () => {
  const packOut = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(packOut) as { filename: string; files: { path: string }[] }[];
  const paths = info!.files.map((f) => f.path);
  expect(paths).toContain('bin/pg-setup.cjs');
  expect(paths).toContain('dist/cli.cjs');
  expect(paths.some((p) => /^dist\/commands-[A-Z0-9]+\.cjs$/.test(p))).toBe(true);
  // The Python side ships as its entry scripts and the package's modules: no tests, no caches.
  expect(paths).toContain('python/analyze.py');
  expect(paths).toContain('python/pgsetup/analyze.py');
  expect(paths).toContain('python/pgsetup/importer/run.py');
  expect(paths.filter((p) => !/^(bin|dist|templates)\/|^python\/[a-z_]+\.py$|^python\/pgsetup\/(importer\/)?[a-z_]+\.py$|^package\.json$|^README\.md$|^LICENSE$/.test(p))).toEqual([]);
  expect(paths.some((p) => p.endsWith('.map') || p.startsWith('src/') || p.startsWith('test/') || p.includes('__pycache__'))).toBe(false);
  // The test hooks stay out: the package has only the seam that loads a module named by PGSETUP_TEST_HOOKS.
  expect(paths.filter((p) => /test-hooks/.test(p))).toEqual([]);
  expect(paths.filter((p) => p.startsWith('dist/') && p.endsWith('.cjs')).filter((p) => readFileSync(join(ROOT, p), 'utf8').includes('PGSETUP_TEST_PAUSE'))).toEqual([]);

  const empty = join(work, 'empty');
  execFileSync('mkdir', ['-p', empty]);
  copyFileSync(join(work, info!.filename), join(empty, info!.filename));
  const r = spawnSync('npx', ['--yes', `./${info!.filename}`, '--help'], { cwd: empty, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Usage');
  expect(r.stdout).toContain('Examples');
  expect(r.stdout).toContain('--non-interactive');
  expect(readdirSync(empty)).toEqual([info!.filename]);
}, 300_000);
