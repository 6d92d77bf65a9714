import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/release.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser and one stack at a time: the machines have 2 cores.
    fileParallelism: false,
  },
});
