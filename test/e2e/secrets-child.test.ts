import { expect, test } from 'vitest';
import { ExecError, run } from '../../src/io/exec.js';
import { addSecret } from '../../src/io/secrets.js';

test('a failing child that prints a secret gives an error message without it', async () => {
  const secret = 'child-secret-value-42';
  addSecret(secret);
  const err = await run('sh', ['-c', 'echo "boom $X" >&2; exit 3'], { env: { X: secret } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ExecError);
  expect((err as Error).message).toContain('boom ****');
  expect((err as Error).message).not.toContain(secret);
});
