import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles build/ once for every file that runs the real binary (see the file).
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Integration files each start their own engines; two cores, so two files at a time.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
