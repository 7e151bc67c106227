import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Only unit/integration tests: Playwright specs under test/e2e are run by their own runner.
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**/*.spec.ts', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
