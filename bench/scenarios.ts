import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestCluster } from '../test/helpers/cluster.js';
import { createAppDb, writeEnv } from '../test/helpers/python-project.js';
import type { Run, Scenario, Side } from './types.js';

export interface Ctx {
  root: string;
  bin: string;
  work: string;
  cluster: TestCluster;
  time: (run: Run, rss: false | 'hook' | 'time') => number;
  wants: (id: string) => boolean;
}

/**
 * PATH with the real uv first: pyenv's `uv` shim is a shell script that costs every call
 * (and fails in projects pinned to another Python). Both sides get the same PATH.
 */
export function toolPath(cluster: TestCluster): string {
  let uvDir: string | undefined;
  try {
    const uv = execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim();
    uvDir = uv.includes('/shims/') ? dirname(execFileSync('pyenv', ['which', 'uv'], { encoding: 'utf8' }).trim()) : dirname(uv);
  } catch {
    uvDir = undefined;
  }
  return [cluster.binDir, uvDir, process.env.PATH].filter(Boolean).join(':');
}

/**
 * A project copied from `source` and taken by pg-setup's own steps up to the Alembic phase:
 * role and database, .env, dependencies added, code wired, Alembic scaffolded. Both sides of
 * an Alembic-phase pair start from this state.
 */
export async function prepareAlembicPhase(ctx: Ctx, source: string, tag: string, dirs: string[]) {
  // dist/ is one bundle: the bench's own compiled copy of src/ (bench/.build/src) is imported instead.
  const { projectSteps } = await import('../src/steps/project/index.js');
  const { connectAdmin } = await import('../src/db/admin.js');
  const { cluster } = ctx;
  const dir = mkdtempSync(join(ctx.work, 'e-'));
  dirs.push(dir);
  // Timestamps kept: a source that has run (bench/growth.ts asHavingRun) keeps valid bytecode.
  cpSync(source, dir, { recursive: true, preserveTimestamps: true });
  const url = await createAppDb(cluster, tag, tag);
  writeEnv(dir, 'DATABASE_URL', url);
  const steps = projectSteps({
    projectDir: dir, envKey: 'DATABASE_URL', databaseUrl: url, driver: 'psycopg', yes: true, dryRun: false,
    migrations: 'auto', sqlite: 'keep', appRole: tag,
    admin: () => connectAdmin({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superPassword }),
  });
  for (const s of steps.slice(0, 4)) if (!(await s.check())) await s.run(() => undefined);
  // Warm the OS file cache and bytecode the same way for both sides.
  spawnSync(join(dir, '.venv/bin/python'), ['-c', 'import alembic.command, models'], { cwd: dir });
  return { dir, migration: steps[4]! };
}

/** A pair for the Alembic phase: pg-setup's migration step (in process) vs the two typed commands. */
export async function alembicPair(ctx: Ctx, source: string, tag: string, dirs: string[]): Promise<{ a: Side; b: Side }> {
  const ours = await prepareAlembicPhase(ctx, source, `${tag}_ours`, dirs);
  const typed = await prepareAlembicPhase(ctx, source, `${tag}_typed`, dirs);
  const env = { UV_PYTHON_DOWNLOADS: 'never', PATH: toolPath(ctx.cluster) };
  return {
    a: async () => {
      const t0 = performance.now();
      await ours.migration.run(() => undefined);
      return performance.now() - t0;
    },
    b: async () =>
      ctx.time({ cmd: 'uv', args: ['run', 'alembic', 'revision', '--autogenerate', '-m', 'initial schema'], cwd: typed.dir, env }, false) +
      ctx.time({ cmd: 'uv', args: ['run', 'alembic', 'upgrade', 'head'], cwd: typed.dir, env }, false),
  };
}

/** pg-setup's whole first run on a project, as a user types it. */
export function wholeRunArgs(ctx: Ctx, db: string): string[] {
  const { cluster } = ctx;
  return [ctx.bin, '--non-interactive', '--yes', '--provider', 'existing', '--admin-url', cluster.adminUrl, '--host', '127.0.0.1', '--port', String(cluster.port), '--db-name', db, '--db-password', 'bench-password-1234567890'];
}

