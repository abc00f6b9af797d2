/**
 * The proof that the app may create its tables is one catalog query now (no scratch table):
 * it must still say no exactly when PostgreSQL would refuse a CREATE TABLE, on a first run and
 * on a re-run that would otherwise find everything in place.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sqlAs } from '../helpers/sql.js';
import { useClusterSuite } from '../helpers/suite.js';

const suite = useClusterSuite();

const PASSWORD = 'write-proof-password-1234567890';
const dbUrl = (role: string, db: string, password = PASSWORD) => `postgresql://${role}:${password}@127.0.0.1:${suite.cluster().port}/${db}`;
const onDb = (db: string) => suite.cluster().adminUrl.replace(/\/postgres$/, `/${db}`);
const appUrl = (dir: string) => /^DATABASE_URL="(.*)"$/m.exec(readFileSync(join(dir, '.env'), 'utf8'))?.[1] as string;

/** What PostgreSQL itself says when the role tries to create a table there. */
async function createTableError(url: string): Promise<string | undefined> {
  try {
    await sqlAs(url, 'CREATE TABLE public.probe_by_test (id int); DROP TABLE public.probe_by_test');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('the write check', () => {
  test('a role that owns its database but may not create in public is stopped at verification, with the GRANT to run', async () => {
    const admin = suite.cluster().adminUrl;
    await sqlAs(admin, `CREATE ROLE locked_user LOGIN PASSWORD '${PASSWORD}'`);
    await sqlAs(admin, 'CREATE DATABASE locked OWNER locked_user');
    // The schema no longer belongs to the database owner, and nobody else may create in it.
    await sqlAs(onDb('locked'), 'ALTER SCHEMA public OWNER TO postgres; REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    expect(await createTableError(dbUrl('locked_user', 'locked'))).toMatch(/permission denied for schema public/);

    const dir = suite.project('locked');
    const r = await runCli([...suite.base(), '--db-name', 'locked', '--db-user', 'locked_user', '--db-password', PASSWORD], { cwd: dir });
    expect(r.code, r.all).toBe(4);
    expect(r.all).toContain('Role "locked_user" can log in but cannot create tables in locked.public: it has no CREATE privilege on schema public.');
    expect(r.all).toContain('GRANT CREATE ON SCHEMA public TO "locked_user"');
    expect(r.all).not.toContain(PASSWORD);
  });

  test('a re-run on a database that has turned read-only does not report everything in place', async () => {
    const dir = suite.project('frozen');
    const first = await runCli([...suite.base(), '--db-name', 'frozen'], { cwd: dir });
    expect(first.code, first.all).toBe(0);
    await sqlAs(suite.cluster().adminUrl, 'ALTER DATABASE frozen SET default_transaction_read_only = on');
    expect(await createTableError(appUrl(dir))).toMatch(/read-only transaction/);

    const again = await runCli([...suite.base(), '--db-name', 'frozen'], { cwd: dir });
    expect(again.code, again.all).toBe(4);
    expect(again.all).not.toContain('Everything is already in place');
    expect(again.all).toContain('cannot create tables in frozen.public: the server makes new sessions read-only (default_transaction_read_only).');

    // Writable again: the re-run is back on the fast path.
    await sqlAs(suite.cluster().adminUrl, 'ALTER DATABASE frozen RESET default_transaction_read_only');
    const fixed = await runCli([...suite.base(), '--db-name', 'frozen'], { cwd: dir });
    expect(fixed.code, fixed.all).toBe(0);
    expect(fixed.all).toContain('Everything is already in place; nothing changed.');
    expect(fixed.all).toContain('(can create tables in public)');
  });
});
