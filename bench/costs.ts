/**
 * Where a re-run's time goes, measured rather than guessed: the import cost of each library
 * (a Node process importing it, paired with `node -e 0`) and, in this process, the pieces of
 * the app connection (TCP + SCRAM login, the old scratch-table proof, the catalog query that
 * replaced it, closing).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { TestCluster } from '../test/helpers/cluster.js';
import { median } from './stats.js';

const ITERATIONS = 11;

function wall(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t0;
}

const range = (xs: number[]) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

/** The file of the built bundle (dist/) that holds `module`: esbuild heads each module's code with a `// path` line. */
function chunkOf(root: string, module: string): string {
  const dist = join(root, 'dist');
  const file = readdirSync(dist).find((f) => f.endsWith('.js') && readFileSync(join(dist, f), 'utf8').includes(`\n// ${module}\n`));
  if (!file) throw new Error(`no chunk of dist/ holds ${module}: run npm run build`);
  return join(dist, file);
}

export async function measureCosts(ctx: { root: string; cluster: TestCluster }): Promise<string[]> {
  const importOf = (module: string) => `await import(${JSON.stringify(chunkOf(ctx.root, module))})`;
  const imports: [string, string][] = [
    ['`pg` from node_modules (unbundled)', `await import('pg')`],
    ['`pg` as the CLI loads it: its chunk of the bundle, through src/db/pg-driver.ts (no fetch load on Node 20)', importOf('src/db/pg-driver.ts')],
    ['`listr2` from node_modules', `await import('listr2')`],
    ['`listr2` as the CLI loads it (its chunk; only on a terminal with work to do)', importOf('node_modules/listr2/dist/index.js')],
    ['`execa` from node_modules', `await import('execa')`],
    ['`execa` as the CLI loads it (its chunk, for the first child process: `pg-setup start`\'s pg_ctl)', importOf('node_modules/execa/index.js')],
    ['pg-setup\'s own modules (the commands chunk: every command and provider)', importOf('src/commands/index.ts')],
  ];
  const rows: string[] = [];
  for (const [label, code] of imports) {
    const extra: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      // Alternate which goes first; the difference of the pair is the import's own cost.
      const pair = i % 2 ? [wall(['-e', '0'], ctx.root), wall(['--input-type=module', '-e', code], ctx.root)] : [wall(['--input-type=module', '-e', code], ctx.root), wall(['-e', '0'], ctx.root)];
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
    'dist/ is one esbuild bundle (scripts/build.mjs): a re-run loads cli.js, the commands chunk and the pg chunk (with two small shared chunks) instead of ~100 modules, never listr2 (off a terminal its lines are printed directly, src/plan/task-lines.ts; on a terminal it loads once a step has work to do) or execa (no child process), loads pg without the fetch implementation, and proves write access in the probe\'s own query: one connection, one query.',
  ];
}
