import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Flags } from '../options/parse.js';
import { analyzeProject, type AnalysisOverrides, type ProjectAnalysis } from './analysis.js';

/**
 * Finding the project before anything is resolved: is there a Python project, what does its
 * analysis say (run once per folder and overrides), and which env key does its app read.
 */

/**
 * The project's analysis, read once while the project is unchanged: analysis.ts keeps the
 * analyzer's output by a fingerprint of the files it reads, so the env key, the plan and the
 * first step share one Python start, and a file changed meanwhile is read again.
 */
export async function analyzeOnce(projectDir: string, overrides: AnalysisOverrides): Promise<ProjectAnalysis> {
  return analyzeProject(projectDir, overrides);
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
