/** A lock file shared by the vitest worker processes (the docker helpers' one-at-a-time setup). */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Does process `pid` live (EPERM: yes, someone else's)? */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run `fn` holding a lock file (across the vitest worker processes). A lock left by a dead
 * process is taken over.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8').trim() || 0);
      if (holder && !isAlive(holder)) rmSync(path, { force: true });
      else if (Date.now() - t0 > timeoutMs) throw new Error(`${path} is held by pid ${holder} for too long`);
      else await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

