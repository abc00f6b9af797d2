import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, ROOT, tempProject } from '../helpers/cli.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let cleanup: () => void = () => undefined;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => {
  cleanup();
  cluster?.stop();
});

const ENTER = '\r';

test('the interactive wizard asks with defaults pre-filled and answers typed at a real terminal drive the run', () => {
  const p = tempProject('wizard-app');
  cleanup = p.cleanup;
  const spec = {
    argv: [process.execPath, BIN, '--provider', 'existing', '--admin-url', cluster.adminUrl, '--port', String(cluster.port)],
    cwd: p.dir,
    env: { NO_COLOR: '1' },
    timeout: 60,
    steps: [
      ['Database name.*wizard_app', `shop${ENTER}`],
      ['Database user \\(role\\).*shop_user', ENTER],
      ['Password for that role', ENTER],
    ],
  };
  const out = execFileSync('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' });
  const result = JSON.parse(out) as { code: number | null; output: string; waiting_for?: string };
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  expect(result.output).toContain('Done.');
  expect(readFileSync(join(p.dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\/shop_user:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/shop"\n$/);
});
