import pg from 'pg';

/** Run SQL with a URL as written to .env (the SQLAlchemy driver suffix is dropped) and return the rows. */
export async function sqlAs(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url.replace(/^postgresql\+(psycopg|asyncpg)/, 'postgresql') });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}
