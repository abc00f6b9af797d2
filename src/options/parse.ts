import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';
import { COMMANDS, type Command } from './types.js';

const OPTIONS = {
  'non-interactive': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'project-dir': { type: 'string' },
  provider: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'admin-url': { type: 'string' },
  'db-name': { type: 'string' },
  'db-user': { type: 'string' },
  'db-password': { type: 'string' },
  'reset-password': { type: 'boolean' },
  driver: { type: 'string' },
  'env-file': { type: 'string' },
  'env-key': { type: 'string' },
  'overwrite-env': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'pg-version': { type: 'string' },
  'container-name': { type: 'string' },
  'docker-image': { type: 'string' },
  timeout: { type: 'string' },
  migrations: { type: 'string' },
  sqlite: { type: 'string' },
  'sqlite-import-into-nonempty': { type: 'boolean' },
  from: { type: 'string' },
  'data-dir': { type: 'string' },
  volumes: { type: 'boolean' },
  settings: { type: 'string' },
  'url-field': { type: 'string' },
  base: { type: 'string' },
  models: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** Flags exactly as typed; resolution into Options happens in resolve.ts. */
export interface Flags extends Values {
  command: Command;
}

/** Parse argv. Unknown flags and commands are usage errors (exit 2) that name what is wrong. */
export function parseFlags(argv: string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '.');
    throw usageError(msg, 'Run pg-setup --help to see the options.');
  }
  const [cmd, ...rest] = parsed.positionals;
  if (rest.length > 0) throw usageError(`Unexpected argument "${rest[0]}".`, 'Run pg-setup --help to see the usage.');
  const command = (cmd ?? 'setup') as Command;
  if (!COMMANDS.includes(command)) {
    throw usageError(`Unknown command "${cmd}".`, `Commands: ${COMMANDS.join(', ')}. Run pg-setup --help.`);
  }
  return { ...parsed.values, command };
}

export const HELP = `pg-setup: PostgreSQL + Alembic for a FastAPI / async SQLAlchemy project, in one run.

Usage
  pg-setup [setup] [options]   find or start PostgreSQL, create the app's role and database,
                               write DATABASE_URL to .env, wire the app and run the first migration
  pg-setup doctor              check every part and print the fix for what is wrong
  pg-setup teardown            drop what pg-setup created (asks you to type the database name)
  pg-setup start|stop|status   control the project-local server (--provider local)
  pg-setup import-sqlite       copy the old SQLite file's rows into the migrated tables (--from FILE)

Options
  --non-interactive            never prompt (implied when stdin is not a TTY or CI=true);
                               a missing required value exits 2 and names the flag to pass
  -y, --yes                    accept defaults and confirmations
  --project-dir <dir>          the Python project (default: current directory)
  --provider <name>            auto | existing | apt | brew | docker | local   (default: auto)
  --host <host>                default: localhost
  --port <port|auto>           default: 5432; auto = first free port from 5432
  --admin-url <url>            admin URL for an existing server (or PGSETUP_ADMIN_URL): a superuser,
                               or CREATEROLE CREATEDB; ?sslmode=verify-full&sslrootcert=ca.pem for TLS
                               (or PGSSLMODE/PGSSLROOTCERT); otherwise PG* variables, ~/.pgpass and
                               the unix socket are tried
  --db-name <name>             default: the project folder's name, sanitised
  --db-user <name>             default: <db-name>_user
  --db-password <pw>           default: generated, 32 URL-safe characters (or PGSETUP_DB_PASSWORD)
  --reset-password             the role exists and its known password fails: set a new one
  --driver <psycopg|asyncpg>   URL scheme postgresql+psycopg (default) or postgresql+asyncpg
  --env-file <path>            default: .env in the project
  --env-key <KEY>              default: DATABASE_URL
  --overwrite-env              replace a different existing value of the key (a backup is kept)
  --pg-version <N>             PostgreSQL major for apt/brew/docker/local (default: 18; apt: the distro's;
                               local: an installed one first)
  --container-name <name>      Docker container (default: pg-setup-<project>)
  --docker-image <repo[:tag]>  Docker image from a mirror or private registry (or PGSETUP_DOCKER_IMAGE;
                               default: postgres; the tag defaults to --pg-version)
  --data-dir <dir>             local provider's data folder (default: .pg-setup/data)
  --timeout <seconds>          wait this long for the server to be ready (default: 60)
  --migrations <alembic|none>  default: alembic when a SQLAlchemy project is found
  --sqlite <keep|delete|import>
                               the old SQLite file: keep it (default); import copies its rows into
                               the new tables (one transaction, verified) and keeps it; delete imports
                               the same way, then moves it into .pg-setup/backups (never removed)
  --sqlite-import-into-nonempty
                               the import appends to tables that already have rows
  --from <file>                import-sqlite: the SQLite file (default: the one the code named)
  --settings <module:obj>      the pydantic settings object, when it is not found (e.g. app.core.config:settings)
  --url-field <name>           the settings field that holds the database URL
  --base <module:Base>         the declarative base, when it is not found (e.g. app.db.base:Base)
  --models <mod1,mod2>         modules that define the mapped classes
  --volumes                    teardown: also remove the Docker volume (the data)
  --dry-run                    print every step with its SQL and commands; change nothing
  --json                       one JSON result on stdout; human output goes to stderr
  -h, --help                   show this help;   -V, --version   show the version

Examples
  npx pg-setup                                   # the wizard, in your project folder
  npx pg-setup --non-interactive --yes           # CI / scripted onboarding, all defaults
  npx pg-setup --provider existing --admin-url postgres://postgres:secret@localhost:5432/postgres
  npx pg-setup --provider docker --pg-version 17 --port auto
  npx pg-setup --dry-run                         # see what would happen
  npx pg-setup doctor --json
  npx pg-setup --yes --sqlite import             # also bring the rows of blog.db along

Exit codes
  0 done   1 failed   2 usage or missing input   3 server unreachable or provider failed
  4 authentication or permission   5 Python project or Alembic   6 file could not be written
  7 another pg-setup run holds the lock   130 interrupted
`;
