import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { which } from '../io/exec.js';
import type { Driver } from '../db/url.js';
import { findVenvPython, type ProjectAnalysis } from './analysis.js';

/** A command to run in the project folder. */
export interface Command {
  cmd: string;
  args: string[];
}

export interface DependencyPlan {
  /** Requirement specs the project needs, e.g. `psycopg[binary]`, `alembic`. */
  required: string[];
  /** Specs not declared in the project's manifest. */
  missing: string[];
  /** Declared but not installed in the project venv (needs a sync). */
  notInstalled: string[];
  commands: Command[];
  /** Lines to append to requirements.txt (pip projects). */
  requirementLines: string[];
  /** Where those lines go: requirements.txt, or [project].dependencies of pyproject.toml. */
  manifest?: 'requirements.txt' | 'pyproject.toml';
}

/** The packages pg-setup needs in the project for a driver and migration choice. */
export function requiredPackages(driver: Driver, alembic: boolean): { spec: string; name: string }[] {
  const pkgs = [driver === 'asyncpg' ? { spec: 'asyncpg', name: 'asyncpg' } : { spec: 'psycopg[binary]', name: 'psycopg' }];
  if (alembic) pkgs.push({ spec: 'alembic', name: 'alembic' });
  return pkgs;
}

/**
 * Decide what to add with the project's own manager (uv add, poetry add, pip in the venv).
 * Pure: the commands are returned, not run. Never the global Python.
 */
export function planDependencies(a: ProjectAnalysis, driver: Driver, alembic: boolean, extra: { spec: string; name: string }[] = []): DependencyPlan {
  // `extra`: what the code edits need (pydantic-settings for a new settings module, python-dotenv).
  const pkgs = [...requiredPackages(driver, alembic), ...extra];
  const declared = new Set(a.manager.dependencies.map((d) => d.name));
  const installed = a.manager.venv ? new Set(a.manager.venv.installed) : undefined;
  const missing = pkgs.filter((p) => !declared.has(p.name)).map((p) => p.spec);
  // Without a venv we cannot tell (poetry keeps it elsewhere): trust the manifest.
  const notInstalled = installed ? pkgs.filter((p) => declared.has(p.name) && !installed.has(p.name)).map((p) => p.spec) : [];
  const plan: DependencyPlan = { required: pkgs.map((p) => p.spec), missing, notInstalled, commands: [], requirementLines: [] };
  if (missing.length === 0 && notInstalled.length === 0) return plan;
  switch (a.manager.kind) {
    case 'uv':
      plan.commands.push(missing.length ? { cmd: 'uv', args: ['add', ...missing] } : { cmd: 'uv', args: ['sync'] });
      break;
    case 'poetry':
      plan.commands.push(missing.length ? { cmd: 'poetry', args: ['add', ...missing] } : { cmd: 'poetry', args: ['install'] });
      break;
    case 'pip': {
      const py = a.manager.venv?.python;
      if (!py) {
        throw new UserError('This pip project has no virtual environment (.venv or venv), and pg-setup never installs into the global Python.', {
          hint: 'Create one (python3 -m venv .venv && .venv/bin/pip install -r requirements.txt), then run pg-setup again.',
          exitCode: ExitCode.project,
        });
      }
      plan.commands.push({ cmd: py, args: ['-m', 'pip', 'install', '--quiet', ...missing, ...notInstalled] });
      plan.requirementLines = missing;
      plan.manifest = a.manager.manifest ?? 'requirements.txt';
      break;
    }
    default:
      throw new UserError(`Cannot tell how this project manages its Python dependencies (${a.manager.evidence}).`, {
        hint: `Add ${missing.join(' and ')} yourself (uv add / poetry add / pip install), or create a pyproject.toml (uv init) and run pg-setup again.`,
        exitCode: ExitCode.project,
      });
  }
  return plan;
}

/** The encodings pip reads a requirements file in: a BOM names UTF-8, UTF-16 LE or BE; else UTF-8. */
type TextEncoding = 'utf8' | 'utf8-bom' | 'utf16le' | 'utf16be';

/** Decode a requirements file as pip does, keeping what is needed to write it back the same way. */
export function decodeRequirements(buf: Buffer): { text: string; encoding: TextEncoding } {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return { text: buf.subarray(3).toString('utf8'), encoding: 'utf8-bom' };
  if (buf[0] === 0xff && buf[1] === 0xfe) return { text: buf.subarray(2).toString('utf16le'), encoding: 'utf16le' };
  if (buf[0] === 0xfe && buf[1] === 0xff) return { text: Buffer.from(buf.subarray(2)).swap16().toString('utf16le'), encoding: 'utf16be' };
  return { text: buf.toString('utf8'), encoding: 'utf8' };
}

export function encodeRequirements(text: string, encoding: TextEncoding): Buffer {
  switch (encoding) {
    case 'utf8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf16be':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    default:
      return Buffer.from(text, 'utf8');
  }
}

