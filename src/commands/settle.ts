import { basename, relative } from 'node:path';
import { probeAsApp } from '../db/provision.js';
import { isSqliteUrl } from '../db/url.js';
import { ExitCode, UserError } from '../errors.js';
import type { Output } from '../io/output.js';
import { addSecret } from '../io/secrets.js';
import { askConfirm, askName, askPassword, askSelect } from '../options/prompts.js';
import type { Given } from '../options/resolve.js';
import type { Options, RunConfig } from '../options/types.js';
import { buildProvider, chooseServer, detectMachine, rememberedProvider, type ServerChoice } from '../providers/select.js';
import type { Provider } from '../providers/types.js';
import { prepareProject, type ProjectPlan } from './project-phase.js';

/** What a setup run works from: settled once, before any step runs, and never changed after. */
export interface Settled {
  config: RunConfig;
  project: ProjectPlan;
  provider: Provider;
  /** A re-run whose env file already logs in: what that one connection proved. */
  inPlace: InPlace | undefined;
}

export type InPlace = Extract<Awaited<ReturnType<typeof probeAsApp>>, { ok: true }>;

/**
 * The first half of `pg-setup [setup]`: the project (its env key was settled before the env
 * file was read), what the machine has, the provider and its port, then the wizard's questions.
 * Each part returns what it settled; they are merged into one frozen RunConfig, and the
 * provider is built from that config only.
 */
export async function settleSetup(opts: Options, given: Given, out: Output): Promise<Settled> {
  // The project first: it finds the SQLite file, and a run lacking consent stops here.
  const project = await prepareProject(opts, out);
  // The wizard shows what the machine has, and its first question is where PostgreSQL comes from.
  const detected = opts.interactive && !opts.yes ? await detectMachine(opts, out) : undefined;
  // A re-run whose env file already logs in needs no superuser and no detection: one app
  // connection proves the server, role, database, ownership and write access.
  const inPlace = await checkInPlace(opts);
  const keepsServer = inPlace && (opts.provider === 'existing' || (opts.provider === 'auto' && !(await rememberedProvider(opts))));
  const server: ServerChoice = keepsServer ? { name: 'existing', patch: {} } : await chooseServer(opts, out, detected);
  const answers = opts.interactive ? await askForGaps({ ...opts, ...server.patch }, given, project, out) : {};
  const config: RunConfig = Object.freeze({ ...opts, ...server.patch, ...answers });
  return { config, project, provider: await buildProvider(server.name, config), inPlace };
}

/**
 * The fast path of a re-run: the env file's URL logs in as the role, the database belongs to
 * it, and it may create tables in public (one connection, one query). Undefined when anything is missing (the full run follows).
 */
async function checkInPlace(opts: RunConfig): Promise<InPlace | undefined> {
  if (opts.dryRun || opts.resetPassword || opts.dbPassword === undefined || typeof opts.port !== 'number') return undefined;
  // A first run (no URL in the env file yet) has nothing to re-check: skip the doomed login.
  if (opts.envFileValue === undefined) return undefined;
  const probe = await probeAsApp({ host: opts.host, port: opts.port, user: opts.dbUser, password: opts.dbPassword, database: opts.dbName, tls: opts.tls }, { write: true });
  return probe.ok && probe.databaseOwner === opts.dbUser && probe.canCreate ? probe : undefined;
}

/**
 * What to do with a SQLite file that holds rows. Each choice is an `--sqlite` value, so the
 * wizard and the flag mean the same; a new mode is one more line here.
 */
const SQLITE_CHOICES: { value: Options['sqlite']; name: string }[] = [
  { value: 'keep', name: 'Keep it where it is' },
  { value: 'import', name: 'Import its rows into PostgreSQL once the tables exist (the file is kept)' },
  { value: 'delete', name: 'Import its rows, then move it into .pg-setup/backups/ (nothing is deleted)' },
];

type Answers = Partial<Pick<Options, 'dbName' | 'dbUser' | 'dbPassword' | 'dbPasswordSource' | 'sqlite' | 'overwriteEnv'>>;

/**
 * Interactive only: ask for what flags (or the env file) did not give, each default being
 * what a non-interactive run would take: names, password, the SQLite file, a SQLite URL in the
 * env file. Returns the answers; the caller merges them into the run's config.
 */
async function askForGaps(opts: RunConfig, given: Given, project: ProjectPlan, out: Output): Promise<Answers> {
  const a: Answers = {};
  let dbName = opts.dbName;
  if (!given.dbName) {
    dbName = a.dbName = await askName('database', '--db-name', 'Database name', opts.dbName);
    if (!given.dbUser) a.dbUser = `${dbName}_user`;
  }
  if (!given.dbUser) a.dbUser = await askName('role', '--db-user', 'Database user (role)', a.dbUser ?? opts.dbUser);
  if (!given.dbPassword) {
    const pw = await askPassword('Password for that role (Enter to generate a strong one)');
    if (pw !== undefined) {
      a.dbPassword = pw;
      a.dbPasswordSource = 'user';
      addSecret(pw);
    }
  }
  const withRows = project.enabled && !given.sqlite && !opts.yes ? project.sqliteFiles.filter((f) => (f.rows ?? 0) > 0) : [];
  if (withRows.length > 0) {
    const what = withRows.map((f) => `${relative(opts.projectDir, f.path) || f.path} (${f.rows} row${f.rows === 1 ? '' : 's'})`).join(', ');
    a.sqlite = await askSelect(`The SQLite database ${what} holds data. What should happen to it?`, SQLITE_CHOICES, opts.sqlite);
  }
  const current = opts.envFileValue;
  if (current !== undefined && isSqliteUrl(current) && !opts.overwriteEnv && !opts.yes && !opts.dryRun) {
    // The SQLite URL is the value this migration replaces: a plain yes/no, yes being what --yes does.
    const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
    out.info(`${opts.envKey} in ${envRel} holds the SQLite URL ${current}.`);
    if (!(await askConfirm(`Replace it with the PostgreSQL URL? (a backup of ${basename(opts.envFile)} is kept)`, true))) {
      throw new UserError(`Left ${opts.envKey} in ${envRel} as it was; nothing was changed.`, { hint: 'Pass --env-key to write the PostgreSQL URL to another key.', exitCode: ExitCode.usage });
    }
    a.overwriteEnv = true;
  }
  return a;
}
