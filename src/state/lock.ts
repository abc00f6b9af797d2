import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, UserError } from '../errors.js';
import { forgetOnExit, removeOnExit } from '../io/exit-cleanup.js';
import { isAlive } from '../io/alive.js';

interface LockHolder {
  pid: number;
  startedAt: string;
  command: string;
}

/** The project's lock file: one changing run (setup, teardown) at a time per project. */
export function lockPath(projectDir: string): string {
  return join(projectDir, '.pg-setup', 'lock');
}

/**
 * Take the project lock: `.pg-setup/lock` created with O_EXCL, holding pid and start time.
 * A lock whose pid is dead is stale and taken over. While another live run holds it, wait up
 * to `waitMs` (PGSETUP_LOCK_WAIT_MS, default 10 s), then fail with exit 7 naming the holder.
 * The lock is released by the returned function and, whatever happens, on process exit.
 */
export async function acquireLock(projectDir: string, command: string, waitMs = lockWaitMs()): Promise<() => Promise<void>> {
  const path = lockPath(projectDir);
  const dir = join(projectDir, '.pg-setup');
  // A run that stops before writing anything else must not leave an empty .pg-setup/ behind.
  const madeDir = !existsSync(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  const me: LockHolder = { pid: process.pid, startedAt: new Date().toISOString(), command };
  for (;;) {
    try {
      // Synchronous: a few system calls, where fs/promises would wait on the thread pool for each.
      const fd = openSync(path, 'wx', 0o600);
      removeOnExit(path);
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
      } finally {
        closeSync(fd);
      }
      return async () => {
        forgetOnExit(path);
        ignoreErrors(() => unlinkSync(path));
        if (madeDir) ignoreErrors(() => rmdirSync(dir)); // only when empty
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    if (holder === undefined || !isAlive(holder.pid)) {
      // Stale (the holder died without cleaning up) or half-written by a holder that just died.
      if (holder !== undefined || (await isOlderThan(path, 2000))) await unlink(path).catch(() => undefined);
      else await sleep(100);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new UserError(`Another pg-setup ${holder.command} (pid ${holder.pid}, started ${holder.startedAt}) is working on this project.`, {
        hint: `Wait for it to finish and run again. If no such process exists, remove ${path}.`,
        exitCode: ExitCode.locked,
      });
    }
    await sleep(200);
  }
}

function ignoreErrors(f: () => void): void {
  try {
    f();
  } catch {
    // Gone already, or the folder holds more than the lock.
  }
}

function lockWaitMs(): number {
  const raw = process.env.PGSETUP_LOCK_WAIT_MS;
  const v = raw ? Number(raw) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : 10_000;
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}


async function isOlderThan(path: string, ms: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st === undefined || Date.now() - st.mtimeMs > ms;
}
