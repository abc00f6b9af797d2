import type { Client } from 'pg';
import { ExitCode, UserError } from '../errors.js';
import { redact } from '../io/secrets.js';
import { closeClient, explainTlsError, isTlsRequired, openPgClient, type SqlSession, type TlsState } from './admin.js';
import { offersTls } from '../net/probe.js';
import type { TlsSettings } from './tls.js';
import { quoteIdent, quoteLiteral } from './ident.js';
import { scramVerifier } from './scram.js';

export interface RoleState {
  exists: boolean;
  superuser: boolean;
  createrole: boolean;
  canLogin: boolean;
}

export interface DatabaseState {
  exists: boolean;
  owner: string | undefined;
  encoding: string | undefined;
}

/** Read what the server has for the role. */
export async function inspectRole(admin: SqlSession, role: string): Promise<RoleState> {
  const rows = await admin.query(
    `SELECT rolsuper, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = ${quoteLiteral(role)}`,
  );
  const r = rows[0];
  if (!r) return { exists: false, superuser: false, createrole: false, canLogin: false };
  return { exists: true, superuser: r.rolsuper === true, createrole: r.rolcreaterole === true, canLogin: r.rolcanlogin === true };
}

/** Read what the server has for the database. */
export async function inspectDatabase(admin: SqlSession, db: string): Promise<DatabaseState> {
  const rows = await admin.query(
    `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = ${quoteLiteral(db)}`,
  );
  const r = rows[0];
  return r ? { exists: true, owner: String(r.owner), encoding: String(r.encoding) } : { exists: false, owner: undefined, encoding: undefined };
}

/** How a role's SQL shows the password in a plan and a dry run: its verifier is filled in at run time (withVerifier). */
export const VERIFIER_SHOWN = '<SCRAM-SHA-256 verifier>';

/** The role's SQL as planned: CREATE ROLE or ALTER ROLE ... PASSWORD, the verifier masked. */
export function roleSqlShown(action: 'create' | 'reset', role: string): string {
  return action === 'create'
    ? `CREATE ROLE ${quoteIdent(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${quoteLiteral(VERIFIER_SHOWN)}`
    : `ALTER ROLE ${quoteIdent(role)} WITH PASSWORD ${quoteLiteral(VERIFIER_SHOWN)}`;
}

/** The planned role SQL as it runs: the password's SCRAM verifier in place of the mask (never the password itself). */
export function withVerifier(sql: string, password: string): string {
  return sql.replace(quoteLiteral(VERIFIER_SHOWN), () => quoteLiteral(scramVerifier(password)));
}

/**
 * SQL that creates the database owned by the role, in UTF8. template0 is only needed when the
 * server's default encoding is not UTF8 (then the locale must be C to accept UTF8).
 */
export function createDatabaseSql(db: string, owner: string, serverEncodingIsUtf8: boolean): string {
  const base = `CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(owner)} ENCODING 'UTF8'`;
  return serverEncodingIsUtf8 ? base : `${base} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`;
}

/** Is template1 UTF8 (so CREATE DATABASE ... ENCODING 'UTF8' works without template0)? */
export async function isTemplateUtf8(admin: SqlSession): Promise<boolean> {
  const rows = await admin.query(`SELECT pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = 'template1'`);
  return rows[0]?.e === 'UTF8';
}

interface AdminSelf {
  me: string;
  superuser: boolean;
  /** server_version_num >= 160000: role membership has SET and INHERIT options. */
  v16: boolean;
}

async function adminSelf(admin: SqlSession): Promise<AdminSelf> {
  const rows = await admin.query(
    `SELECT current_user AS me, rolsuper AS su, current_setting('server_version_num')::int AS v FROM pg_roles WHERE rolname = current_user`,
  );
  const r = rows[0] ?? {};
  return { me: String(r.me), superuser: r.su === true, v16: Number(r.v) >= 160000 };
}

/**
 * The GRANT a non-superuser admin needs to act as `role`: CREATE DATABASE ... OWNER role needs
 * it to be able to SET ROLE role (PostgreSQL 16+) or be a member of it (15 and older). On 16+
 * the grant is WITH SET TRUE, INHERIT FALSE: the admin can become the role when it must, but
 * does not carry the app's privileges around. Undefined when none is needed (a superuser, or
 * the admin may already). A role that does not exist yet will be this admin's own creation,
 * which makes it neither a member (15 and older) nor able to SET ROLE to it (16+).
 */
export async function ownerGrantNeeded(admin: SqlSession, role: string, roleExists: boolean): Promise<string | undefined> {
  const self = await adminSelf(admin);
  if (self.superuser) return undefined;
  if (roleExists) {
    const has = await admin.query(`SELECT pg_has_role(current_user, ${quoteLiteral(role)}, '${self.v16 ? 'SET' : 'MEMBER'}') AS ok`);
    if (has[0]?.ok === true) return undefined;
  }
  return self.v16 ? `GRANT ${quoteIdent(role)} TO ${quoteIdent(self.me)} WITH SET TRUE, INHERIT FALSE` : `GRANT ${quoteIdent(role)} TO ${quoteIdent(self.me)}`;
}

