import type { TlsSettings } from '../db/tls.js';
import type { Driver } from '../db/url.js';

export const COMMANDS = ['setup', 'doctor', 'teardown', 'start', 'stop', 'status', 'import-sqlite'] as const;
export type Command = (typeof COMMANDS)[number];

export const PROVIDERS = ['auto', 'existing', 'apt', 'brew', 'docker', 'local'] as const;
export type ProviderChoice = (typeof PROVIDERS)[number];
export type ProviderName = Exclude<ProviderChoice, 'auto'>;

/**
 * What flags, the env file and the environment resolve to (defaults < .env < env vars < flags),
 * before the wizard's answers, the provider's port and the project's analysis are settled.
 */
export interface Options {
  command: Command;
  interactive: boolean;
  yes: boolean;
  projectDir: string;
  provider: ProviderChoice;
  host: string;
  /** 'auto' = first free port from 5432 (only when the user asked for it). */
  port: number | 'auto';
  adminUrl: string | undefined;
  /** TLS for the admin and the app connections: the admin URL's sslmode/sslrootcert, else the env file URL's, else PGSSLMODE/PGSSLROOTCERT. */
  tls?: TlsSettings | undefined;
  dbName: string;
  dbUser: string;
  /** Undefined until resolved: a generated one is used when nothing supplies it. */
  dbPassword: string | undefined;
  /** Where the password came from: the user (flag, PGSETUP_DB_PASSWORD, prompt), the env file's URL, or nowhere yet. */
  dbPasswordSource: 'user' | 'env-file' | undefined;
  resetPassword: boolean;
  driver: Driver;
  /** Absolute path of the env file. */
  envFile: string;
  envKey: string;
  /** The env key's value in the env file when the run began (read once, under the settled key), if any. */
  envFileValue: string | undefined;
  overwriteEnv: boolean;
  dryRun: boolean;
  json: boolean;
  pgVersion: string | undefined;
  containerName: string | undefined;
  /** --docker-image (or PGSETUP_DOCKER_IMAGE): the image repository, or repository:tag, for a mirror or private registry. */
  dockerImage: string | undefined;
  timeoutMs: number;
  migrations: 'auto' | 'alembic' | 'none';
  sqlite: 'keep' | 'delete' | 'import';
  /** --sqlite-import-into-nonempty: the import appends to tables that already have rows. */
  sqliteImportIntoNonempty?: boolean;
  /** import-sqlite --from FILE. */
  sqliteFrom?: string;
  dataDir: string | undefined;
  volumes: boolean;
  /** Overrides for what the project analysis could not find. */
  settings: string | undefined;
  urlField: string | undefined;
  base: string | undefined;
  models: string[] | undefined;
  /** True when --env-key was passed (else the settings' own key may be used). */
  envKeyGiven: boolean;
  /** True when --port was passed (else the port came from the env file or the default). */
  portGiven: boolean;
}

/**
 * Everything a run needs, settled once before any step runs (commands/settle.ts): Options plus
 * the answers, the provider choice's port or admin URL. Frozen: steps only read it.
 */
export type RunConfig = Readonly<Options>;
