import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Flags } from '../options/parse.js';
import type { AnalysisOverrides, ProjectAnalysis } from './analysis.js';

/**
 * Finding the project before anything is resolved: is there a Python project, what does its
 * analysis say (run once per folder and overrides), and which env key does its app read.
 */

const analyses = new Map<string, Promise<ProjectAnalysis>>();

/** One analysis per project folder and overrides in a run: the env key and the plan read the same one. */
export function analyzeOnce(projectDir: string, overrides: AnalysisOverrides): Promise<ProjectAnalysis> {
  const picked = { settings: overrides.settings, urlField: overrides.urlField, base: overrides.base, models: overrides.models };
  const key = `${projectDir}\0${JSON.stringify(picked)}`;
  let p = analyses.get(key);
  if (!p) {
    p = import('../project/analysis.js').then(({ analyzeProject }) => analyzeProject(projectDir, picked));
    analyses.set(key, p);
  }
  return p;
}

/**
 * The env key the project's settings read (SQLALCHEMY_DATABASE_URI, ...), from the analysis,
 * before any option is resolved: the env file is then read under the key the app uses.
 * Undefined when there is no project, no URL field, or the analysis fails (setup reports it later).
 */
export async function settleProjectEnvKey(flags: Flags, cwd: string): Promise<string | undefined> {
  const projectDir = resolve(cwd, flags['project-dir'] ?? '.');
  try {
    if (!looksLikePythonProject(projectDir)) return undefined;
    const models = flags.models?.split(',').map((m) => m.trim()).filter(Boolean);
    const a = await analyzeOnce(projectDir, { settings: flags.settings, urlField: flags['url-field'], base: flags.base, models });
    return a.isSqlalchemy ? projectEnvKey(a) : undefined;
  } catch {
    return undefined;
  }
}

/** The env key the app itself reads: its settings field's, else the one its os.getenv/os.environ names. */
export function projectEnvKey(a: ProjectAnalysis): string | undefined {
  if (a.settings) return a.settings.urlField?.envKey ?? undefined;
  return a.urlSources?.find((u) => u.environ)?.environ?.envKey ?? undefined;
}

/** Any sign of Python: a manifest, or a .py file in the folder or one level down. */
export function looksLikePythonProject(dir: string): boolean {
  if (['pyproject.toml', 'requirements.txt', 'setup.py', 'Pipfile'].some((f) => existsSync(join(dir, f)))) return true;
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name.endsWith('.py'))) return true;
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .some((d) => {
      try {
        return readdirSync(join(dir, d.name)).some((f) => f.endsWith('.py'));
      } catch {
        return false;
      }
    });
}
