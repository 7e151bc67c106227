#!/usr/bin/env node
// `npm run test:medplum [-- <vitest args>]`: sync against the real Medplum server (test/medplum).
// The server is the kit beside the checkout (../shared/medplum-server, or OUTPOST_MEDPLUM_KIT): when
// OUTPOST_MEDPLUM_ENV names the env.json of a running one it is used as is; otherwise this starts the
// kit (its first start installs PostgreSQL, Redis and the server's dependencies: minutes), runs the
// tests, and stops the kit again if it was not running before. Exit code: vitest's.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KIT = process.env.OUTPOST_MEDPLUM_KIT ?? path.resolve(REPO_ROOT, '..', 'shared', 'medplum-server');

function log(message) {
  process.stderr.write(`[test:medplum] ${message}\n`);
}

async function healthy(envFile) {
  try {
    const env = JSON.parse(readFileSync(envFile, 'utf8'));
    const res = await fetch(env.healthcheck, { signal: AbortSignal.timeout(5_000) });
    return res.ok;
  } catch {
    return false;
  }
}

let envFile = process.env.OUTPOST_MEDPLUM_ENV;
let startedHere = false;
if (envFile) {
  if (!(await healthy(envFile))) {
    log(`OUTPOST_MEDPLUM_ENV=${envFile} names no running server (its healthcheck does not answer)`);
    process.exit(1);
  }
} else {
  if (!existsSync(path.join(KIT, 'start.sh'))) {
    log(`no Medplum kit at ${KIT}: set OUTPOST_MEDPLUM_KIT, or OUTPOST_MEDPLUM_ENV to a running server's env.json`);
    process.exit(1);
  }
  const work = process.env.MEDPLUM_WORK ?? path.join(process.env.TMPDIR ?? '/tmp', 'outpost-medplum');
  const wasRunning = await healthy(path.join(work, 'env.json'));
  log(wasRunning ? `using the running kit in ${work}` : `starting the Medplum kit (${KIT}); the first start takes minutes`);
  const started = Date.now();
  const out = execFileSync(path.join(KIT, 'start.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  envFile = out.trim().split('\n').pop();
  startedHere = !wasRunning;
  if (!wasRunning) log(`kit up in ${Math.round((Date.now() - started) / 1000)} s: ${envFile}`);
}

const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', path.join(REPO_ROOT, 'test', 'medplum', 'vitest.config.ts'), ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, OUTPOST_MEDPLUM_ENV: envFile, OUTPOST_MEDPLUM_KIT: KIT },
});
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (startedHere) {
  log('stopping the kit (it was not running before)');
  try {
    execFileSync(path.join(KIT, 'stop.sh'), { stdio: 'inherit' });
  } catch (err) {
    log(`stop.sh failed: ${err.message}`);
  }
}
process.exit(code);
