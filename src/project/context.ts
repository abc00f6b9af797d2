import type { SqlSession } from '../db/admin.js';
import type { Driver } from '../db/url.js';
import type { AnalysisOverrides, ManagerKind } from './analysis.js';

/** What the Python-project steps need from the CLI core. */
export interface ProjectContext extends AnalysisOverrides {
  projectDir: string;
  /** The env var the app reads the URL from (DATABASE_URL unless the settings say otherwise). */
  envKey: string;
  /** The env file, relative to the project (`.env` unless --env-file names another): what env_file reads. */
  envFileRel?: string;
  /** The app's URL (a secret): passed to Python only through the environment. */
  databaseUrl: string;
  driver: Driver;
  yes: boolean;
  dryRun: boolean;
  /** `--migrations`: auto = alembic when a SQLAlchemy project is found. */
  migrations: 'auto' | 'alembic' | 'none';
  /** `--sqlite`: delete moves the SQLite file into .pg-setup/backups/, never removes it; import copies its rows (and keeps it). */
  sqlite: 'keep' | 'delete' | 'import';
  /** `--sqlite-import-into-nonempty`: append to tables that already have rows. */
  sqliteImportIntoNonempty?: boolean;
  /** A superuser session (for the scratch database of the empty-migration trap). */
  admin: () => Promise<SqlSession>;
  /** The role that owns the app database. */
  appRole: string;
  /** Migration message for the first revision. */
  initialMessage?: string;
  /** Fixed timestamp folder for backups (tests); default: one per run. */
  backupStamp?: string;
  /**
   * The run ends by logging in as the app from Python (project/login-check.ts): the role and the
   * project's manager. When the migration runs, its Python process does that login too.
   */
  loginCheck?: { role: string; manager: ManagerKind };
}
