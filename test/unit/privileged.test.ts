import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test, vi } from 'vitest';

// Pretend not to be root, so runAsRoot has to go through (a stand-in) sudo.
vi.mock('../../src/detect/os.js', async (orig) => ({ ...(await orig<typeof import('../../src/detect/os.js')>()), isRoot: () => false }));
const { runAsRoot } = await import('../../src/providers/privileged.js');

beforeAll(() => {
  const fake = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'fake-sudo');
  process.env.PATH = `${fake}:${process.env.PATH}`;
});

test('non-interactive runs use sudo -n and say plainly when sudo wants a password', async () => {
  const err = await runAsRoot('apt-get', ['install', '-y', 'postgresql'], { interactive: false }).catch((e: unknown) => e);
  expect(err).toMatchObject({
    name: 'UserError',
    message: 'sudo needs a password to run "apt-get", and this run is non-interactive.',
    hint: expect.stringContaining('sudo apt-get install -y postgresql'),
    exitCode: 3,
  });
});

test('interactive runs use plain sudo, which may ask for the password on the terminal', async () => {
  const r = await runAsRoot('echo', ['installed'], { interactive: true });
  expect(r.stdout).toBe('installed');
});
