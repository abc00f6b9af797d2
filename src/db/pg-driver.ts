import { createRequire } from 'node:module';

/**
 * The `pg` driver, loaded without the cost of its Cloudflare probe on Node 20. pg asks at load
 * time whether it runs in a Cloudflare Worker: it reads `navigator.userAgent`, and where Node
 * has no `navigator` (Node 20) it constructs a `Response`, which loads Node's whole fetch
 * implementation (20-45 ms here, a quarter of a re-run). A `navigator` that says Node.js, there
 * only while pg loads, answers the same question for free. Newer Nodes have their own.
 * pg is CommonJS: required as such, it skips the scan Node makes of a CommonJS module's source
 * when ESM imports it.
 */
type Pg = typeof import('pg').default;

const g = globalThis as { navigator?: unknown };
const shim = g.navigator === undefined;
if (shim) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true });
let loaded: Pg;
try {
  loaded = createRequire(import.meta.url)('pg') as Pg;
} finally {
  if (shim) delete g.navigator;
}

const pg: Pg = loaded;
export default pg;
