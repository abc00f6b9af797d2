import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestCluster } from '../test/helpers/cluster.js';
import { createAppDb, writeEnv } from '../test/helpers/python-project.js';
import type { Run, Scenario } from './run.js';

interface Ctx {
  root: string;
  bin: string;
  work: string;
  cluster: TestCluster;
  time: (run: Run, measureRss: boolean) => number;
}

/**
 * (e) The Alembic phase on the tutorial fixture: pg-setup's migration step (one Python process
 * for revision + upgrade) against `uv run alembic revision --autogenerate` + `uv run alembic upgrade head`.
 * Both sides start from the same state: dependencies added, code wired, Alembic scaffolded.
 */
export async function extraScenarios(ctx: Ctx): Promise<Scenario[]> {
  process.env.UV_PYTHON_DOWNLOADS = 'never';
  // The built modules, exactly what the CLI runs (templates are found next to dist/).
  const { projectSteps } = (await import(join(ctx.root, 'dist/project/steps.js'))) as typeof import('../src/project/steps.js');
  const { connectAdmin } = (await import(join(ctx.root, 'dist/db/admin.js'))) as typeof import('../src/db/admin.js');
  const { cluster } = ctx;
  const prepare = async (tag: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'pgsetup-bench-e-'));
    cpSync(join(ctx.root, 'test/fixtures/tutorial-blog'), dir, { recursive: true });
    dirs.push(dir);
    const url = await createAppDb(cluster, tag, tag);
    writeEnv(dir, 'DATABASE_URL', url);
    const steps = projectSteps({
      projectDir: dir, envKey: 'DATABASE_URL', databaseUrl: url, driver: 'psycopg', yes: true, dryRun: false, interactive: false,
      migrations: 'auto', sqlite: 'keep', appRole: tag,
      admin: () => connectAdmin({ host: cluster.host, port: cluster.port, user: cluster.superuser, password: cluster.superPassword }),
    });
    for (const s of steps.slice(0, 4)) if (!(await s.check())) await s.run(() => undefined);
    // Warm the OS file cache and bytecode the same way for both sides.
    spawnSync(join(dir, '.venv/bin/python'), ['-c', 'import alembic.command, models'], { cwd: dir });
    return { dir, migration: steps[4]! };
  };
  const dirs: string[] = [];
  return [
    await startScenario(ctx),
    {
      id: 'e',
      done: () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
      title: 'Alembic phase on the tutorial fixture (autogenerate + upgrade)',
      target: 0.8,
      iterations: 5,
      pair: async (i) => {
        const ours = await prepare(`bench_e_ours_${i}`);
        const typed = await prepare(`bench_e_typed_${i}`);
        const env = { UV_PYTHON_DOWNLOADS: 'never' };
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
      },
    },
  ];
}

/**
 * (d) From a stopped cluster to ready: `pg-setup start` on a project-local cluster against
 * `pg_ctl start -w` + a psql login on the same cluster (stopped, untimed, before each side).
 */
async function startScenario(ctx: Ctx): Promise<Scenario> {
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
  return {
    id: 'd',
    title: 'from a stopped cluster to ready (`pg-setup start`, local provider)',
    target: 1.1,
    iterations: 9,
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
