import { expect, test } from 'vitest';
import { parseLsClusters } from '../../src/providers/apt.js';
import { parseListVersions } from '../../src/providers/brew.js';
import { defaultContainerName } from '../../src/providers/docker/names.js';
import { dataMountPath, dockerImageRef } from '../../src/providers/docker/provider.js';
import { PullProgress } from '../../src/providers/docker/pull-progress.js';

test('pg_lsclusters lines become clusters with their port and state', () => {
  const text = '15 main 5432 down postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log\n16 test 5433 online,recovery postgres /srv/16 /var/log/pg16.log\n';
  expect(parseLsClusters(text)).toEqual([
    { version: '15', name: 'main', port: 5432, online: false, owner: 'postgres', dataDir: '/var/lib/postgresql/15/main', logFile: '/var/log/postgresql/postgresql-15-main.log' },
    { version: '16', name: 'test', port: 5433, online: true, owner: 'postgres', dataDir: '/srv/16', logFile: '/var/log/pg16.log' },
  ]);
});

test('brew list --versions keeps the newest version of each formula', () => {
  expect(parseListVersions('postgresql@16 16.3 16.4\npython@3.12 3.12.4\n')).toEqual(new Map([['postgresql@16', '16.4'], ['python@3.12', '3.12.4']]));
});

test('container names come from the project folder; data lives where that major keeps it', () => {
  expect(defaultContainerName('/home/me/Shop API')).toBe('pg-setup-shop-api');
  expect(defaultContainerName('/')).toBe('pg-setup-app');
  expect(dataMountPath(17)).toBe('/var/lib/postgresql/data');
  expect(dataMountPath(18)).toBe('/var/lib/postgresql');
});

test('pull progress is one bar over all layers', () => {
  const p = new PullProgress();
  p.update({ status: 'Pulling from library/postgres', id: '18' });
  p.update({ status: 'Pulling fs layer', id: 'a' });
  p.update({ status: 'Already exists', id: 'b' });
  // One of two layers is there already: the bar starts at half and never goes back.
  expect(p.update({ status: 'Downloading', id: 'a', progressDetail: { current: 1e6, total: 4e6 } })).toBe('[##########----------] 50% 1/2 layers 1.0/4.0 MB');
  expect(p.update({ status: 'Downloading', id: 'a', progressDetail: { current: 3e6, total: 4e6 } })).toBe('[###############-----] 75% 1/2 layers 3.0/4.0 MB');
  p.update({ status: 'Download complete', id: 'a' });
  // Every layer seen is complete, but only the end of the engine's stream says the pull is.
  expect(p.update({ status: 'Pull complete', id: 'a' })).toBe('[###################-] 99% 2/2 layers 4.0/4.0 MB');
  expect(p.finish()).toBe('[####################] 100% 2/2 layers 4.0/4.0 MB');
  expect(() => p.update({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' })).toThrow(/Pulling the image failed: manifest unknown/);
});

test('a small layer finished first does not read as the whole pull, and the bar only changes a few times', () => {
  // The order a real engine reports a three-layer pull in (seen against Docker Engine 20.10).
  const p = new PullProgress();
  for (const id of ['base', 'server', 'entry']) p.update({ status: 'Pulling fs layer', id });
  expect(p.update({ status: 'Downloading', id: 'entry', progressDetail: { current: 1284, total: 1284 } })).toMatch(/^\[-{20}\] 0% 0\/3 layers/);
  p.update({ status: 'Downloading', id: 'base', progressDetail: { current: 0, total: 58e6 } });
  const seen = new Set<string>();
  let line = '';
  for (let mb = 1; mb <= 23; mb++) {
    line = p.update({ status: 'Downloading', id: 'server', progressDetail: { current: mb * 1e6, total: 23e6 } });
    seen.add(p.milestone());
  }
  expect(line).toBe('[#####---------------] 28% 0/3 layers 23.0/81.0 MB');
  expect(seen.size).toBeLessThanOrEqual(6);
  for (const id of ['entry', 'server', 'base']) p.update({ status: 'Download complete', id });
  expect(p.update({ status: 'Extracting', id: 'base', progressDetail: { current: 1, total: 2 } })).toMatch(/^\[#{19}-\] 99% 0\/3 layers/);
  for (const id of ['base', 'server', 'entry']) line = p.update({ status: 'Pull complete', id });
  expect(line).toBe('[###################-] 99% 3/3 layers 81.0/81.0 MB');
  expect(p.finish()).toBe('[####################] 100% 3/3 layers 81.0/81.0 MB');
});

test('a layer that exists already, reported before the others are announced, is not the whole pull', () => {
  // The order a fast local registry produced once: one layer complete while it was the only one seen.
  const p = new PullProgress();
  const percents = [
    p.update({ status: 'Pulling from library/postgres', id: '18' }),
    p.update({ status: 'Already exists', id: 'a' }),
    p.update({ status: 'Pulling fs layer', id: 'b' }),
    p.update({ status: 'Downloading', id: 'b', progressDetail: { current: 1e6, total: 2e6 } }),
    p.update({ status: 'Pull complete', id: 'b' }),
    p.finish(),
  ].map((l) => Number(/\] (\d+)% /.exec(l)![1]));
  expect(percents).toEqual([...percents].sort((x, y) => x - y));
  expect(percents.filter((x) => x === 100)).toEqual([100]);
  expect(percents.at(-1)).toBe(100);
});

test('the image: postgres:<major> by default; --docker-image names a mirror (tag from --pg-version) or a whole image', () => {
  expect(dockerImageRef(undefined, undefined)).toEqual({ image: 'postgres:18', major: '18', explicit: false });
  expect(dockerImageRef(undefined, '17')).toEqual({ image: 'postgres:17', major: '17', explicit: true });
  expect(dockerImageRef('127.0.0.1:5000/postgres', undefined)).toEqual({ image: '127.0.0.1:5000/postgres:18', major: '18', explicit: false });
  expect(dockerImageRef('mirror.example.com/library/postgres', '16')).toEqual({ image: 'mirror.example.com/library/postgres:16', major: '16', explicit: true });
  expect(dockerImageRef('mirror.example.com:443/postgres:17-bookworm', undefined)).toEqual({ image: 'mirror.example.com:443/postgres:17-bookworm', major: '17', explicit: true });
  expect(() => dockerImageRef('postgres:17', '18')).toThrow('--docker-image postgres:17 is PostgreSQL 17, but --pg-version says 18.');
  expect(() => dockerImageRef('postgres:latest', undefined)).toThrow(/does not say which PostgreSQL major/);
  expect(dockerImageRef('postgres:latest', '18').image).toBe('postgres:latest');
  expect(() => dockerImageRef('postgres@sha256:abc', undefined)).toThrow(/--docker-image must be an image name/);
  expect(() => dockerImageRef(undefined, 'x')).toThrow(/--pg-version must be a PostgreSQL major/);
});
