#!/usr/bin/env node
// `npm run test:medplum [-- <vitest args>]`: sync against the real Medplum server (test/medplum).
// The server is the one OUTPOST_MEDPLUM_ENV names (the env.json of a running kit), else the kit beside
// the checkout (../shared/medplum-server, or OUTPOST_MEDPLUM_KIT), started when it is not running (its
// first start installs PostgreSQL, Redis and the server's dependencies: minutes) and stopped again at
// the end if it was not running before (test/medplum/kit.ts ensureKit). Exit code: vitest's.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (message) => process.stderr.write(`[test:medplum] ${message}\n`);

register();
const { ensureKit, KIT_DIR } = await import(pathToFileURL(path.join(REPO_ROOT, 'test', 'medplum', 'kit.ts')).href);
let kit;
try {
  kit = await ensureKit(log);
} catch (err) {
  log(err.message);
  process.exit(1);
}
const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', path.join(REPO_ROOT, 'test', 'medplum', 'vitest.config.ts'), ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, OUTPOST_MEDPLUM_ENV: kit.envFile, OUTPOST_MEDPLUM_KIT: KIT_DIR },
});
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
try {
  kit.release();
} catch (err) {
  log(`stop.sh failed: ${err.message}`);
}
process.exit(code);
