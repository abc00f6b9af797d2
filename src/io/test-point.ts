import { pathToFileURL } from 'node:url';
import { importOutside } from './import-outside.js';

/**
 * The one seam for tests: named points in a run (a step's title, `write:<file name>` between an
 * atomic write's temp file and its rename) where a test can act at a known moment. Inert
 * unless PGSETUP_TEST_HOOKS names a hook module, which is loaded once; the hooks themselves
 * live in test/helpers/test-hooks.mjs and are never part of the package.
 */
interface TestHooks {
  at(point: string): Promise<void>;
}

let hooks: Promise<TestHooks> | undefined;

export async function testPoint(point: string): Promise<void> {
  const module = process.env.PGSETUP_TEST_HOOKS;
  if (!module) return;
  hooks ??= importOutside<TestHooks>(pathToFileURL(module).href);
  await (await hooks).at(point);
}
