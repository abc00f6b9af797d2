import { defineConfig } from 'vitest/config';

// Two projects: `fast` (pure logic, no server, no Python) and `e2e` (built CLI, real
// PostgreSQL clusters, real uv/Python). CI runs both on Node 20 and `fast` on Node 24.
export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        test: { name: 'fast', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 240_000,
          // Each file starts its own clusters; two cores, so keep parallelism modest.
          maxWorkers: 2,
          // vitest 4 refuses to run projects with different maxWorkers in one group: fast first, then e2e.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
