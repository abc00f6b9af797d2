/**
 * The real Docker engine the docker e2e tests run against, one per test run, shared by the
 * test files: Debian's dockerd on a private socket with its own --data-root, --exec-root and
 * --pidfile (never /var/run/docker.sock), and Debian's docker-registry on a loopback port
 * serving the locally built postgres test images (test/helpers/docker-image.ts), so pg-setup
 * pulls `127.0.0.1:PORT/postgres:N` through dockerode for real.
 *
 * `.ci/run` starts dockerd itself and passes its socket in PGSETUP_TEST_DOCKER_HOST; without
 * it, the first test file that asks starts one under the run's temp folder, and the global
 * teardown (stopTestDocker) stops it. The registry always belongs to the run.
 */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { freePort } from './cluster.js';
import { ROOT } from './cli.js';
import { ensureTestImages } from './docker-image.js';
import { isAlive, sleep, withFileLock } from './docker-lock.js';

export interface TestDocker {
  docker: Docker;
  /** unix:///…/docker.sock: what the CLI gets as DOCKER_HOST. */
  dockerHost: string;
  /** The engine's version, e.g. 20.10.24+dfsg1. */
  engineVersion: string;
  /** 127.0.0.1:PORT */
  registry: string;
  /** `127.0.0.1:PORT/postgres` (the --docker-image for the tests). */
  repository: string;
  /** How long this file waited for the engine, registry and images, in ms. */
  setupMs: number;
}

interface EngineState {
  socketPath: string;
  pid: number | undefined;
  ours: boolean;
}
interface RegistryState {
  port: number;
  pid: number;
}

function runDir(): string {
  const base = process.env.PGSETUP_TEST_TMP;
  if (!base) throw new Error('PGSETUP_TEST_TMP is not set: run the tests through vitest (test/helpers/global-setup.ts)');
  const dir = join(base, 'docker');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function findProgram(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The packages: installed by the same script .ci/run uses, when missing. */
function ensurePackages(): void {
  if (findProgram('dockerd') && findProgram('docker-registry') && findProgram('debootstrap')) return;
  execFileSync('bash', [join(ROOT, 'test/helpers/docker-install.sh')], { stdio: 'inherit' });
}

async function ping(socketPath: string): Promise<boolean> {
  try {
    await new Docker({ socketPath, timeout: 2000 }).ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * Start dockerd as a detached process on a private socket in `dir`; resolves once it answers.
 * Exported for .ci/run-like callers; the tests use useTestDocker().
 */
export async function startDockerd(dir: string): Promise<EngineState> {
  const dockerd = findProgram('dockerd');
  if (!dockerd) throw new Error('dockerd is not installed (test/helpers/docker-install.sh installs docker.io)');
  mkdirSync(dir, { recursive: true });
  const socketPath = join(dir, 'docker.sock');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    dockerd,
    ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socketPath}`],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  closeSync(log);
  const t0 = Date.now();
  while (!(await ping(socketPath))) {
    if (!isAlive(child.pid) || Date.now() - t0 > 60_000) {
      const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`dockerd did not come up on ${socketPath}:\n${tail}`);
    }
    await sleep(200);
  }
  return { socketPath, pid: child.pid, ours: true };
}

async function ensureEngine(dir: string): Promise<EngineState> {
  const file = join(dir, 'engine.json');
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, 'utf8')) as EngineState;
    if (await ping(s.socketPath)) return s;
  }
  const given = process.env.PGSETUP_TEST_DOCKER_HOST;
  let state: EngineState;
  if (given) {
    state = { socketPath: given.replace(/^unix:\/\//, ''), pid: undefined, ours: false };
    if (!(await ping(state.socketPath))) throw new Error(`PGSETUP_TEST_DOCKER_HOST=${given} does not answer`);
  } else {
    ensurePackages();
    state = await startDockerd(join(dir, 'engine'));
  }
  writeFileSync(file, JSON.stringify(state));
  return state;
}

async function startRegistry(dir: string, storage: string): Promise<RegistryState> {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: "${storage}" } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'registry.log'), 'a');
  const child = spawn(findProgram('docker-registry') ?? 'docker-registry', ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  closeSync(log);
  const t0 = Date.now();
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (!isAlive(child.pid) || Date.now() - t0 > 30_000) throw new Error(`docker-registry did not come up on 127.0.0.1:${port}: ${readFileSync(join(dir, 'registry.log'), 'utf8')}`);
    await sleep(100);
  }
  return { port, pid: child.pid! };
}

/**
 * The run's engine and registry, started (and the images built into the cache) by the first
 * caller; later callers, in any worker, reuse them.
 */
export async function useTestDocker(): Promise<TestDocker> {
  const t0 = Date.now();
  const dir = runDir();
  return withFileLock(join(dir, 'lock'), async () => {
    const engine = await ensureEngine(dir);
    const docker = new Docker({ socketPath: engine.socketPath });
    const regFile = join(dir, 'registry.json');
    let reg: RegistryState | undefined = existsSync(regFile) ? (JSON.parse(readFileSync(regFile, 'utf8')) as RegistryState) : undefined;
    if (!reg || !isAlive(reg.pid)) {
      const storage = await ensureTestImages(docker);
      reg = await startRegistry(dir, storage);
      writeFileSync(regFile, JSON.stringify(reg));
    }
    const version = (await docker.version()).Version;
    const registry = `127.0.0.1:${reg.port}`;
    await removeEarlierRunsImages(docker, registry);
    return {
      docker,
      dockerHost: `unix://${engine.socketPath}`,
      engineVersion: version,
      registry,
      repository: `${registry}/postgres`,
      setupMs: Date.now() - t0,
    };
  });
}

