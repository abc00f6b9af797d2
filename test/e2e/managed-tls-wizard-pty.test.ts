/**
 * The wizard asked for an existing server at a real terminal: a URL pasted as a managed
 * service shows it (password and all) is echoed masked, a CA file is asked for, and
 * verify-full is offered; the run then provisions over verified TLS with the CREATEROLE admin.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BIN, ROOT, runCli, tempProject } from '../helpers/cli.js';
import { startTlsCluster, type TlsCluster } from '../helpers/tls-cluster.js';

let t: TlsCluster;
let cleanup: () => void = () => undefined;
beforeAll(async () => {
  t = await startTlsCluster();
});
afterAll(() => {
  cleanup();
  t?.stop();
});

test('a pasted admin URL is masked, a CA file brings the offer of verify-full, and the run verifies TLS', async () => {
  const p = tempProject('pasted');
  cleanup = p.cleanup;
  const spec = {
    argv: [process.execPath, BIN, '--provider', 'existing'],
    cwd: p.dir,
    env: { NO_COLOR: '1' },
    timeout: 90,
    steps: [
      // Where the database lives comes first, then the names and the password.
      ['Admin URL of the server', `${t.adminUrl('')}\r`],
      ['CA file of the server', `${t.caFile}\r`],
      ['sslmode=verify-full\\)\\?', '\r'],
      ['Database name', '\r'],
      ['Database user', '\r'],
      ['Password for that role', '\r'],
    ],
  };
  const { stdout } = await promisify(execFile)('python3', [join(ROOT, 'test/helpers/pty-drive.py'), JSON.stringify(spec)], { encoding: 'utf8' });
  const result = JSON.parse(stdout) as { code: number | null; output: string; waiting_for?: string };
  expect(result.waiting_for, result.output).toBeUndefined();
  expect(result.code, result.output).toBe(0);
  expect(result.output).not.toContain(t.admin.password);
  expect(result.output).not.toContain(encodeURIComponent(t.admin.password));
  expect(result.output).toContain('postgres://cloud_admin:****@127.0.0.1');
  const env = readFileSync(join(p.dir, '.env'), 'utf8');
  const doctor = await runCli(['doctor', '--json'], { cwd: p.dir });
  const tls = (JSON.parse(doctor.stdout) as { checks: { id: string; status: string; detail: string }[] }).checks.find((c) => c.id === 'tls');
  expect(tls, doctor.all).toMatchObject({ status: 'pass', detail: expect.stringMatching(/certificate and host name verified \(sslmode=verify-full\)/) });
  expect(env).toMatch(new RegExp(`^DATABASE_URL="postgresql\\+psycopg://pasted_user:[^@]+@127\\.0\\.0\\.1:${t.cluster.port}/pasted\\?sslmode=verify-full&sslrootcert=${t.caFile}"\\n$`));
});
