/**
 * src/db/pg-crypto.ts stands in for pg's own lib/crypto/utils.js in the bundle: for the same
 * inputs every function must give the same bytes as pg's Web Crypto version, or logins break.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import * as ours from '../../src/db/pg-crypto.js';

const theirs = createRequire(import.meta.url)('pg/lib/crypto/utils.js') as typeof ours;
const hex = (b: ArrayBuffer | Buffer) => Buffer.from(b as ArrayBuffer).toString('hex');

describe("pg's crypto helpers on Node's crypto", () => {
  test('PBKDF2 (SCRAM SaltedPassword) matches for several passwords, salts and iteration counts', async () => {
    for (const [password, iterations] of [['secret', 4096], ['pässwörd with spaces', 4096], ['', 1], ['x'.repeat(100), 10_000]] as const) {
      const salt = nodeRandomBytes(16);
      expect(hex(await ours.deriveKey(password, salt, iterations))).toBe(hex(await theirs.deriveKey(password, salt, iterations)));
    }
  });

  test('HMAC-SHA-256 and SHA-256 match, from Buffers and from ArrayBuffers', async () => {
    const key = nodeRandomBytes(32);
    const asArrayBuffer = key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength);
    for (const k of [key, asArrayBuffer]) {
      expect(hex(await ours.hmacSha256(k, 'Client Key'))).toBe(hex(await theirs.hmacSha256(k, 'Client Key')));
      expect(hex(await ours.sha256(k))).toBe(hex(await theirs.sha256(k)));
    }
    expect(hex(await ours.hashByName('SHA-512', key))).toBe(hex(await theirs.hashByName('SHA-512', key)));
  });

  test('MD5 password hash (AuthenticationMD5Password) matches', async () => {
    const salt = Buffer.from([1, 2, 3, 4]);
    expect(await ours.postgresMd5PasswordHash('app_user', 'pw', salt)).toBe(await theirs.postgresMd5PasswordHash('app_user', 'pw', salt));
  });

  test('randomBytes gives the length asked for', () => {
    expect(ours.randomBytes(18)).toHaveLength(18);
    expect(hex(ours.randomBytes(18))).not.toBe(hex(ours.randomBytes(18)));
  });
});
