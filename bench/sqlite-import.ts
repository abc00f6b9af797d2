/**
 * (f) The SQLite import, 1,000,000 generated rows over three tables (integers, text, datetimes,
 * booleans, numerics) into the app's Alembic schema on one cluster:
 *   A = `pg-setup import-sqlite` (the CLI as a user runs it: one transaction, verified),
 *   B = `pgloader --with "data only"` into the same schema,
 *   C = the floor: `psql \copy` of the same rows pre-converted to CSV, in one transaction.
 * The three rotate order each round; the tables are truncated (untimed) before every side.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestCluster } from '../test/helpers/cluster.js';

export const IMPORT_BEGIN = '<!-- sqlite-import: written by bench/sqlite-import.ts -->';
export const IMPORT_END = '<!-- /sqlite-import -->';

interface Ctx {
  root: string;
  bin: string;
  work: string;
  cluster: TestCluster;
}

interface Side {
  id: 'A' | 'B' | 'C';
  label: string;
  ms: number[];
  rssKiB: number[];
}

class TimedOut extends Error {}
const SIDE_TIMEOUT_MS = 300_000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function must(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Run the scenario and return its Markdown section for bench/RESULTS.md. */
export async function importBench(ctx: Ctx, rows = 1_000_000, rounds = 3): Promise<string> {
  const env = { UV_PYTHON_DOWNLOADS: 'never', NO_COLOR: '1', CI: 'true' };
  const dir = join(ctx.work, 'import', 'app');
  const csv = join(ctx.work, 'import', 'csv');
  mkdirSync(dir, { recursive: true });
  cpSync(join(ctx.root, 'bench', 'import-app'), dir, { recursive: true });
  must('uv', ['sync', '-q'], { cwd: dir, env });
  must(join(dir, '.venv', 'bin', 'python'), [join(ctx.root, 'bench', 'gen-sqlite.py'), join(dir, 'shop.db'), csv, String(rows)], { cwd: dir });
  const { cluster } = ctx;
  must(process.execPath, [ctx.bin, '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', 'importbench', '--db-password', 'bench-password-1234567890', '--yes', '--sqlite', 'keep'], { cwd: dir, env });
  const url = /DATABASE_URL="?([^"\n]+)/.exec(readFileSync(join(dir, '.env'), 'utf8'))![1]!.replace('+psycopg', '');
  const admin = ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', cluster.superuser, '-d', 'importbench', '-q', '-t', '-A'];
  const adminEnv = { PGPASSWORD: cluster.superPassword, PATH: `${cluster.binDir}:${process.env.PATH}` };
  const psql = (args: string[]) => must('psql', args, { env: adminEnv });
  const tables = ['customers', 'orders', 'events'];
  const loadFile = join(ctx.work, 'import', 'load.pgl');
  writeFileSync(loadFile, `LOAD DATABASE\n  FROM sqlite://${join(dir, 'shop.db')}\n  INTO ${url}\n  WITH data only, reset sequences, on error stop\n  SET timezone TO 'UTC'\n  EXCLUDING TABLE NAMES LIKE 'alembic_version';\n`, { mode: 0o600 });
  const copyArgs = [url, '-q', '-1', ...tables.flatMap((t) => ['-c', `\\copy ${t} FROM '${join(csv, `${t}.csv`)}' CSV`])];
  const rssFile = join(ctx.work, 'import', 'rss');

  const sides: Side[] = [
    { id: 'A', label: 'pg-setup import-sqlite', ms: [], rssKiB: [] },
    { id: 'B', label: 'pgloader --with "data only"', ms: [], rssKiB: [] },
    { id: 'C', label: 'COPY of a pre-converted CSV (floor)', ms: [], rssKiB: [] },
  ];
  const load: number[] = [];
  const nodeRss: number[] = [];
  const timeouts: string[] = [];
  const timed = (cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> }): { ms: number; out: string } => {
    const t0 = performance.now();
    // `timeout` kills the side itself (not only /usr/bin/time); its server session is ended below.
    const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', 'timeout', '-s', 'KILL', String(SIDE_TIMEOUT_MS / 1000), cmd, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status === 137) {
      psql([...admin, '-c', `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'importbench' AND pid <> pg_backend_pid()`]);
      throw new TimedOut();
    }
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    const out = r.stdout + r.stderr;
    return { ms: performance.now() - t0, out };
  };
  for (let round = 0; round < rounds; round++) {
    const order = [0, 1, 2].map((k) => sides[(k + round) % 3]!);
    for (const side of order) {
      psql([...admin, '-c', `TRUNCATE ${tables.join(', ')}`]);
      load.push(loadavg()[0]!);
      writeFileSync(rssFile, '');
      let r;
      try {
      if (side.id === 'A') {
        r = timed(process.execPath, ['--import', join(ctx.root, 'bench', 'rss-hook.mjs'), ctx.bin, 'import-sqlite'], { cwd: dir, env: { ...env, PGSETUP_BENCH_RSS_FILE: rssFile } });
        if (!r.out.includes(`imported ${rows} rows`)) throw new Error(`pg-setup did not import ${rows} rows:\n${r.out}`);
        nodeRss.push(Number(readFileSync(rssFile, 'utf8').trim()));
      } else if (side.id === 'B') {
        r = timed('pgloader', ['--quiet', loadFile], { env: {} });
      } else {
        r = timed('psql', copyArgs, { env: adminEnv });
      }
      } catch (e) {
        if (!(e instanceof TimedOut)) throw e;
        // A stuck side (pgloader re-creating foreign keys has taken minutes here) counts as the timeout.
        timeouts.push(`${side.label} (round ${round + 1})`);
        side.ms.push(SIDE_TIMEOUT_MS);
        process.stderr.write('T');
        continue;
      }
      const n = Number(psql([...admin, '-c', `SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t})`).join(' + ')}`]).trim());
      if (n !== rows) throw new Error(`${side.label} left ${n} rows, not ${rows}`);
      side.ms.push(r.ms);
      side.rssKiB.push(Number(/maxrss=(\d+)/.exec(r.out)?.[1] ?? NaN));
      process.stderr.write('.');
    }
  }
  rmSync(loadFile, { force: true });
  process.stderr.write(' f done\n');
  return render(sides, rows, load, Math.max(...nodeRss), timeouts);
}

function render(sides: Side[], rows: number, load: number[], nodeRssKiB: number, timeouts: string[]): string {
  const [a, b, c] = sides as [Side, Side, Side];
  const rate = (s: Side) => Math.round(rows / (median(s.ms) / 1000)).toLocaleString('en-US');
  const spread = (s: Side) => `${(Math.min(...s.ms) / 1000).toFixed(1)}–${(Math.max(...s.ms) / 1000).toFixed(1)}`;
  const mib = (k: number) => (k / 1024).toFixed(0);
  const busiest = Math.max(...load);
  const lines = [
    IMPORT_BEGIN,
    '',
    `## (f) SQLite import: ${rows.toLocaleString('en-US')} rows (customers 20%, orders 50%, events 30%)`,
    '',
    `Generated by \`npm run bench\` (scenario \`import\`: \`npm run bench -- import\`) on ${new Date().toISOString().slice(0, 16)}Z; ${a.ms.length} rounds, the three sides rotate order each round.`,
    `Load average (1 min) before each side: ${Math.min(...load).toFixed(1)}–${busiest.toFixed(1)} on ${cpus().length} cores${busiest > cpus().length ? ' (above the core count: the machine was busy and absolute times are inflated)' : ''}; compare within a round.`,
    '',
    '| side | median s | min–max s | rows/s (median) | peak RSS, largest process (MiB) |',
    '| --- | --- | --- | --- | --- |',
    ...sides.map((s) => `| ${s.id}: ${s.label} | ${(median(s.ms) / 1000).toFixed(1)} | ${spread(s)} | ${rate(s)} | ${mib(Math.max(...s.rssKiB))} |`),
    '',
    `- A / B (pgloader): ${(median(a.ms) / median(b.ms)).toFixed(2)} (target ≤ 1.0: ${median(a.ms) <= median(b.ms) ? 'met' : 'MISSED'}); A / C (COPY floor): ${(median(a.ms) / median(c.ms)).toFixed(2)} (target ≤ 2.0: ${median(a.ms) <= 2 * median(c.ms) ? 'met' : 'MISSED'}).`,
    `- Peak memory of pg-setup: node ${mib(nodeRssKiB)} MiB, the largest of its processes (node or the Python child) ${mib(Math.max(...a.rssKiB))} MiB, so both together at most ${mib(nodeRssKiB + Math.max(...a.rssKiB))} MiB (target < 200 MiB: ${nodeRssKiB + Math.max(...a.rssKiB) < 200 * 1024 ? 'met' : 'MISSED'}); rows are streamed in batches of 5,000, never a whole table.`,
    ...(timeouts.length ? [`- Stopped at the ${SIDE_TIMEOUT_MS / 1000} s limit (counted as ${SIDE_TIMEOUT_MS / 1000} s): ${timeouts.join(', ')}.`] : []),
    '- A does more than B and C: it converts by the target column, computes an order-independent content hash of every row on both sides, and commits once; pgloader commits per batch in parallel threads and drops/re-creates the foreign keys outside any transaction; C fires the per-row foreign-key triggers.',
    '',
    IMPORT_END,
    '',
  ];
  return lines.join('\n');
}

/** Replace (or append) the import section of an existing RESULTS.md text. */
export function withImportSection(text: string, section: string): string {
  const i = text.indexOf(IMPORT_BEGIN);
  const j = text.indexOf(IMPORT_END);
  if (i >= 0 && j > i) return text.slice(0, i) + section + text.slice(j + IMPORT_END.length).replace(/^\n/, '');
  return `${text.trimEnd()}\n\n${section}`;
}

/** The import section of an existing RESULTS.md text, or ''. */
export function importSectionOf(text: string): string {
  const i = text.indexOf(IMPORT_BEGIN);
  const j = text.indexOf(IMPORT_END);
  return i >= 0 && j > i ? text.slice(i, j + IMPORT_END.length) + '\n' : '';
}
