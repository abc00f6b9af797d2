import { ExitCode, UserError, usageError } from '../errors.js';
import type { EngineCall, ProjectAnalysis, SettingsInfo } from './analysis.js';
import { insertAfterLine, removeLines, removeListItem, type TextEdit } from './text-edits.js';
import { constantRemoval, planUrlSourceWiring, type EngineUrlTarget, type UrlSource } from './wiring-url-source.js';


/** The code changes the wiring step makes, per file (relative path), and what it left alone. */
export interface WiringPlan {
  url: UrlSource;
  edits: Record<string, TextEdit[]>;
  notes: string[];
  /** Packages the edited code needs (pydantic-settings for a new settings module, python-dotenv). */
  packages: { spec: string; name: string }[];
}

/**
 * Decide where the URL comes from: reuse a URL field of the settings class, or add
 * `database_url: str`. Throws a UserError naming the flag when the settings are missing
 * or read another env key than the one the env file uses.
 */
export function chooseUrlSource(a: ProjectAnalysis, envKey: string): UrlSource {
  const s = a.settings;
  if (!s) {
    throw new UserError('No pydantic settings class (a BaseSettings subclass) was found in the project.', {
      hint: 'Pass --settings module:obj (e.g. --settings app.config:settings), or add a Settings(BaseSettings) class with an instance.',
      exitCode: ExitCode.project,
    });
  }
  if (!s.instance) {
    throw new UserError(`Found ${s.module}.${s.className} but no instance of it (settings = ${s.className}()).`, {
      hint: 'Pass --settings module:obj naming the settings object, or module:get_settings() for a factory.',
      exitCode: ExitCode.project,
    });
  }
  const objExpr = s.instance.call ? `${s.instance.name}()` : s.instance.name;
  if (s.urlField) {
    const f = s.urlField;
    if (!sameKey(f.envKey, envKey, s.caseSensitive)) {
      throw usageError(
        `The settings field ${s.className}.${f.name} reads the env var ${f.envKey}, but the env file is set up with ${envKey}.`,
        `Pass --env-key ${f.envKey} so the app finds its URL (or --url-field to name another field).`,
      );
    }
    return { module: s.instance.module, name: s.instance.name, field: f.name, envKey: f.envKey, expr: urlExpression(`${objExpr}.${f.name}`, f.annotation), reused: true };
  }
  const prefix = s.envPrefix;
  if (prefix && !envKey.toUpperCase().startsWith(prefix.toUpperCase())) {
    throw usageError(
      `${s.className} reads env vars with the prefix ${prefix}, so a new field cannot read ${envKey}.`,
      `Pass --env-key ${prefix.toUpperCase()}${envKey}.`,
    );
  }
  const field = envKey.slice(prefix.length).toLowerCase();
  if (!/^[a-z_][a-z0-9_]*$/.test(field)) throw usageError(`${envKey} cannot be a Python field name.`, 'Pass --env-key DATABASE_URL.');
  return { module: s.instance.module, name: s.instance.name, field, envKey, expr: `${objExpr}.${field}`, reused: false };
}

function sameKey(a: string, b: string, caseSensitive: boolean): boolean {
  return caseSensitive ? a === b : a.toUpperCase() === b.toUpperCase();
}

/** `settings.db` as a str: SecretStr needs unwrapping, DSN types need str(). */
export function urlExpression(access: string, annotation: string): string {
  if (/SecretStr/.test(annotation)) return `${access}.get_secret_value()`;
  if (/^\s*str\s*$/.test(annotation)) return access;
  return `str(${access})`;
}

/**
 * All code edits that wire the project to PostgreSQL: the settings field, each engine's URL
 * and SQLite-only connect_args, and create_all in startup code (unless migrations are off).
 * Pure: an analysis of already-wired code yields no edits.
 */
