import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One temporary folder per run, removed at its end (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default (cores - 1) is one worker on a 2-core CI machine, yet much of the suite waits on
    // child processes (Chromium, spawned CLIs and servers, crash children): two workers there took the
    // whole run from 400 s to 245 s with every test passing.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Two suites: `npm test` runs 'unit' (the store, access, sync, the doors, the CLI, the renderer's
    // stores and views in jsdom), `npm run test:e2e` runs 'e2e' (the app in Debian's Chromium, with
    // axe-core on every screen it checks). CI runs both; together they no longer fit `npm test`'s ten
    // minutes on a 2-core machine. `npx vitest run` with no --project runs both.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: ['test/e2e/**', 'node_modules/**'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
