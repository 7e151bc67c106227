// `npm run test:medplum` (bin/test-medplum.mjs): sync against the real Medplum server. Never part of
// `npm test` (its files are *.medplum.ts). One file at a time: they share the server, and one stops it.
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: path.resolve(import.meta.dirname, '..', '..'),
  test: {
    include: ['test/medplum/**/*.medplum.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
