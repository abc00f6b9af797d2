import { readFileSync } from 'node:fs';

export type Platform = 'macos' | 'debian' | 'linux' | 'windows' | 'other';

/**
 * The platform as far as provider choice cares: macOS (Homebrew), Debian/Ubuntu and
 * derivatives (apt, from ID/ID_LIKE in os-release), other Linux, Windows.
 */
export function detectPlatform(osRelease = '/etc/os-release'): Platform {
  if (process.platform === 'darwin') return 'macos';
  if (process.platform === 'win32') return 'windows';
  if (process.platform !== 'linux') return 'other';
  let text = '';
  try {
    text = readFileSync(osRelease, 'utf8');
  } catch {
    return 'linux';
  }
  const ids = [...text.matchAll(/^(?:ID|ID_LIKE)=("?)([^"\n]*)\1$/gm)].flatMap((m) => (m[2] ?? '').split(/\s+/));
  return ids.some((id) => id === 'debian' || id === 'ubuntu') ? 'debian' : 'linux';
}

/** True when the process runs as root (uid 0). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
