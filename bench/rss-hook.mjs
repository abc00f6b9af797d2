// Loaded with `node --import` by the benchmark: records the CLI process's own peak RSS at exit.
import { appendFileSync } from 'node:fs';

const out = process.env.PGSETUP_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    appendFileSync(out, `${process.resourceUsage().maxRSS}\n`);
  });
}
