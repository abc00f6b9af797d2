/** Small SQL helpers for e2e assertions. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** Run one statement on a URL (SQLAlchemy driver suffixes are accepted). */
export async function sqlAs(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url.replace(/^postgresql\+\w+/, 'postgresql') });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

/** How many roles and databases with these names exist. */
export async function countObjects(adminUrl: string, role: string, db: string): Promise<{ roles: number; dbs: number }> {
  const [r] = await sqlAs(adminUrl, `select (select count(*) from pg_roles where rolname = '${role}')::int as roles, (select count(*) from pg_database where datname = '${db}')::int as dbs`);
  return r as { roles: number; dbs: number };
}

/** The DATABASE_URL in a project's .env, as python-dotenv would read it (simple forms only). */
export function envUrl(dir: string, file = '.env'): string | undefined {
  const line = readFileSync(join(dir, file), 'utf8').split(/\r?\n/).reverse().find((l) => /^(export\s+)?DATABASE_URL=/.test(l));
  return line?.replace(/^(export\s+)?DATABASE_URL=/, '').replace(/^"(.*)"$/, '$1');
}

/** The password inside a URL. */
export function urlPassword(url: string): string {
  return decodeURIComponent(new URL(url.replace(/^[^:]+:/, 'http:')).password);
}

/** Every leftover atomic-write temp file or lock below `dir`. */
export function leftovers(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.pgsetup-[0-9a-f]+\.tmp$/.test(f) || f.endsWith(join('.pg-setup', 'lock')));
}
