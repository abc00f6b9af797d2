import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, ROOT, tempProject } from '../helpers/cli.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { sql } from '../helpers/python-project.js';

let cluster: TestCluster;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => {
  cleanups.forEach((c) => c());
  cluster?.stop();
});

function drive(spec: object): { code: number | null; output: string; waiting_for?: string } {
  const out = execFileSync('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' });
  return JSON.parse(out) as { code: number | null; output: string; waiting_for?: string };
}

const ENTER = '\r';

test('the interactive wizard asks with defaults pre-filled and answers typed at a real terminal drive the run', () => {
  const p = tempProject('wizard-app');
  cleanups.push(p.cleanup);
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
  const result = drive(spec);
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  expect(result.output).toContain('Done.');
  expect(readFileSync(join(p.dir, '.env'), 'utf8')).toMatch(/^DATABASE_URL="postgresql\+psycopg:\/\/shop_user:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/shop"\n$/);
});

test('a SQLite URL already in .env is offered for replacement as a plain yes/no, Enter replacing it with a backup', () => {
  const p = tempProject('lite-app');
  cleanups.push(p.cleanup);
  const before = 'SECRET_KEY=abc\nDATABASE_URL=sqlite+aiosqlite:///./app.db\n';
  writeFileSync(join(p.dir, '.env'), before);
  const result = drive({
    argv: [process.execPath, BIN, '--provider', 'existing', '--admin-url', cluster.adminUrl, '--port', String(cluster.port)],
    cwd: p.dir,
    env: { NO_COLOR: '1' },
    timeout: 60,
    steps: [
      ['Database name', ENTER],
      ['Database user', ENTER],
      ['Password for that role', ENTER],
      ['DATABASE_URL in \\.env holds the SQLite URL sqlite\\+aiosqlite:///\\./app\\.db[\\s\\S]*Replace it with the PostgreSQL URL\\? \\(a backup of \\.env is kept\\) \\(Y/n\\)', ENTER],
    ],
  });
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  expect(readFileSync(join(p.dir, '.env'), 'utf8')).toMatch(/^SECRET_KEY=abc\nDATABASE_URL="postgresql\+psycopg:\/\/lite_app_user:[^"]+\/lite_app"\n$/);
  const [stamp] = readdirSync(join(p.dir, '.pg-setup', 'backups'));
  expect(readFileSync(join(p.dir, '.pg-setup', 'backups', stamp!, '.env'), 'utf8')).toBe(before);
});

test('answering no to replacing the SQLite URL stops before anything is made', async () => {
  const p = tempProject('lite-no');
  cleanups.push(p.cleanup);
  const before = 'DATABASE_URL=sqlite:///./app.db\n';
  writeFileSync(join(p.dir, '.env'), before);
  const result = drive({
    argv: [process.execPath, BIN, '--provider', 'existing', '--admin-url', cluster.adminUrl, '--port', String(cluster.port)],
    cwd: p.dir,
    env: { NO_COLOR: '1' },
    timeout: 60,
    steps: [
      ['Database name', ENTER],
      ['Database user', ENTER],
      ['Password for that role', ENTER],
      ['Replace it with the PostgreSQL URL\\?', `n${ENTER}`],
    ],
  });
  expect(result.code, result.output).toBe(2);
  expect(result.output).toContain('Left DATABASE_URL in .env as it was; nothing was changed.');
  expect(readFileSync(join(p.dir, '.env'), 'utf8')).toBe(before);
  expect(await sql(cluster, 'postgres', "SELECT rolname FROM pg_roles WHERE rolname = 'lite_no_user'")).toEqual([]);
});
