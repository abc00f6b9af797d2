/**
 * How the cost grows with the project: generated apps with 10, 100 and 500 models (over 1, 10
 * and 50 modules). Per size: the analysis (python/analyze.py, the ast pass), the whole first
 * run, and the Alembic phase against the two typed commands; peak memory of the CLI and of
 * its Python children. Sizes are interleaved run by run so drift hits every size alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateProject } from './generate-project.js';
import { median, spread } from './stats.js';
import { alembicPair, toolPath, wholeRunArgs, type Ctx } from './scenarios.js';

// PGSETUP_BENCH_SIZES=10,100 limits the sizes (a quick check of the harness itself).
const SIZES = [
  { models: 10, modules: 1 },
  { models: 100, modules: 10 },
  { models: 500, modules: 50 },
].filter((s) => !process.env.PGSETUP_BENCH_SIZES || process.env.PGSETUP_BENCH_SIZES.split(',').includes(String(s.models)));
const WHOLE_RUNS = 3;
const ALEMBIC_PAIRS = 2;

export interface SizeResult {
  models: number;
  modules: number;
  bytes: number;
  lines: number;
  analysis: number[];
  analysisPeakKiB: number;
  whole: number[];
  wholeCpu: number[];
  cliPeakKiB: number;
  pythonPeakKiB: number;
  pythonStarts: number[];
  alembicOurs: number[];
  alembicTyped: number[];
}

/**
 * Make a generated project an app that has run: its bytecode cache written by the interpreter
 * a run will use (the one uv picks for the project's venv), as running the app on SQLite writes
 * it. pg-setup's users come with such an app; a fresh copy without it made every whole run
 * compile the models from source first, which is not part of moving to PostgreSQL. The copies
 * keep the files' timestamps, so the .pyc stay valid. `compileall` writes what an import writes
 * (same files, same checks), without needing the app's dependencies installed. Under
 * PYTHONDONTWRITEBYTECODE an app that ran has no bytecode either: nothing is written then.
 */
function asHavingRun(dir: string, env: NodeJS.ProcessEnv): void {
  if (env.PYTHONDONTWRITEBYTECODE) return;
  const find = spawnSync('uv', ['python', 'find'], { cwd: dir, env, encoding: 'utf8' });
  const python = find.stdout.trim();
  if (find.status !== 0 || !python) throw new Error(`uv python find failed in ${dir}: ${find.stderr}`);
  const c = spawnSync(python, ['-m', 'compileall', '-q', dir], { env, encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`compileall failed in ${dir}: ${c.stdout}${c.stderr}`);
}

export interface GrowthResult {
  markdown: string[];
  svg: string;
}

/** Peak RSS (KiB) of a command's process, from GNU time's accounting. */
function peakKiB(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return Number(r.stderr.trim().split('\n').pop());
}

/** Every process below `root` right now, with its command name and peak RSS so far (VmHWM). */
function descendants(root: number): { pid: number; comm: string; hwmKiB: number }[] {
  const parent = new Map<number, number>();
  const info = new Map<number, { comm: string; hwmKiB: number }>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      parent.set(Number(e), ppid);
      info.set(Number(e), { comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '', hwmKiB: Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) });
    } catch {
      /* gone meanwhile */
    }
  }
  const isBelow = (pid: number): boolean => {
    for (let p = parent.get(pid), n = 0; p !== undefined && n < 50; p = parent.get(p), n++) if (p === root) return true;
    return false;
  };
  return [...info.entries()].filter(([pid]) => isBelow(pid)).map(([pid, i]) => ({ pid, ...i }));
}

/**
 * Run the CLI and watch its children: wall ms, the CLI's own peak RSS (rss hook), the largest
 * Python child's peak RSS and how many Python processes were seen (sampled every 25 ms, so a
 * very short one can be missed; the count is for comparing sizes).
 */
