/**
 * Where a re-run's time goes, measured rather than guessed: the import cost of each library
 * (a Node process importing it, paired with `node -e 0`) and, in this process, the pieces of
 * the app connection (TCP + SCRAM login, the old scratch-table proof, the catalog query that
 * replaced it, closing).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { TestCluster } from '../test/helpers/cluster.js';
import { median } from './stats.js';

const ITERATIONS = 11;

/** `status` with nothing listening exits 3 (server not answering): that is its expected end here. */
function wall(args: string[], cwd: string, anyExit = false): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0 && !(anyExit && r.status === 3)) throw new Error(`node ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t0;
}

const range = (xs: number[]) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

export async function measureCosts(ctx: { root: string; cluster: TestCluster }): Promise<string[]> {
  const bin = JSON.stringify(join(ctx.root, 'bin', 'pg-setup.cjs'));
  // `status` against a port where nothing listens: it loads the commands bundle, connects nowhere.
  const status = (cache: boolean) => `process.argv.splice(1, Infinity, 'pg-setup', 'status', '--provider', 'existing', '--host', '127.0.0.1', '--port', '9'); ${cache ? '' : "process.env.NODE_DISABLE_COMPILE_CACHE = '1'; "}await import(${bin})`;
  const imports: [string, string][] = [
    ['`pg` from node_modules (unbundled)', `await import('pg')`],
    ['`listr2` from node_modules (unbundled)', `await import('listr2')`],
    ['`execa` from node_modules (unbundled)', `await import('execa')`],
    ['dist/cli.cjs alone (what `--help` and `--version` load)', `await import(${JSON.stringify(join(ctx.root, 'dist', 'cli.cjs'))})`],
    ['and `pg-setup status` (the commands bundle loaded; no server) without the code cache', status(false)],
    ['and `pg-setup status` with the code cache (src/io/code-cache.ts)', status(true)],
  ];
  const rows: string[] = [];
  for (const [label, code] of imports) {
    const extra: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      // Alternate which goes first; the difference of the pair is the import's own cost.
      const pair = i % 2 ? [wall(['-e', '0'], ctx.root), wall(['--input-type=module', '-e', code], ctx.root, true)] : [wall(['--input-type=module', '-e', code], ctx.root, true), wall(['-e', '0'], ctx.root)];
      extra.push(i % 2 ? pair[1]! - pair[0]! : pair[0]! - pair[1]!);
    }
    rows.push(`| import ${label} | ${range(extra)} |`);
    process.stderr.write('.');
  }

  // The app connection's pieces, as the fast path runs them.
  const admin = new pg.Client({ connectionString: ctx.cluster.adminUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE bench_costs_user LOGIN PASSWORD 'bench-costs-password-123'`);
  await admin.query(`CREATE DATABASE bench_costs OWNER bench_costs_user`);
  await admin.end();
  const laps = { connect: [] as number[], scratch: [] as number[], catalog: [] as number[], end: [] as number[] };
  for (let i = 0; i < ITERATIONS; i++) {
    const c = new pg.Client({ host: ctx.cluster.host, port: ctx.cluster.port, user: 'bench_costs_user', password: 'bench-costs-password-123', database: 'bench_costs' });
    let t = performance.now();
    await c.connect();
    laps.connect.push(performance.now() - t);
    t = performance.now();
    await c.query(`CREATE TABLE public.pg_setup_check_bench (id int)`);
    await c.query(`DROP TABLE public.pg_setup_check_bench`);
    laps.scratch.push(performance.now() - t);
    t = performance.now();
    await c.query(`SELECT has_schema_privilege('public', 'CREATE') AND NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS ok`);
    laps.catalog.push(performance.now() - t);
    t = performance.now();
    await c.end();
    laps.end.push(performance.now() - t);
  }
  process.stderr.write(' costs done\n');
  return [
    '## Where the time of a re-run goes',
    '',
    `Each import: a Node process importing it minus \`node -e 0\` in the same pair; the connection pieces: laps in one process against the bench cluster. Median (min–max) of ${ITERATIONS}.`,
    '',
    '| piece | cost |',
    '| --- | --- |',
    ...rows,
    `| app login over TCP (SCRAM exchange) | ${range(laps.connect)} |`,
    `| write proof before: CREATE TABLE + DROP TABLE (two commits) | ${range(laps.scratch)} |`,
    `| write proof now: has_schema_privilege + not a standby + not read-only (one catalog query) | ${range(laps.catalog)} |`,
    `| closing the connection | ${range(laps.end)} |`,
    '',
    'dist/ is two CommonJS bundles (scripts/build.mjs): a re-run loads cli.cjs and the commands bundle, with V8\'s code cache (src/io/code-cache.ts), instead of ~100 modules; it never runs listr2\'s code (off a terminal its lines are printed directly, src/plan/task-lines.ts; on a terminal it loads once a step has work to do) or execa (no child process), loads pg without the fetch implementation, and proves write access in the probe\'s own query: one connection, one query.',
  ];
}
