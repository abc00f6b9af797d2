import { expect, test } from 'vitest';
import { sanitizePgError } from '../../src/db/admin.js';
import { addSecret, redact } from '../../src/io/secrets.js';

test('pg errors are redacted, and a lost connection becomes exit 3 with the next step', () => {
  addSecret('pg-secret-value-42');
  expect(sanitizePgError(new Error('bad url postgres://u:pg-secret-value-42@h/db')).message).not.toContain('pg-secret-value-42');
  const lost = sanitizePgError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })) as Error & { exitCode?: number; hint?: string };
  expect(lost.exitCode).toBe(3);
  expect(lost.hint).toMatch(/run pg-setup again/);
  expect(redact('x pg-secret-value-42 y')).toBe('x **** y');
});