async function watchedRun(args: string[], cwd: string, env: NodeJS.ProcessEnv, rssHook: string): Promise<{ ms: number; cpuMs: number; cliKiB: number; pyKiB: number; pyStarts: number }> {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'pgsetup-bench-rss-')), 'rss');
  const cpuFile = join(rssFile, '..', 'cpu');
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', process.execPath, '--import', rssHook, ...args], { cwd, env: { ...env, PGSETUP_BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const pythons = new Map<number, number>();
  const timer = setInterval(() => {
    for (const p of descendants(child.pid!)) if (p.comm.startsWith('python')) pythons.set(p.pid, Math.max(pythons.get(p.pid) ?? 0, p.hwmKiB));
  }, 25);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - t0;
  clearInterval(timer);
  if (code !== 0) throw new Error(`pg-setup exited ${code}:\n${output}`);
  const cliKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(join(rssFile, '..'), { recursive: true, force: true });
  return { ms, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, cliKiB, pyKiB: Math.max(0, ...pythons.values()), pyStarts: pythons.size };
}

export async function measureGrowth(ctx: Ctx & { progress?: (partial: GrowthResult) => void }): Promise<GrowthResult> {
  const PATH = toolPath(ctx.cluster);
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', UV_PYTHON_DOWNLOADS: 'never', PATH };
  const rssHook = join(ctx.root, 'bench', 'rss-hook.mjs');
  const analyzer = join(ctx.root, 'python', 'analyze.py');
  const dirs: string[] = [];
  const results: SizeResult[] = [];
  for (const s of SIZES) {
    const dir = join(ctx.work, `gen-${s.models}`);
    const size = generateProject(dir, s.models, s.modules);
    asHavingRun(dir, env);
    results.push({ ...s, ...size, analysis: [], analysisPeakKiB: 0, whole: [], wholeCpu: [], cliPeakKiB: 0, pythonPeakKiB: 0, pythonStarts: [], alembicOurs: [], alembicTyped: [] });
  }
  const source = (r: SizeResult) => join(ctx.work, `gen-${r.models}`);
  const fresh = (r: SizeResult) => {
    const d = mkdtempSync(join(ctx.work, `g${r.models}-`));
    dirs.push(d);
    cpSync(source(r), d, { recursive: true, preserveTimestamps: true });
    return d;
  };

  // The analysis: the ast pass alone, with the interpreter the bench's PATH gives.
  const python = spawnSync('sh', ['-c', 'command -v python3'], { env, encoding: 'utf8' }).stdout.trim();
  for (let i = 0; i < 9; i++) {
    for (const r of i % 2 ? [...results].reverse() : results) {
      const t0 = performance.now();
      const p = spawnSync(python, [analyzer, source(r), '{}'], { cwd: source(r), env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      r.analysis.push(performance.now() - t0);
      if (p.status !== 0) throw new Error(`analyze.py failed on ${r.models} models: ${p.stderr}`);
      if (i === 0) {
        const a = JSON.parse(p.stdout.trim().split('\n').pop()!) as { models: { classes: unknown[] } };
        if (a.models.classes.length !== r.models) throw new Error(`analyze.py found ${a.models.classes.length} of ${r.models} models`);
      }
    }
  }
  for (const r of results) r.analysisPeakKiB = peakKiB(python, [analyzer, source(r), '{}'], source(r), env);
  process.stderr.write(' growth: analysis done\n');
  ctx.progress?.({ markdown: render(results), svg: plot(results) });

  // The whole first run, interleaved across sizes.
  for (let i = 0; i < WHOLE_RUNS; i++) {
    for (const r of i % 2 ? [...results].reverse() : results) {
      const w = await watchedRun(wholeRunArgs(ctx, `bench_g${r.models}_${i}`), fresh(r), env, rssHook);
      r.whole.push(w.ms);
      r.wholeCpu.push(w.cpuMs);
      r.cliPeakKiB = Math.max(r.cliPeakKiB, w.cliKiB);
      r.pythonPeakKiB = Math.max(r.pythonPeakKiB, w.pyKiB);
      r.pythonStarts.push(w.pyStarts);
      process.stderr.write('.');
    }
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  }
  process.stderr.write(' growth: whole runs done\n');
  ctx.progress?.({ markdown: render(results), svg: plot(results) });

  // The Alembic phase vs the typed commands, alternating which goes first.
  for (let i = 0; i < ALEMBIC_PAIRS; i++) {
    for (const r of results) {
      const p = await alembicPair(ctx, source(r), `bench_ga${r.models}_${i}`, dirs);
      const sides: ['ours' | 'typed', () => Promise<number>][] = [
        ['ours', p.a as () => Promise<number>],
        ['typed', p.b as () => Promise<number>],
      ];
      for (const [side, run] of i % 2 ? sides.reverse() : sides) (side === 'ours' ? r.alembicOurs : r.alembicTyped).push(await run());
      dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
      process.stderr.write('.');
    }
    ctx.progress?.({ markdown: render(results), svg: plot(results) });
  }
  process.stderr.write(' growth done\n');
  // The raw figures, for a second look (bench/.work is not committed).
  mkdirSync(join(ctx.root, 'bench', '.work'), { recursive: true });
  writeFileSync(join(ctx.root, 'bench', '.work', 'growth.json'), JSON.stringify(results, null, 1));
  return { markdown: render(results), svg: plot(results) };
}

export function render(rs: SizeResult[]): string[] {
  const small = rs[0]!;
  const big = rs[rs.length - 1]!;
  const mid = rs[1] ?? big;
  const kb = (r: SizeResult) => r.bytes / 1024;
  const slope = (x: SizeResult, y: SizeResult) => (median(y.analysis) - median(x.analysis)) / (kb(y) - kb(x));
  const slopeRatio = slope(mid, big) / slope(small, mid);
  const wholeRatio = median(big.whole) / median(small.whole);
  const wholeCpuRatio = median(big.wholeCpu) / median(small.wholeCpu);
  const mib = (k: number) => (k / 1024).toFixed(1);
  // A figure not measured (a bench cut short) is NaN: say so rather than judge it.
  const verdict = (ok: boolean, ...figures: number[]) => (figures.some((f) => Number.isNaN(f)) ? 'not measured' : ok ? 'met' : 'MISSED');
  const cliPeak = Math.max(...rs.map((r) => r.cliPeakKiB));
  const pyPeak = Math.max(big.pythonPeakKiB, big.analysisPeakKiB);
  const alembicOk = rs.every((r) => median(r.alembicOurs) / median(r.alembicTyped) <= 0.6);
  const startsConstant = new Set(rs.map((r) => median(r.pythonStarts))).size === 1;
  return [
    '## How the cost grows with the project',
    '',
    'Generated FastAPI apps (bench/generate-project.ts): each table has a unique and an indexed column, a composite index and two foreign keys with relationships (one to the table before it, across modules where it falls). Times in ms, median (min–max); the plot is bench/growth.svg.',
    '',
    '| models / modules | Python code | analysis (ast pass) | whole first run | its CPU time | Alembic phase, pg-setup | Alembic phase, typed | ratio | Python processes seen in a run | peak RSS: CLI / largest Python child / analyzer (MiB) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rs.map(
      (r) =>
        `| ${r.models} / ${r.modules} | ${r.lines} lines, ${kb(r).toFixed(0)} KiB | ${spread(r.analysis)} | ${spread(r.whole)} | ${spread(r.wholeCpu)} | ${spread(r.alembicOurs)} | ${spread(r.alembicTyped)} | ${(median(r.alembicOurs) / median(r.alembicTyped)).toFixed(2)} | ${median(r.pythonStarts)} | ${mib(r.cliPeakKiB)} / ${mib(r.pythonPeakKiB)} / ${mib(r.analysisPeakKiB)} |`,
    ),
    '',
    '![growth](growth.svg)',
    '',
    '| target | measured | verdict |',
    '| --- | --- | --- |',
    `| analysis grows at most linearly with the code: ms per KiB from 100 to 500 models ≤ 1.5 × ms per KiB from 10 to 100 | ${slope(mid, big).toFixed(2)} vs ${slope(small, mid).toFixed(2)} ms/KiB (× ${slopeRatio.toFixed(2)}) | ${verdict(slopeRatio <= 1.5, slopeRatio)} |`,
    `| whole run at 500 models < 3 × the run at 10 (wall) | ${median(big.whole).toFixed(0)} / ${median(small.whole).toFixed(0)} ms = × ${wholeRatio.toFixed(2)} | ${verdict(wholeRatio < 3, wholeRatio)} |`,
    `| the same over CPU time | ${median(big.wholeCpu).toFixed(0)} / ${median(small.wholeCpu).toFixed(0)} ms = × ${wholeCpuRatio.toFixed(2)} | ${verdict(wholeCpuRatio < 3, wholeCpuRatio)} |`,
    `| (e) the Alembic phase ≤ 0.6 × the typed commands at every size | ${rs.map((r) => `${r.models}: ${(median(r.alembicOurs) / median(r.alembicTyped)).toFixed(2)}`).join(', ')} | ${verdict(alembicOk, ...rs.map((r) => median(r.alembicOurs) / median(r.alembicTyped)))} |`,
    `| no Python start per check: the same number of Python processes at every size | ${rs.map((r) => `${r.models}: ${median(r.pythonStarts)}`).join(', ')} (sampled every 25 ms) | ${verdict(startsConstant, ...rs.map((r) => median(r.pythonStarts)))} |`,
    `| CLI peak RSS < 120 MiB at every size | ${mib(cliPeak)} MiB | ${verdict(cliPeak < 120 * 1024, cliPeak || NaN)} |`,
    `| Python child peak RSS < 150 MiB at 500 models | ${mib(pyPeak)} MiB | ${verdict(pyPeak < 150 * 1024, big.pythonPeakKiB || NaN)} |`,
    '',
    'No per-table round trips in pg-setup\'s own code: the verify step reads every table in one information_schema query and alembic_version in one more (src/project/migration.ts readDbState); the migration driver lists existing tables with one inspector call (python/pgsetup/migrate.py). Autogenerate\'s reflection is Alembic\'s own and the same on both sides.',
  ];
}

/** A small line chart, written by hand: ms (log scale) against models, one line per measure. */
export function plot(rs: SizeResult[]): string {
  const W = 640;
  const H = 360;
  const m = { l: 70, r: 190, t: 30, b: 50 };
  const series: [string, string, number[]][] = [
    ['analysis (ast pass)', '#1f77b4', rs.map((r) => median(r.analysis))],
    ['whole first run', '#d62728', rs.map((r) => median(r.whole))],
    ['Alembic phase, pg-setup', '#2ca02c', rs.map((r) => median(r.alembicOurs))],
    ['Alembic phase, typed', '#ff7f0e', rs.map((r) => median(r.alembicTyped))],
  ];
  const all = series.flatMap(([, , v]) => v).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))));
  const xs = rs.map((r) => r.models);
  const x = (v: number) => m.l + ((v - xs[0]!) / (xs[xs.length - 1]! - xs[0]!)) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="14">pg-setup: time against the number of models (median ms, log scale)</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
  ];
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${m.l}" y1="${y(d)}" x2="${W - m.r}" y2="${y(d)}" stroke="#ddd"/>`, `<text x="${m.l - 6}" y="${y(d) + 4}" text-anchor="end">${d >= 1000 ? `${d / 1000} s` : `${d} ms`}</text>`);
  }
  for (const v of xs) parts.push(`<text x="${x(v)}" y="${H - m.b + 18}" text-anchor="middle">${v}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">models (over 1, 10, 50 modules)</text>`);
  series.filter(([, , vals]) => vals.every((v) => v > 0)).forEach(([name, color, vals], i) => {
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${vals.map((v, j) => `${x(xs[j]!).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    vals.forEach((v, j) => parts.push(`<circle cx="${x(xs[j]!).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`));
    parts.push(`<rect x="${W - m.r + 15}" y="${m.t + i * 20}" width="12" height="3" fill="${color}"/>`, `<text x="${W - m.r + 32}" y="${m.t + i * 20 + 5}">${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
