// Loaded with `node --import` by the benchmark: records the CLI process's own peak RSS at exit.
// fs comes through require: an ESM import of node:fs would build its facade, which loads Node's
// stream modules, a cost pg-setup itself no longer pays (scripts/build.mjs).
import { createRequire } from 'node:module';

const out = process.env.PGSETUP_BENCH_RSS_FILE;
if (out) {
  const { appendFileSync } = createRequire(import.meta.url)('node:fs');
  process.on('exit', () => {
    appendFileSync(out, `${process.resourceUsage().maxRSS}\n`);
  });
}
