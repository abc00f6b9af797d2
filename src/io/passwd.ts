import { readFileSync } from 'node:fs';

/** One line of /etc/passwd. */
export interface PasswdEntry {
  user: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

let cached: PasswdEntry[] | undefined;

/**
 * The users in /etc/passwd, read once per run (a file read instead of spawning `id`, on every
 * start). Empty where there is no such file.
 */
export function passwdEntries(): PasswdEntry[] {
  if (cached) return cached;
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No /etc/passwd (Windows): nobody to switch to.
  }
  cached = [];
  for (const line of text.split('\n')) {
    const [user, , uid, gid, , home, shell] = line.split(':');
    if (!user || !uid || !gid || !Number.isInteger(Number(uid)) || !Number.isInteger(Number(gid))) continue;
    cached.push({ user, uid: Number(uid), gid: Number(gid), home: home ?? '/', shell: shell ?? '/bin/sh' });
  }
  return cached;
}
