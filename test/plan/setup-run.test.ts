/**
 * The plan tier, end to end without a server: the real resolver, the real inspection
 * (steps/provision.ts inspectSetup) and the real steps run against a stand-in superuser session
 * and a real temporary project folder. No PostgreSQL, no child process, no socket: the login
 * steps (TCP) are the only steps left out, and the re-run's "in place" probe is given as its result.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { SqlSession } from '../../src/db/admin.js';
import { readEnvValue } from '../../src/files/env-file.js';
import { parseFlags } from '../../src/options/parse.js';
import { resolveOptions } from '../../src/options/resolve.js';
import type { RunConfig } from '../../src/options/types.js';
import { decideSetup, type SetupPlan } from '../../src/plan/decide.js';
import { envFileSteps } from '../../src/steps/env-files.js';
import { inspectSetup, provisionSteps, type ServerAccess } from '../../src/steps/provision.js';

/** A stand-in superuser session: the catalog rows inspectSetup reads, and every statement it is sent. */
function standInServer(): { session: SqlSession; sent: string[]; roles: Set<string>; databases: Map<string, string> } {
  const roles = new Set<string>();
  const databases = new Map<string, string>();
  const sent: string[] = [];
  const name = (sql: string) => /= '([^']+)'/.exec(sql)?.[1] ?? '';
  const session: SqlSession = {
    via: 'stand-in',
    close: async () => undefined,
    async query(sql: string) {
      sent.push(sql);
      if (/FROM pg_roles WHERE rolname = '/.test(sql)) return roles.has(name(sql)) ? [{ rolsuper: false, rolcreaterole: false, rolcanlogin: true }] : [];
      if (/datname = 'template1'/.test(sql)) return [{ e: 'UTF8' }];
      if (/FROM pg_database WHERE datname = '/.test(sql)) {
        const owner = databases.get(name(sql));
        return owner ? [{ owner, encoding: 'UTF8' }] : [];
      }
      if (/current_user AS me/.test(sql)) return [{ me: 'postgres', su: true, v: 170000 }];
      const role = /^CREATE ROLE "([^"]+)"/.exec(sql);
      if (role) roles.add(role[1]!);
      const db = /^CREATE DATABASE "([^"]+)" OWNER "([^"]+)"/.exec(sql);
      if (db) databases.set(db[1]!, db[2]!);
      return [];
    },
  };
  return { session, sent, roles, databases };
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(): string {
  const dir = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-plan-'));
  dirs.push(dir);
  return dir;
}

/** Options as a run resolves them: the env file read under the key the project's settings read. */
function config(dir: string, appKey?: string): RunConfig {
  const flags = parseFlags(['--db-name', 'blog', '--project-dir', dir]);
  let envText: string | undefined;
  try {
    envText = readFileSync(join(dir, '.env'), 'utf8');
  } catch {
    envText = undefined;
  }
  const { options } = resolveOptions({ flags, env: { CI: 'true' }, cwd: dir, stdinIsTTY: false, envFileValue: envText && readEnvValue(envText, appKey ?? 'DATABASE_URL'), projectEnvKey: appKey });
  return Object.freeze(options);
}

/** One setup pass after the server is up: inspect, decide, run every step but the TCP login checks. */
async function pass(c: RunConfig, server: ReturnType<typeof standInServer>, inPlace?: { superuser: boolean }): Promise<{ plan: SetupPlan; ran: string[] }> {
  const access: ServerAccess = { endpoint: { host: 'localhost', port: 5432 }, provider: 'existing', admin: async () => server.session };
  const facts = await inspectSetup(c, access, { inPlace, serverUp: true });
  const d = decideSetup(c, facts);
  if (d.kind !== 'plan') throw new Error(d.question);
  const ran: string[] = [];
  for (const step of [...provisionSteps(c, d.plan, access), ...envFileSteps(c, d.plan, facts)]) {
    if (step.readOnly || (await step.check())) continue;
    await step.run(() => undefined);
    ran.push(step.title);
  }
  return { plan: d.plan, ran };
}

describe.each([[undefined], ['SQLALCHEMY_DATABASE_URI']])('a project whose app reads %s', (appKey) => {
  const key = appKey ?? 'DATABASE_URL';

  test('a first run creates the role and database with a verifier (never the password) and writes the files; the re-run decides nothing to do', async () => {
    const dir = project();
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n');
    const server = standInServer();
    const first = await pass(config(dir, appKey), server);
    expect(first.ran).toEqual(['Create role blog_user', 'Create database blog', `Write ${key} to .env`, `List ${key} in .env.example`, 'Keep .env out of git']);
    const create = server.sent.find((s) => s.startsWith('CREATE ROLE'))!;
    expect(create).toMatch(/^CREATE ROLE "blog_user" WITH LOGIN NOSUPERUSER .* PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(create).not.toContain(first.plan.password);
    expect(server.databases.get('blog')).toBe('blog_user');
    const env = readFileSync(join(dir, '.env'), 'utf8');
    expect(env).toBe(`${key}="${first.plan.url}"\n`);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n.env\n.pg-setup/\n');
    expect(JSON.parse(readFileSync(join(dir, '.pg-setup/state.json'), 'utf8')).servers['localhost:5432']).toMatchObject({ roles: ['blog_user'], databases: ['blog'] });

    // The re-run reads the env file under the same key, so it knows the password: nothing to do.
    const again = config(dir, appKey);
    expect(again.dbPassword).toBe(first.plan.password);
    const before = server.sent.length;
    const second = await pass(again, server, { superuser: false });
    expect(second.ran).toEqual([]);
    expect(server.sent.length).toBe(before); // in place: the superuser session is never asked
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(env);
  });
});

test('a file changed between the inspection and its step is refused, not overwritten', async () => {
  const dir = project();
  const c = config(dir);
  const server = standInServer();
  const access: ServerAccess = { endpoint: { host: 'localhost', port: 5432 }, provider: 'existing', admin: async () => server.session };
  const facts = await inspectSetup(c, access, { inPlace: undefined, serverUp: true });
  const d = decideSetup(c, facts);
  if (d.kind !== 'plan') throw new Error(d.question);
  writeFileSync(join(dir, '.env'), 'OTHER=1\n');
  const envStep = envFileSteps(c, d.plan, facts)[0]!;
  await expect(envStep.run(() => undefined)).rejects.toThrow(/changed while pg-setup ran/);
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('OTHER=1\n');
});
