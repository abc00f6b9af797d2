/**
 * Evaluated just before `pg` (pg-driver.ts imports it first): pg asks at load time whether it
 * runs in a Cloudflare Worker by reading `navigator.userAgent`, and where Node has no
 * `navigator` (Node 20) it constructs a `Response`, which loads Node's whole fetch
 * implementation (20-45 ms, a quarter of a re-run). A `navigator` that says Node.js, there
 * only while pg loads, answers the same question for free. Newer Nodes have their own.
 */
const g = globalThis as { navigator?: unknown };

/** True when this module put the stand-in there (pg-driver.ts removes it once pg is loaded). */
export const navigatorShimmed = g.navigator === undefined;
if (navigatorShimmed) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true });
