import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Only unit/integration tests: Playwright specs under test/e2e are run by their own runner.
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**/*.spec.ts', 'node_modules/**'],
    // One temporary folder per run, removed at its end (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default (cores - 1) is one worker on a 2-core CI machine, yet much of the suite waits on
    // child processes (Chromium, spawned CLIs and servers, crash children): two workers there took the
    // whole run from 400 s to 245 s with every test passing.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