/** The env of tutorial.sh for one fresh project copy. */
export function typedEnv(ctx: Ctx, db: string, dir: string): Record<string, string> {
  const { cluster } = ctx;
  return {
    PGHOST: '127.0.0.1', PGPORT: String(cluster.port), PGUSER: cluster.superuser, PGPASSWORD: cluster.superPassword, PGDATABASE: 'postgres',
    PATH: toolPath(cluster), UV_PYTHON_DOWNLOADS: 'never',
    APP_USER: `${db}_user`, APP_DB: db, APP_PASSWORD: 'bench-password-1234567890', PROJECT_DIR: dir, ENV_PY: join(ctx.root, 'bench/baseline/env.py'),
  };
}

/** (e) the Alembic phase on the tutorial, (f) the whole first run on the tutorial ((d) is startScenario, built by run.ts per Node). */
export async function extraScenarios(ctx: Ctx): Promise<Scenario[]> {
  process.env.UV_PYTHON_DOWNLOADS = 'never';
  const tutorial = join(ctx.root, 'test/fixtures/tutorial-blog');
  const dirs: string[] = [];
  const cleanup = () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  const out: Scenario[] = [];
  out.push({
    id: 'e',
    title: 'the Alembic phase on the tutorial fixture (autogenerate + upgrade)',
    baseline: '`uv run alembic revision --autogenerate` + `uv run alembic upgrade head`',
    target: 0.6,
    verdict: 'plain',
    iterations: 3,
    done: cleanup,
    pair: (i) => alembicPair(ctx, tutorial, `bench_e_${i}`, dirs),
  });
  out.push({
    id: 'f',
    title: 'the whole first run on the tutorial fixture (SQLite app to tables at head)',
    baseline: 'bench/baseline/tutorial.sh',
    target: 1.0,
    verdict: 'minus-node',
    // 5, not 3: a run's 3 rounds spread from 4.1 to 5.1 s on a 4.5 s task.
    iterations: 5,
    done: cleanup,
    pair: async (i) => {
      const copy = () => {
        const d = mkdtempSync(join(ctx.work, 'f-'));
        dirs.push(d);
        cpSync(tutorial, d, { recursive: true });
        return d;
      };
      const a = copy();
      const b = copy();
      return {
        a: { cmd: process.execPath, args: wholeRunArgs(ctx, `bench_f_ours_${i}`), cwd: a, env: { UV_PYTHON_DOWNLOADS: 'never', PATH: toolPath(ctx.cluster) } },
        b: { cmd: 'bash', args: [join(ctx.root, 'bench/baseline/tutorial.sh')], env: typedEnv(ctx, `bench_f_typed_${i}`, b) },
      };
    },
  });
  return out;
}

/**
 * (d) From a stopped cluster to ready: `pg-setup start` on a project-local cluster against
 * `pg_ctl start -w` + a psql login on the same cluster (stopped, untimed, before each side).
 */
export async function startScenario(ctx: Ctx): Promise<Scenario> {
  const parent = mkdtempSync(join(tmpdir(), 'pgsetup-bench-d-'));
  chmodSync(parent, 0o755); // as root the cluster runs as another OS user, which must reach it
  const dir = join(parent, 'app');
  mkdirSync(dir);
  const { freePort } = await import('../test/helpers/cluster.js');
  const port = await freePort();
  ctx.time({ cmd: process.execPath, args: [ctx.bin, '--provider', 'local', '--port', String(port)], cwd: dir }, false);
  const state = JSON.parse(readFileSync(join(dir, '.pg-setup', 'local.json'), 'utf8')) as { dataDir: string; binDir: string };
  const password = readFileSync(join(dir, '.pg-setup', 'superuser-password'), 'utf8').trim();
  const stop = () => {
    ctx.time({ cmd: process.execPath, args: [ctx.bin, 'stop'], cwd: dir }, false);
  };
  if (!existsSync(state.dataDir)) throw new Error(`no local cluster in ${state.dataDir}`);
  return {
    id: 'd',
    title: 'from a stopped project-local cluster to ready (`pg-setup start`)',
    baseline: 'bench/baseline/start.sh (`pg_ctl start -w` + `psql -c "SELECT 1"`)',
    target: 1.1,
    verdict: 'minus-node',
    iterations: 9,
    rssBy: 'time',
    pair: async () => ({
      prepareA: stop,
      prepareB: stop,
      a: { cmd: process.execPath, args: [ctx.bin, 'start'], cwd: dir },
      b: {
        cmd: 'bash',
        args: [join(ctx.root, 'bench/baseline/start.sh')],
        env: { DATA_DIR: state.dataDir, BIN_DIR: state.binDir, PGPORT: String(port), PGPASSWORD: password },
      },
    }),
    done: () => {
      stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
