// Test hooks the built CLI loads when PGSETUP_TEST_HOOKS names this file (src/io/test-point.ts).
// PGSETUP_TEST_PAUSE_AT=<point>: pause at the first point whose name starts with it, printing one
// line on stderr, for PGSETUP_TEST_PAUSE_MS (default 30 s), so a test can interrupt the run there.
import { setTimeout as sleep } from 'node:timers/promises';

export async function at(point) {
  const want = process.env.PGSETUP_TEST_PAUSE_AT;
  if (!want || !point.startsWith(want)) return;
  process.stderr.write(`[test hook] paused at ${point} (pid ${process.pid})\n`);
  await sleep(Number(process.env.PGSETUP_TEST_PAUSE_MS ?? 30_000));
}
