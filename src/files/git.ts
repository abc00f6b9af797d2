import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { run } from '../io/exec.js';

/**
 * Is `dir` inside a git work tree? Looks for `.git` upwards instead of spawning git: this runs
 * on every setup, and most answers are found without a child process.
 */
export function isGitRepo(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/** Which of `paths` git ignores (any pattern, any .gitignore, global excludes), in one call. */
export async function gitIgnoredOf(dir: string, paths: string[]): Promise<Set<string>> {
  const r = await run('git', ['check-ignore', '--', ...paths], { cwd: dir, reject: false });
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

/** Is `path` tracked by git (so ignoring it has no effect)? */
export async function isGitTracked(dir: string, path: string): Promise<boolean> {
  const r = await run('git', ['ls-files', '--error-unmatch', '--', path], { cwd: dir, reject: false });
  return r.exitCode === 0;
}
