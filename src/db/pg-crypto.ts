import { createHash, createHmac, pbkdf2, randomBytes as nodeRandomBytes } from 'node:crypto';

/**
 * What pg's `lib/crypto/utils.js` exports, on Node's own crypto instead of Web Crypto. The bundle
 * (scripts/build.mjs) gives pg this module in place of that file: same functions, same results
 * (test/unit/pg-crypto.test.ts compares them), but Node's HMAC, hash and PBKDF2 need no
 * `crypto.subtle`, whose first use loads Node's Web Crypto layer and costs ~10 ms per run that
 * logs in with SCRAM (everything pg-setup connects to). pg uses Web Crypto only so that one file
 * serves Node, Deno and Workers alike; this runs on Node only.
 */

export function randomBytes(length: number): Buffer {
  return nodeRandomBytes(length);
}

export async function md5(text: string | Buffer): Promise<string> {
  return createHash('md5').update(text).digest('hex');
}

/** AuthenticationMD5Password: 'md5' + md5(md5(password + user) + salt). */
export async function postgresMd5PasswordHash(user: string, password: string, salt: Buffer): Promise<string> {
  const inner = await md5(password + user);
  return 'md5' + (await md5(Buffer.concat([Buffer.from(inner), salt])));
}

export async function sha256(data: Buffer | ArrayBuffer | Uint8Array): Promise<Buffer> {
  return createHash('sha256').update(bytes(data)).digest();
}

/** A Web Crypto hash name ('SHA-256', 'SHA-512', ...) over `data`. */
export async function hashByName(hashName: string, data: Buffer | ArrayBuffer | Uint8Array): Promise<Buffer> {
  return createHash(hashName.replace('-', '').toLowerCase()).update(bytes(data)).digest();
}

export async function hmacSha256(key: Buffer | ArrayBuffer | Uint8Array, msg: string): Promise<Buffer> {
  return createHmac('sha256', bytes(key)).update(msg, 'utf8').digest();
}

/** PBKDF2-HMAC-SHA-256, 32 bytes: SCRAM's SaltedPassword (in the thread pool, as Web Crypto does it). */
export function deriveKey(password: string, salt: Uint8Array, iterations: number): Promise<Buffer> {
  return new Promise((done, fail) => pbkdf2(password, salt, iterations, 32, 'sha256', (e, key) => (e ? fail(e) : done(key))));
}

function bytes(data: Buffer | ArrayBuffer | Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