/** Run the planned owner GRANT, explaining a refusal; returns what was granted (for the step output). */
export async function grantOwner(admin: SqlSession, sql: string, role: string): Promise<string> {
  const v16 = sql.includes('WITH SET TRUE');
  const me = (await adminSelf(admin)).me;
  try {
    await admin.query(sql);
  } catch (e) {
    throw new UserError(`Admin "${me}" cannot make role "${role}" the owner of a database: ${redact((e as Error).message)}`, {
      hint: v16
        ? `PostgreSQL 16+ lets a CREATEROLE admin grant only roles it administers (those it created). As a superuser or the role's admin: ${sql};`
        : `As a superuser: ${sql};`,
      exitCode: ExitCode.auth,
    });
  }
  return v16 ? `granted ${role} to ${me} WITH SET TRUE, INHERIT FALSE (PostgreSQL 16+: the admin must be able to SET ROLE to the owner)` : `granted ${role} to ${me} (the admin must be a member of the owner)`;
}

/**
 * DROP DATABASE as whoever may: a superuser or an admin that inherits the owner's privileges
 * drops it directly; an admin granted the owner WITH SET (not INHERIT) becomes the owner first.
 */
export async function dropDatabaseAsAdmin(admin: SqlSession, db: string, owner: string, opts: { force: boolean; ifExists?: boolean }): Promise<void> {
  const sql = `DROP DATABASE ${opts.ifExists ? 'IF EXISTS ' : ''}${quoteIdent(db)}${opts.force ? ' WITH (FORCE)' : ''}`;
  const self = await adminSelf(admin);
  const inherits = self.superuser || (await admin.query(`SELECT pg_has_role(current_user, ${quoteLiteral(owner)}, 'USAGE') AS ok`))[0]?.ok === true;
  if (inherits) {
    await admin.query(sql);
    return;
  }
  const grant = await ownerGrantNeeded(admin, owner, true);
  if (grant) await grantOwner(admin, grant, owner);
  await admin.query(`SET ROLE ${quoteIdent(owner)}`);
  try {
    await admin.query(sql);
  } finally {
    await admin.query('RESET ROLE');
  }
}

export interface AppLogin {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The TLS the app's URL asks for (the same as the admin connection's). */
  tls?: TlsSettings | undefined;
}

export type LoginResult =
  | { ok: true }
  | { ok: false; reason: 'password' | 'hba' | 'peer' | 'no-database' | 'unreachable' | 'tls' | 'other'; message: string; error?: UserError };

/** Connect as the app over TCP with its TLS settings; the connection error is rethrown after the client is closed. */
async function openAppClient(login: AppLogin, database = login.database): Promise<{ client: Client; tls: TlsState | undefined }> {
  return openPgClient({ ...login, database, connectionTimeoutMillis: 5000 });
}

/**
 * Can this session create tables in public? Read from the catalog in one query instead of
 * creating and dropping a scratch table (two DDL commits): CREATE on the schema, and a server
 * that accepts writes at all (not a standby, not read-only by default).
 */
const CAN_CREATE_SQL = `has_schema_privilege('public', 'CREATE') AND NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'`;

/** Try to log in as the app over TCP. Never throws. */
export async function tryAppLogin(login: AppLogin, database = login.database): Promise<LoginResult> {
  try {
    await closeClient((await openAppClient(login, database)).client);
    return { ok: true };
  } catch (e) {
    return { ok: false, ...(await classifyLoginFailure(e, login)) };
  }
}

/** Turn a connection error into a reason a person can act on. */
/**
 * classifyLoginError for a login that just failed: a plaintext connection refused by pg_hba.conf
 * reads the same whether the server accepts only TLS or simply has no line for the role, so the
 * server is asked whether it offers TLS at all before TLS is blamed.
 */
export async function classifyLoginFailure(e: unknown, login: AppLogin): Promise<ReturnType<typeof classifyLoginError>> {
  if (isTlsRequired(e) && (await offersTls(login.host, login.port)) === false) return classifyLoginError(e);
  return classifyLoginError(e, login);
}

export function classifyLoginError(e: unknown, login?: AppLogin): { reason: Exclude<LoginResult, { ok: true }>['reason']; message: string; error?: UserError } {
  const tlsError = login ? explainTlsError(e, login, `the app's URL`) : undefined;
  if (tlsError) return { reason: 'tls', message: tlsError.message, error: tlsError };
  const code = (e as { code?: string }).code ?? '';
  const message = redact((e as Error).message ?? String(e));
  if (code === '28P01' || /password authentication failed/i.test(message)) return { reason: 'password', message };
  if (/pg_hba\.conf/i.test(message)) return { reason: 'hba', message };
  if (/(peer|ident) authentication failed/i.test(message)) return { reason: 'peer', message };
  if (code === '3D000') return { reason: 'no-database', message };
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code) || /timeout|ECONNREFUSED/i.test(message)) {
    return { reason: 'unreachable', message };
  }
  return { reason: 'other', message };
}

