import { expect, test } from 'vitest';
import { ExecError, run } from '../../src/io/exec.js';
import { sanitizePgError } from '../../src/db/admin.js';
import { addSecret, redact } from '../../src/io/secrets.js';

test('a failing child that prints a secret gives an error message without it', async () => {
  const secret = 'child-secret-value-42';
  addSecret(secret);
  const err = await run('sh', ['-c', 'echo "boom $X" >&2; exit 3'], { env: { X: secret } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ExecError);
  expect((err as Error).message).toContain('boom ****');
  expect((err as Error).message).not.toContain(secret);
});

test('pg errors are redacted, and a lost connection becomes exit 3 with the next step', () => {
  addSecret('pg-secret-value-42');
  expect(sanitizePgError(new Error('bad url postgres://u:pg-secret-value-42@h/db')).message).not.toContain('pg-secret-value-42');
  const lost = sanitizePgError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })) as Error & { exitCode?: number; hint?: string };
  expect(lost.exitCode).toBe(3);
  expect(lost.hint).toMatch(/run pg-setup again/);
  expect(redact('x pg-secret-value-42 y')).toBe('x **** y');
});
