import { defineConfig } from 'vitest/config';

// Projects: `fast` (pure logic and the plan tier: no server, no Python) and `e2e` (built CLI, real
// PostgreSQL clusters, real uv/Python). CI runs both on Node 20 and `fast` on Node 24.
export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts', './test/helpers/robustness-reporter.ts'],
    globalSetup: ['./test/helpers/global-setup.ts'],
    projects: [
      {
        test: { name: 'fast', include: ['test/unit/**/*.test.ts', 'test/plan/**/*.test.ts'], testTimeout: 20_000, sequence: { groupOrder: 0 } },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          // Each file starts its own clusters; two cores, so keep parallelism modest.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Tests that drive the machine's own PostgreSQL (the apt cluster on 5432) run alone,
        // after the e2e files, so no throwaway local cluster can hold that port meanwhile.
        test: {
          name: 'system',
          include: ['test/system/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
