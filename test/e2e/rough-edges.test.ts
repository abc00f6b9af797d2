/**
 * Edges a newcomer meets around the main run: output piped into `head` (a closed stdout ends the
 * process quietly, as git and ls do), and doctor on a stopped project-local cluster naming the
 * command that starts it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { freePort, pgBinDir } from '../helpers/cluster.js';
import { BIN, runCli, tempProject } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

/** `pg-setup <args> | <reader>` in bash with pipefail: what the reader printed, pg-setup's stderr, and its exit status. */
function pipeInto(reader: string, args: string[], cwd: string): { first: string; stderr: string; status: number } {
  const errFile = join(dirname(cwd), 'stderr.txt');
  const cmd = `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args.join(' ')} 2>${JSON.stringify(errFile)} | ${reader}`;
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { first: r.stdout, stderr: readFileSync(errFile, 'utf8'), status: r.status ?? -1 };
}

test.each([['status', 3], ['doctor', 1]])('`pg-setup %s | head -1` prints one line and ends quietly, never with an EPIPE stack', (command, normalExit) => {
  const p = tempProject('piped');
  cleanups.push(p.cleanup);
  for (let i = 0; i < 5; i++) {
    const r = pipeInto('head -1', [command as string], p.dir);
    expect(r.first.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toBe('');
    // 141 when head left before the last write; the command's own code when everything fit in the pipe first.
    expect([141, normalExit]).toContain(r.status);
  }
});

test.each([['status'], ['doctor']])('`pg-setup %s` into a reader that already closed the pipe exits 141 (128 + SIGPIPE, as git does), silently', (command) => {
  const p = tempProject('piped');
  cleanups.push(p.cleanup);
  // The reader closes its end at once and lingers, so pg-setup's first write meets a closed pipe.
  const r = pipeInto('{ exec 0<&-; sleep 2; }', [command], p.dir);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(141);
});

test('doctor on a stopped project-local cluster says `npx pg-setup start`, and after it every check passes', async () => {
  const p = tempProject('sleepy');
  // The cluster runs as another OS user when we are root: it must be able to enter the project.
  chmodSync(dirname(p.dir), 0o755);
  const cache = mkdtempSync(join(tmpdir(), 'pgsetup-cache-'));
  chmodSync(cache, 0o755);
  const env = { PGSETUP_LOCAL_BINARIES: pgBinDir(), XDG_CACHE_HOME: cache };
  const cli = (args: string[]) => runCli(args, { cwd: p.dir, env, timeoutMs: 120_000 });
  cleanups.push(() => {
    if (existsSync(join(p.dir, '.pg-setup', 'local.json'))) spawnSync(process.execPath, [BIN, 'stop'], { cwd: p.dir, env: { ...process.env, ...env } });
    p.cleanup();
    rmSync(cache, { recursive: true, force: true });
  });

  const setup = await cli(['--provider', 'local', '--non-interactive', '--port', String(await freePort())]);
  expect(setup.code, setup.all).toBe(0);
  expect((await cli(['stop'])).code).toBe(0);

  const doctor = await cli(['doctor']);
  expect(doctor.code, doctor.all).toBe(1);
  expect(doctor.stdout).toMatch(/✗ server reachable: nothing answers on 127\.0\.0\.1:\d+\n {4}fix: Start the project cluster: npx pg-setup start\n/);
  expect(doctor.stdout).not.toContain('--provider');

  expect((await cli(['start'])).code).toBe(0);
  const after = await cli(['doctor']);
  expect(after.code, after.all).toBe(0);
  expect(after.stdout).toContain('All checks passed.');
});
