import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { run, which } from '../io/exec.js';
import { pythonDir } from '../package-dir.js';
import { projectFingerprint } from './fingerprint.js';

/** A source range: 1-based lines, 0-based columns in code points, end exclusive. */
export interface Span {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export interface SettingsField {
  name: string;
  annotation: string;
  default: string | null;
  defaultIsSqlite: boolean;
  alias: string | null;
  line: number;
  endLine: number;
  /** From the end of the annotation to the end of a plain default value. */
  defaultSpan: Span | null;
}

export interface SettingsInfo {
  module: string;
  file: string;
  className: string;
  /** `settings = Settings()` (call false) or `def get_settings(): return Settings()` (call true). */
  instance: { module: string; name: string; call: boolean } | null;
  envPrefix: string;
  caseSensitive: boolean;
  fields: SettingsField[];
  /** The field that holds the database URL, with the env key that feeds it. */
  urlField: (SettingsField & { envKey: string; span: Span }) | null;
  insertAfterLine: number;
  /** Line of a lone `pass` in the class body, replaced when a field is added. */
  replacePassLine: number | null;
  indent: number;
  others: string[];
  /**
   * Whether the class reads an env file (env_file in model_config or class Config); when it
   * does not (`reads` false), the insertions that make it read `.env`. null: cannot tell.
   */
  envFile?: { reads: boolean | null; style: 'model_config' | 'Config' | 'none'; value: string | null; edits: { line: number; col: number; text: string }[] };
}

export interface BaseInfo {
  module: string;
  file: string | null;
  name: string;
  kind: 'class' | 'declarative_base()' | 'sqlmodel' | 'given';
  others?: string[];
}

export interface EngineKeyword {
  name: string;
  text: string;
  span: Span;
  valueSpan: Span;
  dict?: { key: string | null; span: Span }[];
}

export interface EngineCall {
  module: string;
  file: string;
  func: 'create_async_engine' | 'create_engine';
  span: Span;
  url: {
    text: string;
    span: Span;
    kind: 'literal' | 'constant' | 'expression';
    sqlite: boolean;
    constant?: { name: string; line: number; endLine: number; alone: boolean; uses: number; value: string | null; removeFrom?: number; removeTo?: number };
  } | null;
  keywords: EngineKeyword[];
  /** Spans of all arguments in source order (positional and keyword). */
  argSpans: Span[];
  /** How this module refers to the settings instance, when it already imports it. */
  settingsLocal: string | null;
  importInsertLine: number;
  /** The callee as written (`create_async_engine`, `sqlalchemy.create_engine`). */
  callee?: string;
  /** Every argument's source text, in order (keywords with their `name=`). */
  args?: { text: string; span: Span }[];
  /** Where `from <settings module> import <instance>` goes: its import section, sorted. */
  settingsImport?: ImportPlacement | null;
}

/** Insert `text` (whole lines, with any separating blank lines) after line `after`. */
export interface ImportPlacement {
  after: number;
  text: string;
}

/** An engine whose URL comes from no settings class: a constant, a literal or the environment. */
export interface UrlSourceInfo {
  module: string;
  file: string;
  engineLine: number;
  kind: 'constant' | 'literal' | 'environ';
  /** The module constant the engine reads, when it reads one. */
  constant?: string;
  url?: string;
  /** For constants and literals: a free module beside the engine for the new settings. */
  settingsModule?: { module: string; file: string; importLine: string };
  settingsImport?: ImportPlacement;
  environ?: { envKey: string; text: string; span: Span; sqliteFallback: boolean; hasFallback: boolean; replacement: string | null };
  /** Where `from dotenv import load_dotenv` and the call go; null when the app already loads .env. */
  dotenvImport?: ImportPlacement | null;
  dotenvCallAfter?: number | null;
}

/** A SQLite-only workaround the move makes wrong: flagged with file and line, never edited. */
export interface SqliteQuirk {
  kind: 'tz-replace';
  module: string;
  file: string;
  line: number;
  text: string;
  message: string;
}

export interface CreateAllCall {
  module: string;
  file: string;
  function: string | null;
  inStartup: boolean;
  text: string;
  line: number;
  /** First line to remove: the statement, or a comment just above that announces it. */
  removeFrom: number;
  /** Last line to remove: with a blank line that would otherwise double up. */
  removeTo?: number;
  /** `from x import …` statements whose names only this create_all used. */
  unusedImports?: { names: string[]; indexes: number[]; count: number; line: number; endLine: number; alone: boolean; aliasSpans: Span[]; aliasTexts?: string[] }[];
  endLine: number;
  indent: number;
  alone: boolean;
  leavesEmptyBody: boolean;
  /** False for a helper start-up reaches that a script also calls: its start-up call sites go instead. */
  remove?: boolean;
  /** Where the kept helper is also called (file:line). */
  keptFor?: string[];
  /** This entry is a start-up call of the helper `calls`, not a create_all. */
  isCall?: boolean;
  calls?: string;
}

export type ManagerKind = 'uv' | 'poetry' | 'pip' | 'unknown';

export interface ProjectAnalysis {
  projectDir: string;
  manager: {
    kind: ManagerKind;
    evidence: string;
    dependencies: { name: string; extras: string[] }[];
    venv: { dir: string; python: string; installed: string[]; madeBy?: 'uv' | 'venv' } | null;
    /** pip projects: where new requirements are written. */
    manifest?: 'requirements.txt' | 'pyproject.toml' | null;
  };
  parseErrors: { file: string; error: string }[];
  settings: SettingsInfo | null;
  base: BaseInfo | null;
  models: { modules: string[]; classes: { module: string; file: string; name: string; table: string | null }[] };
  engines: EngineCall[];
  createAll: CreateAllCall[];
  /** `rows`: rows in the file's tables, null when the file is missing or not SQLite. */
  sqlite: { module: string; file: string; line: number; url: string; path: string | null; rows: number | null }[];
  /** Without a settings class: where each engine's URL comes from (absent in old recordings). */
  urlSources?: UrlSourceInfo[];
  sqliteQuirks?: SqliteQuirk[];
  alembic: {
    ini: boolean;
    scriptLocation: string | null;
    iniUrl: boolean | null;
    dir: string | null;
    env: { targetMetadata: boolean; setsUrl: boolean; imports: string[]; error?: string } | null;
    revisions: { id: string; down: string[]; file: string }[];
    heads: string[];
  };
  isSqlalchemy: boolean;
  /** The folder the app's modules are imported from: `.`, or `src` when the start command uses `--app-dir src`. */
  importRoot?: string;
  /** What `--settings module:obj` names, when given: a settings instance, a URL constant, or something else. */
  settingsTarget?: { kind: 'settings' | 'url-constant' | 'function' | 'class' | 'other' | 'no-module' | 'no-name'; text: string } | null;
  /** The app's ASGI object (`app.main:app`) and the start command found for it. */
  asgi?: { module: string; name: string; file: string } | null;
}

/** Flags that name what the analysis could not find (or found wrongly). */
export interface AnalysisOverrides {
  /** `--settings module:obj` (or `module:get_settings()`). */
  settings?: string | undefined;
  /** `--url-field name`: the settings field that holds the database URL. */
  urlField?: string | undefined;
  /** `--base module:Base`. */
  base?: string | undefined;
  /** `--models mod1,mod2`: modules that define mapped classes. */
  models?: string[] | undefined;
}

/** How to start a Python that does not need the project's packages (the analyzer). */
export function plainPython(projectDir: string): { cmd: string; args: string[] } {
  const venvPy = findVenvPython(projectDir);
  if (venvPy) return { cmd: venvPy, args: [] };
  if (which('uv')) return { cmd: 'uv', args: ['run', '--no-project', 'python'] };
  const py = which('python3') ?? which('python');
  if (!py) {
    throw new UserError('No Python interpreter found to read the project.', {
      hint: 'Install Python 3.10+ or uv (https://docs.astral.sh/uv/), or create the project venv (.venv).',
      exitCode: ExitCode.project,
    });
  }
  return { cmd: py, args: [] };
}

/** The project venv's interpreter, if there is one (.venv or venv). */
export function findVenvPython(projectDir: string): string | undefined {
  for (const dir of ['.venv', 'venv']) {
    const py = process.platform === 'win32' ? join(projectDir, dir, 'Scripts', 'python.exe') : join(projectDir, dir, 'bin', 'python');
    if (existsSync(py)) return py;
  }
  return undefined;
}

/**
 * Read the project's layout with the ast-based helper (python/analyze.py).
 * Never imports the user's code, so it works before dependencies are installed.
 */
export async function analyzeProject(projectDir: string, overrides: AnalysisOverrides = {}): Promise<ProjectAnalysis> {
  const py = plainPython(projectDir);
  const script = join(pythonDir(), 'analyze.py');
  // Only the override fields, picked one by one: callers pass their whole context, secrets included.
  const picked: AnalysisOverrides = { settings: overrides.settings, urlField: overrides.urlField, base: overrides.base, models: overrides.models };
  const key = JSON.stringify([resolve(projectDir), picked, py]);
  // Taken before the analyzer runs: a file changed while it reads makes the next call miss.
  const fingerprint = await projectFingerprint(projectDir);
  const seen = analyses.get(key);
  if (seen?.fingerprint === fingerprint) return parseAnalysis(seen.stdout);
  const r = await run(py.cmd, [...py.args, script, projectDir, JSON.stringify(picked)], { cwd: projectDir, reject: false });
  if (r.exitCode !== 0) {
    throw new UserError(`Could not read the Python project in ${projectDir}.`, {
      hint: `The analyzer failed: ${r.stderr.split('\n').slice(-3).join(' ')}`,
      exitCode: ExitCode.project,
    });
  }
  const analysis = parseAnalysis(r.stdout);
  analyses.set(key, { fingerprint, stdout: r.stdout });
  return analysis;
}

/**
 * Only the Alembic part of the analysis (alembic.ini, env.py, the revisions and heads), read
 * without parsing the app's code again: what the scaffold step changes.
 */
export async function readAlembicSetup(projectDir: string): Promise<ProjectAnalysis['alembic']> {
  return (await readAnalysisPart(projectDir, 'alembic')).alembic;
}

/**
 * Only the dependency manager's part of the analysis (its kind, the declared dependencies,
 * the venv and its packages), read without parsing the app's code again: what the
 * dependency step changes.
 */
export async function readManager(projectDir: string): Promise<ProjectAnalysis['manager']> {
  return (await readAnalysisPart(projectDir, 'manager')).manager;
}

async function readAnalysisPart<K extends 'alembic' | 'manager'>(projectDir: string, part: K): Promise<Pick<ProjectAnalysis, K>> {
  const py = plainPython(projectDir);
  const r = await run(py.cmd, [...py.args, join(pythonDir(), 'analyze.py'), projectDir, `--${part}-only`], { cwd: projectDir, reject: false });
  if (r.exitCode !== 0) {
    throw new UserError(`Could not read the ${part === 'alembic' ? 'Alembic setup' : 'dependencies'} in ${projectDir}.`, {
      hint: `The analyzer failed: ${r.stderr.split('\n').slice(-3).join(' ')}`,
      exitCode: ExitCode.project,
    });
  }
  return parseAnalysis(r.stdout) as unknown as Pick<ProjectAnalysis, K>;
}

/**
 * The analyzer's output in this process, by project, overrides and interpreter, with the
 * fingerprint of the files it read. One run reads an unchanged project several times (the env
 * key, the preview, the first step): each of those is a Python start that grows with the code.
 * Each hit is parsed again, so no caller shares an object with another.
 */
const analyses = new Map<string, { fingerprint: string; stdout: string }>();

/** Forget every stored analysis: after pg-setup wrote to the project, read it afresh. */
export function forgetAnalyses(): void {
  analyses.clear();
}

/** Parse the analyzer's JSON output (the last line: uv may print notes before it). */
export function parseAnalysis(stdout: string): ProjectAnalysis {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ProjectAnalysis;
  } catch {
    throw new UserError('The project analyzer printed something that is not JSON.', {
      hint: 'Run again with a working Python 3.10+; report a bug if it persists.',
      exitCode: ExitCode.project,
    });
  }
}

/** What the analysis could not find, each with the flag that supplies it. */
export function findGaps(a: ProjectAnalysis): { what: string; flag: string }[] {
  const gaps: { what: string; flag: string }[] = [];
  if (!a.settings && !a.urlSources?.length) gaps.push({ what: 'a pydantic BaseSettings class', flag: '--settings module:obj' });
  else if (a.settings && !a.settings.instance) gaps.push({ what: `an instance of ${a.settings.className} (settings = ${a.settings.className}())`, flag: '--settings module:obj' });
  if (!a.base) gaps.push({ what: 'the declarative base (class Base(DeclarativeBase) or declarative_base())', flag: '--base module:Base' });
  if (a.base && a.models.modules.length === 0) gaps.push({ what: 'modules that define mapped classes', flag: '--models mod1,mod2' });
  return gaps;
}
