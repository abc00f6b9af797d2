import { expect, test } from 'vitest';
import { likelyCause, waitReady } from '../../src/providers/ready.js';

test('readiness polls no more often than every 100 ms and returns once a query succeeds', async () => {
  const times: number[] = [];
  await waitReady(
    async () => {
      times.push(Date.now());
      if (times.length < 4) throw new Error('the database system is starting up');
    },
    { timeoutMs: 5000, intervalMs: 10 },
  );
  expect(times).toHaveLength(4);
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(95);
});

test('a timeout shows the last error, the server log tail and the likely cause', async () => {
  const log = Array.from({ length: 40 }, (_, i) => `line ${i}`).concat('FATAL:  could not bind IPv4 address "127.0.0.1": Address already in use').join('\n');
  const err = await waitReady(async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')), {
    timeoutMs: 300,
    what: 'PostgreSQL 15/main on port 5432',
    logTail: async () => log,
  }).catch((e: unknown) => e);
  expect(err).toMatchObject({ name: 'UserError', exitCode: 3 });
  const { message, hint } = err as { message: string; hint: string };
  expect(message).toMatch(/^PostgreSQL 15\/main on port 5432 did not accept an authenticated query within 0 s\./);
  expect(message).toContain('Last error: connect ECONNREFUSED 127.0.0.1:5432');
  expect(message).toContain('Address already in use');
  expect(message).not.toContain('line 10\n');
  expect(hint).toMatch(/port is taken/);
});

test('likely causes name the next step', () => {
  expect(likelyCause('password authentication failed for user "postgres"')).toMatch(/--admin-url/);
  expect(likelyCause('could not write: No space left on device')).toMatch(/disk is full/);
  expect(likelyCause('something odd')).toMatch(/--timeout/);
});
