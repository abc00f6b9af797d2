import { usageError } from '../errors.js';
import type { EngineCall, ProjectAnalysis, UrlSourceInfo } from './analysis.js';
import { insertAfterLine, removeLines, type TextEdit } from './text-edits.js';

/** How the app's code reaches the database URL, decided from the analysis. */
export interface UrlSource {
  /** Module and name to import the settings object from. */
  module: string;
  name: string;
  /** The settings field holding the URL (existing or to be added). */
  field: string;
  envKey: string;
  /** Python expression for the URL as a str, given the import above: `settings.database_url`. */
  expr: string;
  /** True when the field exists already (reused, not added). */
  reused: boolean;
  /** The app reads the URL from the environment after load_dotenv(): env.py must load .env first. */
  loadDotenv?: boolean;
}

/** What one engine's URL argument becomes, and the edits that go with it. */
export interface EngineUrlTarget {
  /** The new URL argument; null leaves it as it is. */
  text: string | null;
  importEdit?: TextEdit | undefined;
  /** The module constant that only fed this engine. */
  removeConstant?: TextEdit | undefined;
}


/** How a project without a settings class gets its URL from `.env`, and the edits for it. */
export interface UrlSourcePlan {
  url: UrlSource;
  /** Edits outside the engine calls: the new settings module, loading `.env`, the fallback. */
  edits: { file: string; edit: TextEdit }[];
  /** Per engine call (`file:line`): what its URL argument becomes. */
  engines: Map<string, EngineUrlTarget>;
  packages: { spec: string; name: string }[];
}

const PYDANTIC_SETTINGS = { spec: 'pydantic-settings', name: 'pydantic-settings' };
const PYTHON_DOTENV = { spec: 'python-dotenv', name: 'python-dotenv' };

/**
 * The project has no settings class. Keep its own idiom when it reads the environment
 * (os.getenv / os.environ: make sure `.env` is loaded, drop the SQLite fallback); otherwise
 * introduce the tutorial's: a small pydantic-settings module beside the engine, and the
 * constant or literal replaced by `settings.database_url`. Undefined when no engine's URL
 * is one pg-setup can take over.
 */
export function planUrlSourceWiring(a: ProjectAnalysis, envKey: string): UrlSourcePlan | undefined {
  const sources = a.urlSources ?? [];
  const environ = sources.filter((s) => s.kind === 'environ');
  if (environ.length) return planEnviron(a, environ, envKey);
  const owned = sources.filter((s) => s.settingsModule && s.settingsModule.module === sources[0]?.settingsModule?.module);
  return owned.length ? planSettingsModule(a, owned, envKey) : undefined;
}

function planEnviron(a: ProjectAnalysis, sources: UrlSourceInfo[], envKey: string): UrlSourcePlan {
  const key = sources[0]!.environ!.envKey;
  if (key !== envKey) {
    throw usageError(`The app reads its URL from the env var ${key}, but the env file is set up with ${envKey}.`, `Pass --env-key ${key} so the app finds its URL.`);
  }
  const edits: UrlSourcePlan['edits'] = [];
  const engines = new Map<string, EngineUrlTarget>();
  for (const s of sources) {
    const env = s.environ!;
    const engine = engineOf(a, s);
    if (env.replacement) {
      const edit: TextEdit = {
        start: { line: env.span.line, col: env.span.col },
        end: { line: env.span.endLine, col: env.span.endCol },
        text: env.replacement,
        reason: `drop the SQLite fallback: ${env.replacement} comes from .env, and a missing key fails loudly`,
      };
      const inline = engine?.url && engine.url.span.line === env.span.line && engine.url.span.col === env.span.col;
      if (inline && engine) engines.set(`${engine.file}:${engine.span.line}`, { text: env.replacement });
      else edits.push({ file: s.file, edit });
    }
    if (s.dotenvImport && s.dotenvCallAfter != null) {
      const reason = `load .env with python-dotenv before ${key} is read`;
      const call = '\nload_dotenv()\n';
      // One insertion when both land after the same line: the import must come first.
      if (s.dotenvImport.after === s.dotenvCallAfter) {
        edits.push({ file: s.file, edit: insertAfterLine(s.dotenvCallAfter, s.dotenvImport.text + call, reason) });
      } else {
        edits.push({ file: s.file, edit: insertAfterLine(s.dotenvImport.after, s.dotenvImport.text, reason) });
        edits.push({ file: s.file, edit: insertAfterLine(s.dotenvCallAfter, call, reason) });
      }
    }
  }
  return {
    url: { module: 'os', name: 'environ', field: key, envKey: key, expr: `environ["${key}"]`, reused: true, loadDotenv: true },
    edits,
    engines,
    packages: [PYTHON_DOTENV],
  };
}

function planSettingsModule(a: ProjectAnalysis, sources: UrlSourceInfo[], envKey: string): UrlSourcePlan {
  const target = sources[0]!.settingsModule!;
  const field = envKey.toLowerCase();
  if (!/^[a-z_][a-z0-9_]*$/.test(field)) throw usageError(`${envKey} cannot be a Python field name.`, 'Pass --env-key DATABASE_URL.');
  const engines = new Map<string, EngineUrlTarget>();
  for (const s of sources) {
    const engine = engineOf(a, s);
    if (!engine) continue;
    const importEdit = s.settingsImport ? insertAfterLine(s.settingsImport.after, s.settingsImport.text, `import settings from ${target.module}`) : undefined;
    engines.set(`${engine.file}:${engine.span.line}`, { text: `settings.${field}`, importEdit, removeConstant: constantRemoval(engine, s.kind === 'constant') });
  }
  return {
    url: { module: target.module, name: 'settings', field, envKey, expr: `settings.${field}`, reused: false },
    edits: [{ file: target.file, edit: insertAfterLine(0, renderSettingsModule(field), `new ${target.file}: pydantic settings that read ${envKey} from .env`) }],
    engines,
    packages: [PYDANTIC_SETTINGS],
  };
}

/** The tutorial's settings module: one class reading `.env`, one instance. */
export function renderSettingsModule(field: string): string {
  return [
    '"""Settings read from the environment and .env."""',
    '',
    'from pydantic_settings import BaseSettings, SettingsConfigDict',
    '',
    '',
    'class Settings(BaseSettings):',
    '    # extra="ignore": .env may hold keys that are not settings.',
    '    model_config = SettingsConfigDict(env_file=".env", extra="ignore")',
    '',
    `    ${field}: str`,
    '',
    '',
    'settings = Settings()',
    '',
  ].join('\n');
}

function engineOf(a: ProjectAnalysis, s: UrlSourceInfo): EngineCall | undefined {
  return a.engines.find((e) => e.file === s.file && e.span.line === s.engineLine);
}

/**
 * Remove the SQLite URL constant that only this engine read, with its comment and a blank
 * line that would double up. `named` also takes a non-SQLite constant (named by --settings).
 */
export function constantRemoval(engine: EngineCall, named = false): TextEdit | undefined {
  const u = engine.url;
  const c = u?.kind === 'constant' ? u.constant : undefined;
  if (!c || c.uses !== 1 || !c.alone || !(u?.sqlite || named)) return undefined;
  return removeLines(c.removeFrom ?? c.line, c.removeTo ?? c.endLine, `remove the unused ${c.name}`);
}