export function planWiring(a: ProjectAnalysis, opts: { envKey: string; envFile?: string | undefined; removeCreateAll: boolean }): WiringPlan {
  const edits: Record<string, TextEdit[]> = {};
  const notes: string[] = [];
  const add = (file: string, e: TextEdit) => (edits[file] ??= []).push(e);
  // No settings class: take over the constant, the literal or the os.environ read instead.
  const noSettings = a.settings ? undefined : planUrlSourceWiring(a, opts.envKey);
  const url = noSettings?.url ?? chooseUrlSource(a, opts.envKey);
  const packages = noSettings?.packages ?? [];

  if (noSettings) {
    for (const { file, edit } of noSettings.edits) add(file, edit);
    for (const engine of a.engines) {
      const target = noSettings.engines.get(`${engine.file}:${engine.span.line}`);
      planEngine(engine, target ?? null, add);
    }
  } else {
    planSettingsField(a.settings as SettingsInfo, url, add, opts.envFile);
    for (const engine of a.engines) planEngine(engine, settingsTarget(engine, url, notes), add);
  }

  for (const c of a.createAll) {
    const where = `${c.file}:${c.line}`;
    if (!opts.removeCreateAll) {
      notes.push(`kept create_all at ${where} (--migrations none)`);
    } else if (!c.inStartup) {
      notes.push(`left create_all at ${where} alone: it is not in startup code`);
    } else if (c.remove === false) {
      notes.push(`kept ${c.function ?? 'the helper'} (create_all at ${where}): ${(c.keptFor ?? []).join(', ')} also call${(c.keptFor ?? []).length === 1 ? 's' : ''} it; only the start-up's call of it goes`);
    } else if (!c.alone) {
      notes.push(`create_all at ${where} shares its line with other code: remove it by hand`);
    } else {
      const pass = c.leavesEmptyBody ? `${' '.repeat(c.indent)}pass\n` : '';
      const what = c.isCall ? `the call of ${c.calls}() (it runs create_all)` : 'create_all';
      add(c.file, removeLines(c.removeFrom, c.removeTo ?? c.endLine, `remove ${what} from ${c.function ?? 'module level'}: Alembic manages the schema`, pass));
      for (const imp of c.unusedImports ?? []) {
        const reason = `drop the import of ${imp.names.join(', ')}, unused once create_all is gone`;
        if (imp.indexes.length === imp.count && imp.alone) add(c.file, removeLines(imp.line, imp.endLine, reason));
        else if (imp.indexes.length === 1) add(c.file, removeListItem(imp.aliasSpans, imp.indexes[0]!, reason));
        else if (imp.line === imp.endLine && imp.aliasTexts) {
          // Several names on one line: the kept ones, joined as the line had them.
          const first = imp.aliasSpans[0]!;
          const last = imp.aliasSpans[imp.aliasSpans.length - 1]!;
          const kept = imp.aliasTexts.filter((_, i) => !imp.indexes.includes(i)).join(', ');
          add(c.file, { start: { line: first.line, col: first.col }, end: { line: last.endLine, col: last.endCol }, text: kept, reason });
        } else notes.push(`${imp.names.join(', ')} in ${c.file}:${imp.line} may be unused now`);
      }
    }
  }
  for (const q of a.sqliteQuirks ?? []) notes.push(`check ${q.file}:${q.line}: ${q.message}`);
  return { url, edits, notes, packages };
}

/** The settings class gets the URL field, or its reused field loses its SQLite default. */
function planSettingsField(settings: SettingsInfo, url: UrlSource, add: (file: string, e: TextEdit) => void, envFile: string | undefined): void {
  if (!url.reused) {
    const line = `${' '.repeat(settings.indent)}${url.field}: str\n`;
    const reason = `add ${url.field}: str to ${settings.className} (read from ${url.envKey})`;
    if (settings.replacePassLine) add(settings.file, removeLines(settings.replacePassLine, settings.replacePassLine, reason, line));
    else add(settings.file, insertAfterLine(settings.insertAfterLine, line, reason));
  } else if (settings.urlField?.defaultIsSqlite && settings.urlField.defaultSpan) {
    const d = settings.urlField.defaultSpan;
    add(settings.file, {
      start: { line: d.line, col: d.col },
      end: { line: d.endLine, col: d.endCol },
      text: '',
      reason: `drop the SQLite default of ${settings.className}.${url.field}: the URL comes from ${url.envKey}`,
    });
  }

  // Without env_file the settings never see the URL written to .env: merge it into their config.
  if (settings.envFile?.reads === false) {
    const where = settings.envFile.style === 'Config' ? 'class Config' : settings.envFile.style === 'model_config' ? 'model_config' : 'a new model_config';
    // pydantic reads env_file from the working directory: the project folder the app starts in.
    const file = envFile && !envFile.startsWith('..') ? envFile : '.env';
    const reason = `make ${settings.className} read ${file} (env_file in ${where}): the URL is written there`;
    for (const e of settings.envFile.edits) {
      add(settings.file, { start: { line: e.line, col: e.col }, end: { line: e.line, col: e.col }, text: e.text.replace('".env"', JSON.stringify(file)), reason });
    }
  }
}

