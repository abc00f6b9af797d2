import { run } from '../io/exec.js';

/** Is `dir` inside a git work tree? */
export async function isGitRepo(dir: string): Promise<boolean> {
  const r = await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, reject: false });
  return r.exitCode === 0 && r.stdout.trim() === 'true';
}

/** Does git ignore `path` (any pattern, any .gitignore, global excludes)? */
export async function isGitIgnored(dir: string, path: string): Promise<boolean> {
  const r = await run('git', ['check-ignore', '-q', '--', path], { cwd: dir, reject: false });
  return r.exitCode === 0;
}

/** Is `path` tracked by git (so ignoring it has no effect)? */
export async function isGitTracked(dir: string, path: string): Promise<boolean> {
  const r = await run('git', ['ls-files', '--error-unmatch', '--', path], { cwd: dir, reject: false });
  return r.exitCode === 0;
}
