import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    // Each test file opens its own DuckDB file; two workers fit the 2-core machines.
    maxWorkers: 2,
  },
});