/** A UserError that explains a failed app login in plain words, with the fix. */
export function loginError(login: AppLogin, r: Exclude<LoginResult, { ok: true }>): UserError {
  const who = `role "${login.user}" on ${login.host}:${login.port}/${login.database}`;
  if (r.error) return r.error;
  switch (r.reason) {
    case 'password':
      return new UserError(`The server rejected the password for ${who}.`, {
        hint: 'Run pg-setup again with --reset-password to set a new one, or pass the right one with --db-password.',
        exitCode: ExitCode.auth,
      });
    case 'hba':
      return new UserError(`No pg_hba.conf rule lets ${who} log in over TCP: ${r.message}`, {
        hint: `Add a line such as "host ${login.database} ${login.user} 127.0.0.1/32 scram-sha-256" to pg_hba.conf (SHOW hba_file; tells where it is), then reload the server (SELECT pg_reload_conf();).`,
        exitCode: ExitCode.auth,
      });
    case 'peer':
      return new UserError(`The server uses peer/ident authentication for ${who}, which only works for a matching OS user.`, {
        hint: 'Change the matching pg_hba.conf line to scram-sha-256 for host connections and reload the server.',
        exitCode: ExitCode.auth,
      });
    case 'unreachable':
      return new UserError(`Cannot reach PostgreSQL at ${login.host}:${login.port}: ${r.message}`, {
        hint: 'Start the server, or choose one with --provider (auto, apt, brew, docker, local).',
        exitCode: ExitCode.server,
      });
    default:
      return new UserError(`Logging in as ${who} failed: ${r.message}`, { exitCode: ExitCode.auth });
  }
}

/** Verify as the app: log in over TCP and check it may create tables in public. */
export async function verifyAppCanWrite(login: AppLogin): Promise<void> {
  let client: Client;
  try {
    ({ client } = await openAppClient(login));
  } catch (e) {
    throw loginError(login, { ok: false, ...(await classifyLoginFailure(e, login)) });
  }
  try {
    const { rows } = await client.query(`SELECT ${CAN_CREATE_SQL} AS ok, pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro`);
    const r = rows[0] as { ok: boolean; standby: boolean; ro: string };
    if (!r.ok) {
      const grant = !r.standby && r.ro !== 'on';
      const why = r.standby ? 'the server is a read-only standby' : r.ro === 'on' ? 'the server makes new sessions read-only (default_transaction_read_only)' : 'it has no CREATE privilege on schema public';
      throw new UserError(`Role "${login.user}" can log in but cannot create tables in ${login.database}.public: ${why}.`, {
        hint: grant
          ? `As a superuser: GRANT CREATE ON SCHEMA public TO ${quoteIdent(login.user)}; (in database ${login.database}).`
          : 'Point pg-setup at the primary server (--host/--port), or turn default_transaction_read_only off.',
        exitCode: ExitCode.auth,
      });
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`Role "${login.user}" could not be checked for CREATE on ${login.database}.public: ${redact((e as Error).message)}`, { exitCode: ExitCode.auth });
  } finally {
    await closeClient(client);
  }
}

export interface AppProbe {
  serverVersion: string;
  superuser: boolean;
  /** Owner of the database the app connects to. */
  databaseOwner: string;
  /** TLS on this connection (protocol, certificate checked); undefined = plaintext. */
  tls: TlsState | undefined;
  /** The role may create tables in public (asked for with `write`). */
  canCreate?: boolean;
}

/**
 * Log in as the app and read what doctor checks (no superuser needed). With `write`, the same
 * query also asks whether it may create tables in public (what setup verifies). Never throws.
 */
export async function probeAsApp(login: AppLogin, opts: { write?: boolean } = {}): Promise<({ ok: true } & AppProbe) | Exclude<LoginResult, { ok: true }>> {
  let client: Client | undefined;
  try {
    let tls: TlsState | undefined;
    ({ client, tls } = await openAppClient(login));
    const { rows } = await client.query(
      `SELECT current_setting('server_version') AS v, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su,
              (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS owner${opts.write ? `, ${CAN_CREATE_SQL} AS can_create` : ''}`,
    );
    const r = rows[0] as { v: string; su: boolean; owner: string; can_create?: boolean };
    const probe: { ok: true } & AppProbe = { ok: true, serverVersion: r.v.split(' ')[0] ?? r.v, superuser: r.su === true, databaseOwner: r.owner, tls };
    if (opts.write) probe.canCreate = r.can_create === true;
    return probe;
  } catch (e) {
    return { ok: false, ...(await classifyLoginFailure(e, login)) };
  } finally {
    if (client) await closeClient(client);
  }
}
