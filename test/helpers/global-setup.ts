/**
 * One temp folder per test run: helpers put their copies in it (PGSETUP_TEST_TMP), and it is
 * removed when the run ends, whatever happened to the worker processes. TMPDIR points into it
 * for the workers and every process they start: uv leaves a lock file per project in the temp
 * folder (uv-<hash>.lock), and a test run makes dozens of projects.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopTestDocker } from './docker-engine.js';

export default function setup(): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgsetup-run-'));
  chmodSync(dir, 0o755); // clusters run as the postgres OS user when the tests run as root
  process.env.PGSETUP_TEST_TMP = dir;
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777); // as /tmp: the postgres OS user writes there too
  process.env.TMPDIR = tmp;
  return async () => {
    // The docker e2e tests' engine and registry live in this folder: stop them before it goes.
    await stopTestDocker(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}
