import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password, computed here (as psql's
 * \password does) so the plain password never reaches the server, its logs or pg_stat_activity.
 */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const normalized = password.normalize('NFKC');
  const salted = pbkdf2Sync(normalized, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A random URL-safe password: 32 chars from [A-Za-z0-9_-]. */
export function generatePassword(length = 32): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}