/** requirements text with `lines` appended, in its own line endings (CRLF stays CRLF). Pure. */
export function appendRequirementLines(current: string, lines: string[]): string {
  const eol = current.includes('\r\n') ? '\r\n' : '\n';
  const sep = current === '' || current.endsWith('\n') ? '' : eol;
  return `${current}${sep}${lines.join(eol)}${eol}`;
}

/** requirements.txt with `lines` appended, as bytes in the file's own encoding and line endings. */
export async function appendRequirements(projectDir: string, lines: string[]): Promise<Buffer> {
  const { text, encoding } = decodeRequirements(await readFile(join(projectDir, 'requirements.txt')));
  return encodeRequirements(appendRequirementLines(text, lines), encoding);
}

/** How to run Python with the project's packages: its venv, else its manager's runner. */
export function projectPython(a: Pick<ProjectAnalysis, 'projectDir'> & { manager: Pick<ProjectAnalysis['manager'], 'kind'> }): Command {
  const venvPy = findVenvPython(a.projectDir);
  if (venvPy) return { cmd: venvPy, args: [] };
  if (a.manager.kind === 'uv' && which('uv')) return { cmd: 'uv', args: ['run', 'python'] };
  if (a.manager.kind === 'poetry' && which('poetry')) return { cmd: 'poetry', args: ['run', 'python'] };
  throw new UserError('Found no Python environment with the project installed.', {
    hint: 'Create the project venv (uv sync, poetry install, or python3 -m venv .venv + pip install), then run pg-setup again.',
    exitCode: ExitCode.project,
  });
}

/** How the user runs the project's tools: `uv run `, `poetry run `, or the venv's bin folder. */
export function runnerPrefix(a: ProjectAnalysis): string {
  if (a.manager.kind === 'uv') return 'uv run ';
  if (a.manager.kind === 'poetry') return 'poetry run ';
  if (a.manager.venv) return process.platform === 'win32' ? `${a.manager.venv.dir}\\Scripts\\` : `${a.manager.venv.dir}/bin/`;
  return '';
}

/** The app's start command as the user would type it, from its manager and its ASGI object. */
export function startCommand(a: ProjectAnalysis): string | undefined {
  if (!a.asgi) return undefined;
  const appDir = a.importRoot && a.importRoot !== '.' ? ` --app-dir ${a.importRoot}` : '';
  return `${runnerPrefix(a)}uvicorn ${a.asgi.module}:${a.asgi.name}${appDir}`;
}

/**
 * pyproject.toml with `specs` added to [project].dependencies, in the array's own layout (one
 * item a line, or all on one line). Pure; undefined when there is no such array to extend.
 */
export function addProjectDependencies(toml: string, specs: string[]): string | undefined {
  const eol = toml.includes('\r\n') ? '\r\n' : '\n';
  const lines = toml.split(/\r?\n/);
  let inProject = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = /^\s*\[([^\]]+)\]\s*(#.*)?$/.exec(line);
    if (header) inProject = header[1]!.trim() === 'project';
    if (!inProject || !/^\s*dependencies\s*=\s*\[/.test(line)) continue;
    const end = closingBracket(lines, i, line.indexOf('[') + 1);
    if (!end) return undefined;
    const quoted = specs.map((s) => `"${s}"`);
    if (end.line === i) {
      const open = line.indexOf('[') + 1;
      const inner = line.slice(open, end.col);
      const body = inner.trim() === '' ? quoted.join(', ') : `${inner.replace(/,?\s*$/, '')}, ${quoted.join(', ')}`;
      lines[i] = line.slice(0, open) + body + line.slice(end.col);
      return lines.join(eol);
    }
    // One item a line: new items go before the closing bracket, indented like the last one.
    let last = end.line - 1;
    while (last > i && lines[last]!.trim() === '') last--;
    const indent = last > i ? /^\s*/.exec(lines[last]!)![0] : '    ';
    if (last > i && !/,\s*(#.*)?$/.test(lines[last]!)) lines[last] = lines[last]!.replace(/(\s*(#.*)?)$/, ',$1');
    lines.splice(last + 1, 0, ...quoted.map((q) => `${indent}${q},`));
    return lines.join(eol);
  }
  return undefined;
}

/** Where the array opened at (line, col) closes, skipping brackets inside strings and comments. */
function closingBracket(lines: string[], line: number, col: number): { line: number; col: number } | undefined {
  let depth = 1;
  for (let l = line; l < lines.length; l++) {
    const text = lines[l]!;
    let quote: string | undefined;
    for (let c = l === line ? col : 0; c < text.length; c++) {
      const ch = text[c]!;
      if (quote) {
        if (ch === '\\' && quote === '"') c++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '#') break;
      else if (ch === '[') depth++;
      else if (ch === ']' && --depth === 0) return { line: l, col: c };
    }
  }
  return undefined;
}
