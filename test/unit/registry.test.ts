import { describe, expect, test } from 'vitest';
import { chooseProvider, createProvider, detectAll, mergeSameServer, renderDetectionTable } from '../../src/providers/registry.js';
import type { Provider, ProviderStatus } from '../../src/providers/types.js';
import { providerOptions } from '../helpers/provider-options.js';

const st = (name: ProviderStatus['name'], state: ProviderStatus['state'], detail = `${name} ${state}`): ProviderStatus => ({ name, state, detail });
const nothingRunning = [st('existing', 'unavailable'), st('apt', 'can-install'), st('brew', 'can-install'), st('docker', 'can-install')];

describe('chooseProvider', () => {
  test('--provider wins over anything detected', () => {
    expect(chooseProvider([st('apt', 'running')], { provider: 'docker' })).toEqual({ name: 'docker', reason: 'chosen with --provider docker' });
  });

  test('a running server comes first, and one we manage beats a bare server on the port', () => {
    const statuses = [st('existing', 'running', 'PostgreSQL on 127.0.0.1:5432'), st('apt', 'running', 'cluster 15/main on port 5432 is running'), st('docker', 'stopped')];
    expect(chooseProvider(statuses, { provider: 'auto' }, 'debian')).toEqual({
      name: 'apt',
      reason: 'a server is already running: cluster 15/main on port 5432 is running',
    });
    expect(chooseProvider([st('existing', 'running'), st('docker', 'stopped')], { provider: 'auto' }, 'debian').name).toBe('existing');
  });

  test('then an installed but stopped local server, before installing anything', () => {
    expect(chooseProvider([...nothingRunning.slice(0, 2), st('brew', 'stopped'), st('docker', 'can-install')], { provider: 'auto' }, 'debian').name).toBe('brew');
    expect(chooseProvider([st('apt', 'can-install'), st('docker', 'stopped')], { provider: 'auto' }, 'debian').name).toBe('docker');
  });

  test('then Homebrew on macOS, apt on Debian/Ubuntu, then Docker', () => {
    expect(chooseProvider(nothingRunning, { provider: 'auto' }, 'macos')).toEqual({ name: 'brew', reason: 'macOS with Homebrew' });
    expect(chooseProvider(nothingRunning, { provider: 'auto' }, 'debian')).toEqual({ name: 'apt', reason: 'Debian/Ubuntu: PostgreSQL from apt' });
    expect(chooseProvider(nothingRunning, { provider: 'auto' }, 'linux').name).toBe('docker');
    expect(chooseProvider([st('brew', 'unavailable'), st('docker', 'can-install')], { provider: 'auto' }, 'macos').name).toBe('docker');
  });

  test('with nothing else usable, auto falls back to a project-local cluster', () => {
    expect(chooseProvider([st('apt', 'unavailable'), st('docker', 'unavailable'), st('local', 'can-install')], { provider: 'auto' }, 'linux')).toMatchObject({ name: 'local' });
    expect(chooseProvider([st('apt', 'can-install'), st('local', 'installed')], { provider: 'auto' }, 'debian').name).toBe('apt');
  });

  test("the project's own local cluster wins, running or stopped", () => {
    expect(chooseProvider([st('apt', 'running'), st('local', 'stopped')], { provider: 'auto' }, 'debian').name).toBe('local');
  });

  test('nothing usable is one error that names the ways out', () => {
    expect(() => chooseProvider([st('apt', 'unavailable'), st('docker', 'unavailable')], { provider: 'auto' }, 'linux')).toThrow(
      expect.objectContaining({ exitCode: 3, hint: expect.stringMatching(/--admin-url/) }),
    );
  });
});

test('the detection table lines up its columns and marks the chosen provider', () => {
  const table = renderDetectionTable(
    [st('existing', 'unavailable', 'nothing listens on 127.0.0.1:5432'), st('apt', 'stopped', 'cluster 15/main on port 5432 is stopped'), st('docker', 'can-install', 'would pull postgres:18')],
    'apt',
  );
  expect(table).toBe(
    [
      'Provider  State        Details',
      'existing  unavailable  nothing listens on 127.0.0.1:5432',
      'apt *     stopped      cluster 15/main on port 5432 is stopped',
      'docker    can install  would pull postgres:18',
      '* apt will be used',
    ].join('\n'),
  );
});

test('one server is one row: the apt cluster on 5432 replaces the existing row for the same port, and says it answers there', () => {
  const rows = mergeSameServer([
    { name: 'existing', state: 'running', detail: 'PostgreSQL 15.4 on localhost:5432', port: 5432 },
    { name: 'apt', state: 'running', detail: 'cluster 15/main on port 5432 is running', port: 5432 },
    { name: 'local', state: 'installed', detail: 'a project cluster from /usr/lib/postgresql/15/bin' },
  ]);
  expect(rows.map((r) => r.name)).toEqual(['apt', 'local']);
  expect(rows[0]!.detail).toBe('cluster 15/main on port 5432 is running; it is the server answering on port 5432');
  // The recommendation is unchanged: the managed server, administrable without a password.
  expect(chooseProvider(rows, { provider: 'auto' }, 'debian').name).toBe('apt');
});

test('servers on different ports stay two rows', () => {
  const rows = mergeSameServer([
    { name: 'existing', state: 'running', detail: 'PostgreSQL 16 on localhost:5433', port: 5433 },
    { name: 'apt', state: 'running', detail: 'cluster 15/main on port 5432 is running', port: 5432 },
  ]);
  expect(rows.map((r) => r.name)).toEqual(['existing', 'apt']);
});

test('the wizard table stars the recommended row', () => {
  const table = renderDetectionTable([st('apt', 'running', 'cluster 15/main on port 5432 is running'), st('local', 'installed', 'x')], 'apt', 'recommended');
  expect(table.split('\n').slice(1)).toEqual(['apt *     running    cluster 15/main on port 5432 is running', 'local     installed  x', '* apt recommended']);
});

test('a provider missing from the table is refused with a usage error, not a crash', () => {
  expect(() => createProvider('brew', providerOptions(), {})).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/"brew" provider is not available/) }));
});

test('a detector that throws shows in the table as unavailable with its first line, and the others still report', async () => {
  const ok = (name: ProviderStatus['name']) => () => ({ name, detect: async () => st(name, 'running') }) as unknown as Provider;
  const broken = () => ({ name: 'docker', detect: async () => Promise.reject(new Error('connect ENOENT /x/docker.sock\nstack')) }) as unknown as Provider;
  const statuses = await detectAll(providerOptions(), { apt: ok('apt'), docker: broken, local: ok('local') });
  expect(statuses).toEqual([st('apt', 'running'), { name: 'docker', state: 'unavailable', detail: 'connect ENOENT /x/docker.sock' }, st('local', 'running')]);
});
