import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Tests start real servers; two cores, so two files at a time.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
