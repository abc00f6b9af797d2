/**
 * Helpers for the Python-project e2e tests: a fixture copied to a temp folder, an app role and
 * database in a throwaway cluster, a .env like the core writes, and a tiny step runner.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { connectAdmin } from '../../src/db/admin.js';
import { quoteIdent, quoteLiteral } from '../../src/db/ident.js';
import { buildUrl } from '../../src/db/url.js';
import type { ProjectContext } from '../../src/project/context.js';
import type { Step, StepOutcome } from '../../src/plan/step.js';
import type { TestCluster } from './cluster.js';
import { runSteps as runCheckedSteps } from './provider-options.js';

// uv must use the machine's Python, never download one.
process.env.UV_PYTHON_DOWNLOADS = 'never';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** Copy a fixture to a fresh temp folder and return its path. */
export function copyFixture(name: string): string {
  const dir = tempDir(`pgsetup-${name}-`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** A temp folder inside the run's folder (test/helpers/global-setup.ts removes it at the end). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), prefix));
}

/** Create role + database owned by it (as the core does) and return the app's URL. */
export async function createAppDb(cluster: TestCluster, role: string, db: string): Promise<string> {
  const password = `pw-${role}%x`;
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}`);
  await admin.query(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(role)}`);
  await admin.end();
  return buildUrl({ driver: 'psycopg', user: role, password, host: cluster.host, port: cluster.port, database: db });
}

/** The context the core would build for these steps. */
export function makeContext(cluster: TestCluster, projectDir: string, databaseUrl: string, role: string, extra: Partial<ProjectContext> = {}): ProjectContext {
  return {
    projectDir,
    envKey: 'DATABASE_URL',
    databaseUrl,
    driver: 'psycopg',
    yes: true,
    dryRun: false,
    migrations: 'auto',
    sqlite: 'keep',
    admin: () => connectAdmin({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superPassword }),
    appRole: role,
    ...extra,
  };
}

/** Write the env file the core writes before the project steps run. */
export function writeEnv(projectDir: string, key: string, url: string): void {
  writeFileSync(join(projectDir, '.env'), `${key}="${url}"\n`);
}

/** Run steps like the core: check, then run when work is due. */
export async function runSteps(steps: Step[]): Promise<StepOutcome[]> {
  return (await runCheckedSteps(steps)).map(({ title, status, detail }) => ({ title, status, detail }));
}

/** Query the app database as the superuser. */
export async function sql(cluster: TestCluster, db: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superPassword, database: db });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

/** Relative path -> content of every source file the project owns (not venv, not caches). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (['.venv', '__pycache__', '.pg-setup'].includes(name)) continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/**
 * Start the app with uvicorn on a free port (`command` runs it, e.g. the venv's python -m
 * uvicorn or `uv run uvicorn`), wait until `readyPath` answers, run `fn` with its base URL,
 * and stop it whatever happens.
 */
export async function withApp<T>(dir: string, command: string[], readyPath: string, fn: (base: string) => Promise<T>): Promise<T> {
  const { freePort } = await import('./cluster.js');
  const port = await freePort();
  const [cmd, ...args] = command;
  const app = spawn(cmd!, [...args, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' },
  });
  let stderr = '';
  app.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited: number | null | undefined;
  app.on('exit', (code) => (exited = code));
  try {
    const base = `http://127.0.0.1:${port}`;
    // A loaded machine (a poetry venv, two test files at once) can take a while to import the app.
    const deadline = Date.now() + 120_000;
    let ready = false;
    while (!ready && exited === undefined && Date.now() < deadline) {
      ready = await fetch(`${base}${readyPath}`).then((r) => r.status < 500, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (!ready) throw new Error(`${command.join(' ')} did not serve ${readyPath} (${exited === undefined ? 'still starting after 120 s' : `exited with ${exited}`}):\n${stderr}`);
    return await fn(base);
  } finally {
    app.kill('SIGTERM');
  }
}

/** POST JSON and return the response. */
export function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
