import { join } from 'node:path';
import type { SqlSession } from '../db/admin.js';
import { generatePassword } from '../db/scram.js';
import { grantOwner, inspectDatabase, inspectRole, isTemplateUtf8, ownerGrantNeeded, tryAppLogin, verifyAppCanWrite, withVerifier, type AppLogin } from '../db/provision.js';
import { ExitCode, UserError } from '../errors.js';
import { gitIgnoredOf, isGitRepo, isGitTracked } from '../files/git.js';
import { checkWritable, readTextIfExists } from '../files/writer.js';
import type { RunConfig } from '../options/types.js';
import { ignoreEntries, notListed, type SetupFacts, type SetupPlan } from '../plan/decide.js';
import type { Step } from '../plan/step.js';
import { plannedStep } from './planned.js';
import { createRecorded, isRecordedCreated, serverKey } from '../state/created.js';

/** How the provisioning steps reach the server: the superuser session opens on first use only. */
export interface ServerAccess {
  endpoint: { host: string; port: number };
  provider: string;
  admin: () => Promise<SqlSession>;
}

/**
 * Everything decideSetup needs, read before anything changes: the role and database (through
 * the superuser session, unless the re-run is in place or the server is not there yet), the
 * known password tried as the role, and the env, example and ignore files.
 */
export async function inspectSetup(c: RunConfig, access: ServerAccess, o: { inPlace: { superuser: boolean } | undefined; serverUp: boolean }): Promise<SetupFacts> {
  const { endpoint } = access;
  const freshPassword = generatePassword();
  let server: SetupFacts['server'];
  if (o.inPlace) {
    server = { role: { exists: true, superuser: o.inPlace.superuser }, database: { exists: true, owner: c.dbUser, encoding: undefined }, templateUtf8: true, ownerGrant: undefined, login: undefined, roleRecorded: false };
  } else if (o.serverUp) {
    const admin = await access.admin();
    const role = await inspectRole(admin, c.dbUser);
    const database = await inspectDatabase(admin, c.dbName);
    const needsDb = !database.exists;
    let login: { tried: AppLogin; result: Awaited<ReturnType<typeof tryAppLogin>> } | undefined;
    if (role.exists && c.dbPassword !== undefined && !(database.exists && database.owner !== c.dbUser)) {
      const tried: AppLogin = { host: endpoint.host, port: endpoint.port, user: c.dbUser, password: c.dbPassword, database: database.exists ? c.dbName : 'postgres', tls: c.tls };
      login = { tried, result: await tryAppLogin(tried) };
    }
    server = {
      role,
      database,
      templateUtf8: needsDb ? await isTemplateUtf8(admin) : true,
      ownerGrant: needsDb ? await ownerGrantNeeded(admin, c.dbUser, role.exists) : undefined,
      login,
      roleRecorded: role.exists && (await isRecordedCreated(c.projectDir, serverKey(endpoint), 'roles', c.dbUser)),
    };
  }
  if (!c.dryRun) await checkWritable(c.envFile); // stop before creating anything the .env could not then name
  const envText = await readTextIfExists(c.envFile);
  const exampleText = (await readTextIfExists(join(c.projectDir, '.env.example'))) ?? '';
  const gitignoreText = (await readTextIfExists(join(c.projectDir, '.gitignore'))) ?? '';
  const repo = isGitRepo(c.projectDir);
  const unlisted = notListed(gitignoreText, ignoreEntries(c));
  // Listed in the project's own .gitignore settles it; otherwise git knows about other patterns.
  const ignoredByGit = repo && unlisted.length > 0 ? [...(await gitIgnoredOf(c.projectDir, unlisted))] : [];
  return {
    endpoint,
    inPlace: o.inPlace !== undefined,
    server,
    envText: envText ?? '',
    envExists: envText !== undefined,
    exampleText,
    gitignoreText,
    ignoredByGit,
    envTracked: repo && (await isGitTracked(c.projectDir, c.envFile)),
    shellValue: process.env[c.envKey],
    freshPassword,
  };
}

/** The role, database and login steps, as decided: each runs the plan's SQL and nothing else. */
export function provisionSteps(c: RunConfig, plan: SetupPlan, access: ServerAccess): Step[] {
  const { endpoint, admin } = access;
  const roleStep = plannedStep(plan.role, async () => {
    const a = await admin();
    const sql = withVerifier(plan.role.sql!, plan.password);
    if (plan.roleAction === 'reset') {
      await a.query(sql).catch((e: unknown) => {
        // PostgreSQL 16+: a CREATEROLE admin may alter only roles it administers (those it created).
        throw new UserError(`The admin cannot set a new password for role "${c.dbUser}": ${(e as Error).message}`, {
          hint: `Use the admin that created the role (or a superuser), or pass --db-user with a new role name.`,
          exitCode: ExitCode.auth,
        });
      });
      return 'new password set';
    }
    await createRecorded(c.projectDir, serverKey(endpoint), access.provider, 'roles', c.dbUser, () => a.query(sql));
    return 'created (LOGIN, not superuser)';
  });
  const dbStep = plannedStep(plan.database, async () => {
    const a = await admin();
    const granted = plan.database.grant ? await grantOwner(a, plan.database.grant, c.dbUser) : undefined; // a CREATEROLE (not superuser) admin
    await createRecorded(c.projectDir, serverKey(endpoint), access.provider, 'databases', c.dbName, () => a.query(plan.database.create));
    return granted ? `created (UTF8); ${granted}` : 'created (UTF8)';
  });
  const login: AppLogin = { host: endpoint.host, port: endpoint.port, user: c.dbUser, password: plan.password, database: c.dbName, tls: c.tls };
  const verifyStep = plannedStep(plan.verify, async () => {
    await verifyAppCanWrite(login);
    return 'can create tables in public';
  });
  return [roleStep, dbStep, verifyStep];
}
