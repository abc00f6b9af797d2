import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseInfo, ProjectAnalysis } from './analysis.js';
import { templatesDir } from '../package-dir.js';
import type { UrlSource } from './wiring-url-source.js';

/** What env.py must import and read, decided from the analysis and the wiring. */
export interface EnvPyInputs {
  url: UrlSource;
  base: Pick<BaseInfo, 'module' | 'name'>;
  models: string[];
  /** A sync app (create_engine only) gets Alembic's sync env.py; async apps the async one. */
  sync?: boolean;
  /** SQLModel apps: autogenerate writes sqlmodel.sql.sqltypes.AutoString(), so revisions import sqlmodel. */
  sqlmodel?: boolean;
  /** The folder the app's own start command imports from (`.`, or `src` for `--app-dir src`). */
  importRoot?: string;
  /** How the project runs its tools (`uv run`, `poetry run`, `.venv/bin/`), for the README. */
  runner?: string;
}

/** Sync or async, from the engines the app creates: an app is never converted from one to the other. */
export function isSyncApp(a: ProjectAnalysis): boolean {
  return a.engines.length > 0 && a.engines.every((e) => e.func === 'create_engine');
}

/** Names env.py itself binds: an app object with one of these names is imported under an alias. */
const ENV_PY_NAMES = new Set(['asyncio', 'sys', 'fileConfig', 'context', 'pool', 'Connection', 'async_engine_from_config', 'config', 'target_metadata']);

/** The name env.py uses for an imported object (`config` would clash with Alembic's config). */
export function envLocalName(name: string): string {
  return ENV_PY_NAMES.has(name) ? `app_${name}` : name;
}

function importLine(module: string, name: string): string {
  const local = envLocalName(name);
  return local === name ? `from ${module} import ${name}` : `from ${module} import ${name} as ${local}`;
}

/** The Python import block of env.py: settings, base, then each model module (# noqa: F401). */
export function renderEnvImports(i: EnvPyInputs): string {
  // An app that reads os.environ at import time needs .env loaded before its modules load.
  const late = i.url.loadDotenv ? '  # noqa: E402' : '';
  const lines = i.url.loadDotenv
    ? [importLine(i.url.module, i.url.name), 'from dotenv import load_dotenv', '', '# The app reads its URL from the environment: load .env as the app does.', 'load_dotenv()', '', `${importLine(i.base.module, i.base.name)}${late}`]
    : [importLine(i.url.module, i.url.name), importLine(i.base.module, i.base.name)];
  for (const m of i.models) {
    if (m === i.base.module || m === i.url.module) continue;
    // Imported only so their tables register on the metadata.
    lines.push(`import ${m}  # noqa: F401${late ? ', E402' : ''}`);
  }
  return lines.join('\n');
}

/** env.py from the template with its placeholders filled. */
export function renderEnvPy(template: string, i: EnvPyInputs): string {
  return template
    .replace('{{IMPORTS}}', renderEnvImports(i))
    .replace('{{URL_EXPR}}', i.url.expr.replace(new RegExp(`^(str\\()?${i.url.name}\\b`), `$1${envLocalName(i.url.name)}`))
    .replace('{{METADATA_EXPR}}', `${envLocalName(i.base.name)}.metadata`);
}

/** The files of a new Alembic setup, relative path -> content; the script folder is `dir`. */
export async function renderAlembicFiles(i: EnvPyInputs, dir = 'alembic'): Promise<Record<string, string>> {
  const t = join(templatesDir(), 'alembic');
  const read = (p: string) => readFile(join(t, p), 'utf8');
  let ini = (await read('alembic.ini')).replace('%(here)s/alembic', `%(here)s/${dir}`);
  if (i.importRoot && i.importRoot !== '.') ini = ini.replace('prepend_sys_path = .', `prepend_sys_path = ${i.importRoot}`);
  if (i.sync) ini = ini.replace('`alembic init --template async`', '`alembic init` (generic template)');
  let mako = await read('alembic/script.py.mako');
  if (i.sqlmodel) mako = mako.replace('import sqlalchemy as sa\n', 'import sqlalchemy as sa\nimport sqlmodel\n');
  let readme = await read('alembic/README');
  if (i.sync) readme = readme.replace('an async SQLAlchemy app', 'a SQLAlchemy app');
  if (i.runner && i.runner !== 'uv run ') readme = readme.replaceAll('  uv run alembic', `  ${i.runner}alembic`);
  return {
    'alembic.ini': ini,
    [`${dir}/env.py`]: renderEnvPy(await read(i.sync ? 'env-sync.py' : 'alembic/env.py'), i),
    [`${dir}/script.py.mako`]: mako,
    [`${dir}/README`]: readme,
  };
}

/** The Alembic script folder this project uses (alembic.ini's script_location, else `alembic`). */
export function alembicDir(a: ProjectAnalysis): string {
  if (a.alembic.dir) return a.alembic.dir;
  const loc = a.alembic.scriptLocation?.replace('%(here)s/', '') ?? 'alembic';
  return loc || 'alembic';
}

/** What an existing env.py lacks for pg-setup's migration run; empty when it is wired. */
export function findEnvGaps(a: ProjectAnalysis, i: EnvPyInputs): string[] {
  const env = a.alembic.env;
  const dir = alembicDir(a);
  if (!env) return [`${dir}/env.py is missing`];
  const gaps: string[] = [];
  if (env.error) gaps.push(`${dir}/env.py does not parse: ${env.error}`);
  if (!env.targetMetadata) gaps.push(`target_metadata is None: set target_metadata = ${i.base.name}.metadata (from ${i.base.module} import ${i.base.name})`);
  if (!env.setsUrl) gaps.push(`the URL is not taken from settings: config.set_main_option("sqlalchemy.url", ${i.url.expr}.replace("%", "%%"))`);
  const missingModels = i.models.filter((m) => !env.imports.some((imp) => m === imp || m.startsWith(`${imp}.`)));
  if (missingModels.length) gaps.push(`model modules not imported, so autogenerate cannot see their tables: ${missingModels.join(', ')}`);
  return gaps;
}

/** Relative paths of the scaffold files that are not there yet (existing ones are never overwritten). */
export function listMissingScaffold(projectDir: string, files: Record<string, string>): string[] {
  return Object.keys(files).filter((f) => !existsSync(join(projectDir, f)));
}

/** Create the versions folder (Alembic needs it even when empty). */
export async function ensureVersionsDir(projectDir: string, dir: string): Promise<void> {
  await mkdir(join(projectDir, dir, 'versions'), { recursive: true });
}
