import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Vitest's default is one file at a time on a 2-core machine (cores − 1), but most test files
    // wait on child processes, servers and a browser: two at a time took the suite from 653 s to
    // 382 s on the 2-core machine of CI, with every test passing.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
