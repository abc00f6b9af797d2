import { basename, relative } from 'node:path';
import { connectAdmin } from '../db/admin.js';
import { quoteIdent } from '../db/ident.js';
import { loginError } from '../db/provision.js';
import { maskUrl } from '../db/url.js';
import { gitIgnoredOf, isGitRepo, isGitTracked } from '../files/git.js';
import { gitignoreCovers } from '../files/gitignore.js';
import { readTextIfExists } from '../files/writer.js';
import { hasLocalCluster } from '../providers/local/cluster.js';
import type { ProjectAnalysis } from '../project/analysis.js';
import { analyzeOnce, looksLikePythonProject } from '../project/discover.js';
import { isAtHeads, readDbState } from '../project/migration.js';
import { isLocalHost } from '../db/tls.js';
import { fail, pass, skip, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './registry.js';

const envRel = (ctx: DoctorContext) => relative(ctx.opts.projectDir, ctx.opts.envFile) || ctx.opts.envFile;
const RERUN = 'Run npx pg-setup (it fixes this and changes nothing else).';
const TLS_FIX = "Run npx pg-setup --overwrite-env --admin-url 'postgres://ADMIN@HOST:PORT/postgres?sslmode=verify-full&sslrootcert=/path/to/ca.pem' (the CA your provider publishes).";

/** The app's login result, or the reason the check cannot run yet. */
async function loggedIn(ctx: DoctorContext): Promise<CheckResult | { probe: Awaited<ReturnType<DoctorContext['probe']>> & { ok: true } }> {
  const probe = await ctx.probe();
  if (!probe) return skip(`needs a valid ${ctx.opts.envKey} in ${envRel(ctx)}`);
  if (!probe.ok) return skip('needs the role to log in');
  return { probe };
}

/**
 * Every doctor check, in the order printed. To add one (Alembic at head, create_all gone,
 * the Docker container running), append an entry; nothing else changes.
 */
export const DOCTOR_CHECKS: DoctorCheck[] = [
  {
    id: 'env-key',
    title: 'env key present and valid',
    async run(ctx) {
      const { envKey } = ctx.opts;
      if (ctx.envText === undefined) return fail(`${envRel(ctx)} does not exist`, RERUN);
      if (ctx.envValue === undefined) return fail(`${envKey} is not set in ${envRel(ctx)}`, RERUN);
      if (!ctx.login) return fail(`${envKey} in ${envRel(ctx)} is not a postgres URL (${maskUrl(ctx.envValue)})`, `${RERUN} Pass --overwrite-env to replace the current value (a backup is kept).`);
      return pass(`${envKey}=${maskUrl(ctx.envValue)}`);
    },
  },
  {
    id: 'env-not-shadowed',
    title: 'env key not shadowed by the shell',
    async run(ctx) {
      const { envKey } = ctx.opts;
      const shell = process.env[envKey];
      if (shell === undefined) return pass(`${envKey} is not set in the environment`);
      if (shell === ctx.envValue) return pass(`the environment holds the same value`);
      // pydantic-settings and python-dotenv both let a real environment variable win over .env.
      return fail(`${envKey} is set in your shell (${maskUrl(shell)}) and wins over ${envRel(ctx)}`, `unset ${envKey}   (and remove it from your shell profile)`);
    },
  },
  {
    id: 'server',
    title: 'server reachable',
    async run(ctx) {
      const probe = await ctx.probe();
      if (!probe || !ctx.login) return skip(`needs a valid ${ctx.opts.envKey}`);
      if (!probe.ok && probe.reason === 'unreachable') {
        // The project's own cluster is started by pg-setup itself, as `pg-setup stop` says.
        const fix = hasLocalCluster(ctx.opts.projectDir) ? 'Start the project cluster: npx pg-setup start' : (loginError(ctx.login, probe).hint ?? RERUN);
        return fail(`nothing answers on ${ctx.login.host}:${ctx.login.port}`, fix);
      }
      return pass(`${ctx.login.host}:${ctx.login.port}${probe.ok ? `, PostgreSQL ${probe.serverVersion}` : ''}`);
    },
  },
  {
    id: 'login',
    title: `role logs in with the URL in the env file`,
    async run(ctx) {
      const probe = await ctx.probe();
      if (!probe || !ctx.login) return skip(`needs a valid ${ctx.opts.envKey}`);
      if (probe.ok) return pass(`${ctx.login.user}@${ctx.login.host}:${ctx.login.port}/${ctx.login.database}`);
      if (probe.reason === 'unreachable') return skip('needs the server');
      const e = loginError(ctx.login, probe);
      return fail(e.message, e.hint ?? RERUN);
    },
  },
  {
    id: 'tls',
    title: "TLS on the app's connection",
    async run(ctx) {
      const r = await loggedIn(ctx);
      if (!('probe' in r)) return r;
      const { host } = ctx.login!;
      const mode = ctx.login!.tls?.sslmode;
      const t = r.probe.tls;
      if (!t) {
        if (isLocalHost(host)) return pass(`not encrypted (${host} is this machine)`);
        return warn(`not encrypted: the password and the data cross the network to ${host} in the clear`, TLS_FIX);
      }
      if (t.hostChecked) return pass(`${t.protocol}, certificate and host name verified (sslmode=${mode})`);
      if (t.verified) return pass(`${t.protocol}, certificate verified, host name not checked (sslmode=${mode})`);
      if (isLocalHost(host)) return pass(`${t.protocol}, certificate not verified (sslmode=${mode}; ${host} is this machine)`);
      return warn(
        `${t.protocol}, but the certificate is NOT verified (sslmode=${mode}): anyone between here and ${host} could pose as the server`,
        TLS_FIX,
      );
    },
  },
  {
    id: 'owner',
    title: 'database owned by the role',
    async run(ctx) {
      const r = await loggedIn(ctx);
      if (!('probe' in r)) return r;
      const { user, database } = ctx.login!;
      if (r.probe.databaseOwner === user) return pass(`${database} is owned by ${user}`);
      return fail(`${database} is owned by ${r.probe.databaseOwner}, not ${user}`, `As a superuser: ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(user)};`);
    },
  },
  {
    id: 'not-superuser',
    title: 'role is not a superuser',
    async run(ctx) {
      const r = await loggedIn(ctx);
      if (!('probe' in r)) return r;
      const { user } = ctx.login!;
      if (!r.probe.superuser) return pass(`${user} is an ordinary role`);
      return fail(`${user} is a superuser: a bug or injection in the app could do anything to the server`, `As a superuser: ALTER ROLE ${quoteIdent(user)} NOSUPERUSER;`);
    },
  },
  {
    id: 'env-ignored',
    title: 'env file ignored and not tracked by git',
    async run(ctx) {
      const rel = envRel(ctx);
      if (rel.startsWith('..')) return skip(`${ctx.opts.envFile} is outside the project`);
      const dir = ctx.opts.projectDir;
      if (isGitRepo(dir)) {
        if (await isGitTracked(dir, rel)) return fail(`${rel} is tracked by git, so its secrets are in the history`, `git rm --cached ${rel} && git commit -m "Stop tracking ${rel}"   (then change the password: npx pg-setup --reset-password)`);
        if (!(await gitIgnoredOf(dir, [rel])).has(rel)) return fail(`git does not ignore ${rel}`, RERUN);
        return pass(`git ignores ${rel} and does not track it`);
      }
      const text = (await readTextIfExists(`${dir}/.gitignore`)) ?? '';
      if (!gitignoreCovers(text, rel)) return fail(`.gitignore does not list ${rel}`, RERUN);
      return pass(`.gitignore lists ${rel} (not a git repository yet)`);
    },
  },
  {
    id: 'settings-env',
    title: 'the app settings read the URL from the env file',
    async run(ctx) {
      const a = await projectAnalysis(ctx);
      if (!a?.isSqlalchemy) return skip('no SQLAlchemy project here');
      const s = a.settings;
      if (!s) return skip('no settings class (the URL comes from elsewhere)');
      const f = s.urlField;
      const name = `${s.module}.${s.className}`;
      if (!f) return fail(`${name} has no URL field`, RERUN);
      const same = s.caseSensitive ? f.envKey === ctx.opts.envKey : f.envKey.toUpperCase() === ctx.opts.envKey.toUpperCase();
      if (!same) return fail(`${name}.${f.name} reads ${f.envKey}, but ${envRel(ctx)} holds ${ctx.opts.envKey}`, `npx pg-setup --env-key ${f.envKey}`);
      // Read from the code, as the analyzer does: nothing of the app is imported.
      const env = s.envFile;
      if (env?.reads === false) return fail(`${name} reads no env file (no env_file in its config), so ${f.envKey} in ${envRel(ctx)} never reaches the app`, RERUN);
      if (env?.value && env.value !== envRel(ctx)) return fail(`${name} reads ${env.value}, not ${envRel(ctx)}`, `Pass --env-file ${env.value}, or set env_file=".env" in ${s.file}.`);
      if (f.defaultIsSqlite) return fail(`${name}.${f.name} still falls back to SQLite (${f.default})`, RERUN);
      return pass(`${name}.${f.name} <- ${f.envKey} in ${env?.value ?? envRel(ctx)}`);
    },
  },
  {
    id: 'alembic',
    title: 'Alembic wired (env.py imports the models, URL from settings) and at head',
    async run(ctx) {
      const a = await projectAnalysis(ctx);
      if (!a?.isSqlalchemy) return skip('no SQLAlchemy project here');
      if (!a.alembic.ini && !a.alembic.dir) return fail('no alembic.ini or alembic/ folder', RERUN);
      const env = a.alembic.env;
      if (!env) return fail('alembic/env.py is missing', RERUN);
      const gaps: string[] = [];
      if (env.error) gaps.push(`env.py does not parse: ${env.error}`);
      if (!env.targetMetadata) gaps.push('target_metadata is None');
      if (!env.setsUrl) gaps.push('sqlalchemy.url is not set from the settings');
      const notImported = a.models.modules.filter((m) => !env.imports.some((imp) => m === imp || m.startsWith(`${imp}.`)));
      if (notImported.length) gaps.push(`model modules not imported: ${notImported.join(', ')}`);
      if (gaps.length) return fail(gaps.join('; '), 'Fix alembic/env.py as described (pg-setup never overwrites an existing one), or move it away and run npx pg-setup.');
      if (a.alembic.heads.length === 0) return fail('alembic/versions has no revision', RERUN);
      const app = await loggedIn(ctx);
      if (!('probe' in app)) return app;
      const session = await connectAdmin(ctx.login!);
      try {
        const state = await readDbState(session);
        if (!isAtHeads(state.versions, a.alembic.heads)) {
          return fail(`database at ${state.versions?.join(', ') || 'no revision'}, head is ${a.alembic.heads.join(', ')}`, 'uv run alembic upgrade head   (or your runner: alembic upgrade head)');
        }
        return pass(`at head (${a.alembic.heads.join(', ')})`);
      } finally {
        await session.close();
      }
    },
  },
  {
    id: 'no-create-all',
    title: 'create_all gone from the app start-up',
    async run(ctx) {
      const a = await projectAnalysis(ctx);
      if (!a?.isSqlalchemy) return skip('no SQLAlchemy project here');
      const startup = a.createAll.filter((c) => c.inStartup && !c.isCall);
      if (startup.length === 0) return pass('migrations own the schema');
      const where = startup.map((c) => `${c.file}:${c.line}`).join(', ');
      return fail(`create_all still runs at start-up (${where})`, 'Run npx pg-setup --yes to remove it (a backup is kept), or delete the call by hand and keep engine.dispose().');
    },
  },
];


const analyses = new WeakMap<DoctorContext, Promise<ProjectAnalysis | undefined>>();

/** The project analysis, once per doctor run; undefined when this is not a Python project. */
function projectAnalysis(ctx: DoctorContext): Promise<ProjectAnalysis | undefined> {
  let p = analyses.get(ctx);
  if (!p) {
    p = (async () => {
      if (!looksLikePythonProject(ctx.opts.projectDir)) return undefined;
      // The same analysis that settled the env key before the env file was read.
      return analyzeOnce(ctx.opts.projectDir, ctx.opts);
    })();
    analyses.set(ctx, p);
  }
  return p;
}