/** A line this long still fits (ruff's and black's default). */
const LINE_LENGTH = 88;

/** The engine's URL from the settings instance (the tutorial's shape). */
function settingsTarget(engine: EngineCall, url: UrlSource, notes: string[]): EngineUrlTarget | null {
  const where = `${engine.file}:${engine.span.line}`;
  const u = engine.url;
  const inModule = url.module === engine.module;
  const local = engine.settingsLocal ?? url.name;
  const target = url.expr.replace(new RegExp(`^(str\\()?${escapeRe(url.name)}\\b`), `$1${local}`);
  const usesSettings = u !== null && u.text.replace(/\s+/g, '') === target.replace(/\s+/g, '');
  if (!u || usesSettings) return null;
  const replaceable = u.sqlite || u.kind !== 'expression' || /environ|getenv/.test(u.text);
  if (!replaceable) {
    notes.push(`left ${engine.func}(${u.text}) at ${where} alone: it does not look like the app's SQLite URL`);
    return null;
  }
  const reason = `import ${url.name} from ${url.module}`;
  const line = `from ${url.module} import ${url.name}\n`;
  const importEdit = engine.settingsLocal || inModule
    ? undefined
    : engine.settingsImport
      ? insertAfterLine(engine.settingsImport.after, engine.settingsImport.text, reason)
      : insertAfterLine(engine.importInsertLine, line, reason);
  return { text: target, importEdit, removeConstant: constantRemoval(engine) };
}

/**
 * Edit one engine call: its URL argument, the SQLite-only check_same_thread, and, when the
 * call then fits on one line, join it (as a formatter would).
 */
export function planEngine(engine: EngineCall, target: EngineUrlTarget | null, add: (file: string, e: TextEdit) => void): void {
  const where = `${engine.file}:${engine.span.line}`;
  const u = engine.url;
  const edits: TextEdit[] = [];
  const newText = new Map<string, string | null>();
  const key = (sp: { line: number; col: number }) => `${sp.line}:${sp.col}`;
  let joinable = true;
  if (u && target?.text) {
    edits.push({ start: { line: u.span.line, col: u.span.col }, end: { line: u.span.endLine, col: u.span.endCol }, text: target.text, reason: `${engine.func} at ${where} uses ${target.text}` });
    newText.set(key(u.span), target.text);
  }
  const kw = engine.keywords.find((k) => k.name === 'connect_args');
  const entries = kw?.dict;
  const idx = entries ? entries.findIndex((e) => e.key === 'check_same_thread') : -1;
  if (kw && entries && idx >= 0) {
    const reason = `remove the SQLite-only check_same_thread from ${engine.func} at ${where}`;
    if (entries.length === 1) {
      const i = engine.argSpans.findIndex((s) => s.line === kw.span.line && s.col === kw.span.col);
      edits.push(removeListItem(engine.argSpans, i, reason));
      newText.set(key(kw.span), null);
    } else {
      edits.push(removeListItem(entries.map((e) => e.span), idx, reason));
      joinable = false; // the dict changed inside: leave the layout alone
    }
  }
  const joined = edits.length && joinable ? joinedCall(engine, newText) : undefined;
  if (joined) {
    add(engine.file, { start: { line: engine.span.line, col: engine.span.col }, end: { line: engine.span.endLine, col: engine.span.endCol }, text: joined, reason: edits.map((e) => e.reason).join('; ') });
  } else {
    for (const e of edits) add(engine.file, e);
  }
  if (target?.importEdit) add(engine.file, target.importEdit);
  if (target?.removeConstant) add(engine.file, target.removeConstant);
}

/** The call on one line, when it spanned several and now fits; undefined otherwise. */
function joinedCall(engine: EngineCall, newText: Map<string, string | null>): string | undefined {
  if (!engine.callee || !engine.args || engine.span.line === engine.span.endLine) return undefined;
  const texts: string[] = [];
  for (const a of engine.args) {
    const k = `${a.span.line}:${a.span.col}`;
    const changed = newText.get(k);
    if (changed === undefined) texts.push(a.text);
    else if (changed !== null) texts.push(changed);
  }
  const text = `${engine.callee}(${texts.join(', ')})`;
  if (text.includes('\n') || engine.span.col + text.length > LINE_LENGTH) return undefined;
  return text;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
