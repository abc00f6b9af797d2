import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Test hook, inert unless PGSETUP_TEST_PAUSE_AT is set: pause at a named point so a test can
 * send SIGINT (or stop the server, or start a second run) at a known moment. Points are step
 * titles ("Create database blog", matched by prefix) and "write:<file name>" between writing an
 * atomic write's temp file and renaming it. The pause prints one line on stderr, then sleeps
 * PGSETUP_TEST_PAUSE_MS (default 30 s) and continues. Documented in docs/robustness.md.
 */
export async function pauseForTest(point: string): Promise<void> {
  const want = process.env.PGSETUP_TEST_PAUSE_AT;
  if (!want || !point.startsWith(want)) return;
  process.stderr.write(`[test hook] paused at ${point} (pid ${process.pid})\n`);
  await sleep(Number(process.env.PGSETUP_TEST_PAUSE_MS ?? 30_000));
}
