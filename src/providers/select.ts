import { hasLocalCluster } from '../local/cluster.js';
import type { Output } from '../io/output.js';
import type { Given } from '../options/resolve.js';
import type { Options } from '../options/types.js';
import { existingProvider } from './existing.js';
import type { Provider } from './types.js';

/** Pick the provider for this run. */
export async function selectProvider(opts: Options, _given: Given, _out: Output): Promise<Provider> {
  // auto: a project that already has its own cluster keeps using it (a re-run starts it if stopped).
  if (opts.provider === 'local' || (opts.provider === 'auto' && hasLocalCluster(opts.projectDir))) {
    const { localProvider } = await import('./local.js');
    return localProvider(opts);
  }
  return existingProvider(opts);
}
