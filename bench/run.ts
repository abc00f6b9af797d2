/**
 * `npm run bench`: each scenario runs pg-setup (A) and a hand-written baseline doing the same
 * work with the standard tools (B), alternating A/B so drift hits both, and reports medians,
 * the ratio of medians and the median of pair-by-pair ratios. Writes bench/RESULTS.md.
 * Not part of the test run.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir, release } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCluster, type TestCluster } from '../test/helpers/cluster.js';

/** A side of a pair: a command to spawn, or (for in-process phases) a function that returns its ms. */
type Side = Run | (() => Promise<number>);

interface Run {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

interface Scenario {
  id: string;
  title: string;
  /** A's median may be at most this multiple of B's. */
  target: number;
  iterations: number;
  /** Build the i-th pair; `prepare` runs untimed before each side. */
  pair(i: number): Promise<{ a: Side; b: Side; prepareA?: () => Promise<void> | void; prepareB?: () => Promise<void> | void }>;
  done?(): Promise<void> | void;
}

interface Measured {
  id: string;
  title: string;
  target: number;
  a: number[];
  b: number[];
  rssKiB: number[];
}

// npm runs scripts from the package root.
const ROOT = process.cwd();
const BIN = join(ROOT, 'bin', 'pg-setup.js');
const RSS_HOOK = join(ROOT, 'bench', 'rss-hook.mjs');
const rssFile = join(mkdtempSync(join(tmpdir(), 'pgsetup-bench-')), 'rss');

export type { Scenario, Run, Side };

function time(run: Run, measureRss: boolean): number {
  const isCli = run.cmd === process.execPath && run.args[0] === BIN;
  const args = isCli && measureRss ? ['--import', RSS_HOOK, ...run.args] : run.args;
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', ...run.env, ...(isCli && measureRss ? { PGSETUP_BENCH_RSS_FILE: rssFile } : {}) };
  const t0 = performance.now();
  const r = spawnSync(run.cmd, args, { cwd: run.cwd, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${run.cmd} ${run.args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function measure(s: Scenario): Promise<Measured> {
  const m: Measured = { id: s.id, title: s.title, target: s.target, a: [], b: [], rssKiB: [] };
  writeFileSync(rssFile, '');
  for (let i = 0; i < s.iterations; i++) {
    const p = await s.pair(i);
    const sides: ['a' | 'b', Side, (() => Promise<void> | void) | undefined][] = [
      ['a', p.a, p.prepareA],
      ['b', p.b, p.prepareB],
    ];
    if (i % 2 === 1) sides.reverse();
    for (const [side, run, prepare] of sides) {
      await prepare?.();
      m[side].push(typeof run === 'function' ? await run() : time(run, side === 'a'));
    }
    process.stderr.write('.');
  }
  m.rssKiB = readFileSync(rssFile, 'utf8').split('\n').filter(Boolean).map(Number);
  await s.done?.();
  process.stderr.write(` ${s.id} done\n`);
  return m;
}

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  } catch {
    return 'not found';
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const work = mkdtempSync(join(tmpdir(), 'pgsetup-bench-work-'));
  const clusters: TestCluster[] = [];
  const scenarios: Scenario[] = [];

  scenarios.push({
    id: 'a',
    title: '`pg-setup --help` vs `node -e 0`',
    target: 1.5,
    iterations: 21,
    pair: async () => ({ a: { cmd: process.execPath, args: [BIN, '--help'] }, b: { cmd: process.execPath, args: ['-e', '0'] } }),
  });

  const cluster = await startCluster();
  clusters.push(cluster);
  const pgEnv = { PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: cluster.superuser, PGPASSWORD: cluster.superPassword, PGDATABASE: 'postgres' };
  const binEnv = { PATH: `${cluster.binDir}:${process.env.PATH}` };
  const projects = (tag: string, i: number) => {
    const a = join(work, `${tag}${i}a`, 'app');
    const b = join(work, `${tag}${i}b`, 'app');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    return { a, b };
  };
  const cliArgs = (db: string) => [BIN, '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', db, '--db-password', 'bench-password-1234567890'];
  const baseEnv = (db: string, dir: string) => ({ ...pgEnv, ...binEnv, APP_USER: `${db}_user`, APP_DB: db, APP_PASSWORD: 'bench-password-1234567890', PROJECT_DIR: dir });

  scenarios.push({
    id: 'b',
    title: 'first provisioning on a running server (role, database, .env, .gitignore, verification)',
    target: 1.5,
    iterations: 11,
    pair: async (i) => {
      const d = projects('b', i);
      return {
        a: { cmd: process.execPath, args: cliArgs(`pa${i}`), cwd: d.a },
        b: { cmd: 'bash', args: [join(ROOT, 'bench/baseline/provision.sh')], env: baseEnv(`pb${i}`, d.b) },
      };
    },
  });

  scenarios.push({
    id: 'c',
    title: 'idempotent re-run',
    target: 1.5,
    iterations: 11,
    pair: async (i) => {
      const d = projects('c', i);
      // Untimed first runs; the timed runs are the re-runs.
      time({ cmd: process.execPath, args: cliArgs(`ra${i}`), cwd: d.a }, false);
      time({ cmd: 'bash', args: [join(ROOT, 'bench/baseline/provision.sh')], env: baseEnv(`rb${i}`, d.b) }, false);
      return {
        a: { cmd: process.execPath, args: cliArgs(`ra${i}`), cwd: d.a },
        b: { cmd: 'bash', args: [join(ROOT, 'bench/baseline/rerun.sh')], env: baseEnv(`rb${i}`, d.b) },
      };
    },
  });

  // Their set-up starts a local cluster: only when one of them is to run.
  if (only.length === 0 || only.includes('d') || only.includes('e')) {
    const { extraScenarios } = await import('./scenarios.js');
    scenarios.push(...(await extraScenarios({ root: ROOT, bin: BIN, work, cluster, time })));
  }

  const results: Measured[] = [];
  try {
    for (const s of scenarios) if (only.length === 0 || only.includes(s.id)) results.push(await measure(s));
  } finally {
    clusters.forEach((c) => c.stop());
    rmSync(work, { recursive: true, force: true });
    rmSync(dirname(rssFile), { recursive: true, force: true });
  }
  // Scenario f (the SQLite import) keeps its own section; a run of only f keeps the table above it.
  const { importBench, importSectionOf, withImportSection } = await import('./sqlite-import.js');
  const path = join(ROOT, 'bench', 'RESULTS.md');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const head = results.length ? render(results) : old.slice(0, old.indexOf('<!-- sqlite-import') >= 0 ? old.indexOf('<!-- sqlite-import') : old.length);
  let section = importSectionOf(old);
  if (only.length === 0 || only.includes('f')) {
    const work2 = mkdtempSync(join(tmpdir(), 'pgsetup-bench-f-'));
    const c2 = await startCluster();
    try {
      section = await importBench({ root: ROOT, bin: BIN, work: work2, cluster: c2 });
    } finally {
      c2.stop();
      rmSync(work2, { recursive: true, force: true });
    }
  }
  const md = section ? withImportSection(head, section) : head;
  writeFileSync(path, md);
  process.stdout.write(md);
}

function render(results: Measured[]): string {
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`,
    `- node ${process.version}; ${versionOf('psql', ['--version'])}; ${versionOf('uv', ['--version'])}; ${versionOf('python3', ['--version'])}`,
    '- A = pg-setup, B = the hand-typed baseline (bench/baseline/*.sh). Runs alternate A/B (A first on even pairs).',
    '',
    '| scenario | n | A median ms | B median ms | ratio of medians | median pair ratio | target | peak RSS of the CLI (MiB, max) | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const ratio = median(r.a) / median(r.b);
    const pairRatio = median(r.a.map((a, i) => a / (r.b[i] as number)));
    const rss = r.rssKiB.length ? Math.max(...r.rssKiB) / 1024 : NaN;
    const ok = ratio <= r.target && (Number.isNaN(rss) || rss < 120);
    lines.push(`| (${r.id}) ${r.title} | ${r.a.length} | ${median(r.a).toFixed(0)} | ${median(r.b).toFixed(0)} | ${ratio.toFixed(2)} | ${pairRatio.toFixed(2)} | ≤ ${r.target} | ${Number.isNaN(rss) ? 'n/a (in-process phase)' : rss.toFixed(1)} | ${ok ? 'met' : 'MISSED'} |`);
  }
  const a = results.find((r) => r.id === 'a');
  const c = results.find((r) => r.id === 'c');
  if (a && c) {
    const node0 = median(a.b);
    lines.push(
      '',
      '## Where the time goes',
      '',
      `- Starting Node alone (\`node -e 0\`, side B of (a)) takes ${node0.toFixed(0)} ms, ${(node0 / median(c.b)).toFixed(2)}x the whole hand-typed re-run (c): a Node CLI cannot reach 1.5x of a few \`psql\` calls in (b), (c) and (d) whatever it does after start-up.`,
      '- After start-up, loading `pg` (its SCRAM code initialises WebCrypto), `listr2` and `dotenv` costs about as much again; `execa` (about 60 ms) loads only when a child process is started, and dockerode, @inquirer/prompts and the Python paths only when used, which is why (a) meets its target.',
      '- A re-run that finds everything in place opens one connection as the app (no superuser session, no detection, no child process). (d) spawns only `pg_ctl start -w`; the rest is Node start-up and the authenticated readiness query.',
    );
  }
  return lines.join('\n') + '\n';
}

await main();