/**
 * On an engine that outlives one test run (PGSETUP_TEST_DOCKER_HOST), the test images an earlier
 * run pulled from its own registry (another loopback port) still hold the layers, so the first
 * pull of this run would find them all present. Those images are removed (an image a container
 * still uses is left); this run's own are kept.
 */
async function removeEarlierRunsImages(docker: Docker, registry: string): Promise<void> {
  const earlier = (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => /^127\.0\.0\.1:\d+\/postgres:/.test(t) && !t.startsWith(`${registry}/`));
  for (const tag of earlier) {
    // Another run still going (its registry answers) keeps its images.
    if (await answers(Number(tag.split(':')[1]!.split('/')[0]))) continue;
    await docker.getImage(tag).remove({ noprune: false }).catch(() => undefined);
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Remove containers and volumes a test file made (by name), whatever state they are in. */
export async function removeContainers(docker: Docker, names: string[], volumes: string[] = []): Promise<void> {
  for (const n of names) await docker.getContainer(n).remove({ force: true, v: false }).catch(() => undefined);
  for (const v of volumes) await docker.getVolume(v).remove().catch(() => undefined);
}

/**
 * Global teardown: stop the registry, and the engine when this run started it (its containers
 * first, then dockerd, then whatever it left mounted), so the run's temp folder can go.
 */
export async function stopTestDocker(base: string): Promise<void> {
  const dir = join(base, 'docker');
  if (!existsSync(dir)) return;
  const regFile = join(dir, 'registry.json');
  if (existsSync(regFile)) {
    const reg = JSON.parse(readFileSync(regFile, 'utf8')) as RegistryState;
    if (isAlive(reg.pid)) process.kill(reg.pid, 'SIGTERM');
  }
  const engFile = join(dir, 'engine.json');
  if (!existsSync(engFile)) return;
  const eng = JSON.parse(readFileSync(engFile, 'utf8')) as EngineState;
  if (!eng.ours || !eng.pid) return;
  const docker = new Docker({ socketPath: eng.socketPath, timeout: 30_000 });
  const all = await docker.listContainers({ all: true }).catch(() => []);
  for (const c of all) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  if (isAlive(eng.pid)) process.kill(eng.pid, 'SIGTERM');
  const t0 = Date.now();
  while (isAlive(eng.pid) && Date.now() - t0 < 30_000) await sleep(100);
  if (isAlive(eng.pid)) process.kill(eng.pid, 'SIGKILL');
  // dockerd unmounts its overlays when it stops; anything left would make the folder's removal fail.
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      /* already gone */
    }
  }
}
