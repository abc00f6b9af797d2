import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'pgsetup-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('npm pack ships only what runs, and `npx --yes ./pg-setup-<version>.tgz --help` works in an empty folder', () => {
  // --ignore-scripts: `npm test` built dist/ already, and prepack's rebuild would delete dist/
  // under the other e2e files that are running the CLI at the same time.
  const packOut = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(packOut) as { filename: string; files: { path: string }[] }[];
  const paths = info!.files.map((f) => f.path);
  expect(paths).toContain('bin/pg-setup.js');
  expect(paths).toContain('dist/cli.js');
  expect(paths.filter((p) => !/^(bin|dist|templates)\/|^package\.json$|^README\.md$|^LICENSE$/.test(p))).toEqual([]);
  expect(paths.some((p) => p.endsWith('.map') || p.startsWith('src/') || p.startsWith('test/'))).toBe(false);

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
