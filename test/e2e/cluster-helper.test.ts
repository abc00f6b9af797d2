import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(() => cluster?.stop());

test('a throwaway cluster accepts the superuser password over TCP and rejects a wrong one', async () => {
  const ok = new pg.Client({ connectionString: cluster.adminUrl });
  await ok.connect();
  const r = await ok.query('select current_user as u');
  expect(r.rows[0].u).toBe('postgres');
  await ok.end();
  const bad = new pg.Client({ host: cluster.host, port: cluster.port, user: 'postgres', password: 'nope', database: 'postgres' });
  await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
});
