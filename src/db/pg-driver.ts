// First: the stand-in `navigator` must be there while pg's modules evaluate (see pg-navigator.ts).
import { navigatorShimmed } from './pg-navigator.js';
import pg from 'pg';

/**
 * The `pg` driver, bundled into its own chunk of dist/ and imported on first connection only
 * (db/admin.ts), so `pg-setup status`, `stop` and `--help` never load it.
 */
if (navigatorShimmed) delete (globalThis as { navigator?: unknown }).navigator;

export default pg;
