/**
 * ruff from PyPI (through uv), to check that pg-setup's code edits look hand-made: a file that
 * `ruff format --diff` and `ruff check --select I` found clean stays clean.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from '../../src/io/exec.js';

/** The real uv binary: pyenv's shim fails inside a project pinned to another Python. */
export function uvBinary(): string {
  const r = spawnSync('pyenv', ['which', 'uv'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p && existsSync(p) ? p : 'uv';
}

/** The project's own .py files (not the venv, not the Alembic folder pg-setup writes). */
export function pythonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name.startsWith('.') || name === '__pycache__' || name === 'alembic') continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.py')) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** Per file: what ruff would reformat or reorder (empty string when clean). Two ruff runs in all. */
export async function ruffFindings(dir: string, files: string[], lineLength = 88): Promise<Record<string, string>> {
  const uv = uvBinary();
  const env = { UV_PYTHON_DOWNLOADS: 'never', NO_COLOR: '1' };
  const ruff = ['tool', 'run', 'ruff'];
  const width = ['--line-length', String(lineLength)];
  const fmt = await run(uv, [...ruff, 'format', '--no-cache', '--check', ...width, ...files], { cwd: dir, env, reject: false });
  const imp = await run(uv, [...ruff, 'check', '--no-cache', '--select', 'I', ...width, '--output-format', 'concise', ...files], { cwd: dir, env, reject: false });
  const out: Record<string, string> = Object.fromEntries(files.map((f) => [f, '']));
  // Older ruff prints "Would reformat: f", newer a diagnostic with " --> f:line:col".
  for (const f of files) {
    if (fmt.stdout.split('\n').some((l) => l.trim() === `Would reformat: ${f}` || l.trim().startsWith(`--> ${f}:`))) out[f] = 'would reformat\n';
  }
  for (const line of imp.stdout.split('\n')) {
    const f = files.find((x) => line.startsWith(`${x}:`));
    if (f) out[f] = `${out[f]}${line}\n`;
  }
  return out;
}
