// The `outpost` command, spawned as a user would run it (node bin/outpost.mjs ...): help and usage
// errors, import of all Synthea fixtures with every reference resolved, export then re-import into a
// fresh folder, and serve answering /fhir/R4/metadata (the API itself needs a session).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { tempDir } from '../host/helpers.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const fixtures = join(repoRoot, '..', 'shared', 'fixtures', 'synthea-r4');
const bin = join(repoRoot, 'bin', 'outpost.mjs');

function outpost(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openHost(dataDir: string): Host {
  return createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
}

function countsByType(host: Host): Record<string, number> {
  // AuditEvents are the host's own record of the import, not imported data.
  const rows = host.rawStore.db.prepare("SELECT type, count(*) AS n FROM resource WHERE deleted = 0 AND type != 'AuditEvent' GROUP BY type").all() as { type: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

function fixtureCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of readdirSync(fixtures)) {
    const bundle = JSON.parse(gunzipSync(readFileSync(join(fixtures, file))).toString('utf8')) as Bundle;
    for (const entry of bundle.entry ?? []) {
      const type = entry.resource!.resourceType;
      counts[type] = (counts[type] ?? 0) + 1;
    }
  }
  return counts;
}

/** Every `reference` in every stored resource that is not contained (#) and does not resolve. */
function unresolvedReferences(host: Host): string[] {
  const exists = host.rawStore.db.prepare('SELECT 1 FROM resource WHERE type = ? AND id = ? AND deleted = 0');
  const missing: string[] = [];
  let checked = 0;
  for (const row of host.rawStore.db.prepare('SELECT content FROM resource WHERE deleted = 0').iterate() as Iterable<{ content: string }>) {
    JSON.parse(row.content, (key, value) => {
      if (key === 'reference' && typeof value === 'string' && !value.startsWith('#')) {
        checked++;
        const [type, id, ...rest] = value.split('/');
        if (rest.length || !type || !id || !exists.get(type, id)) {
          missing.push(value);
        }
      }
      return value;
    });
  }
  expect(checked).toBeGreaterThan(10_000);
  return missing;
}

describe('help and usage', () => {
  it('--help prints the commands and exits 0; <cmd> --help prints its options', () => {
    const help = outpost(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['serve', 'import', 'export', '--data', '--port']) {
      expect(help.stdout).toContain(word);
    }
    const importHelp = outpost(['import', '--help']);
    expect(importHelp.code).toBe(0);
    expect(importHelp.stdout).toContain('outpost import <file|folder>');
    expect(outpost(['serve', '--help']).stdout).toContain('--port');
  });

  it('an unknown command or flag prints the usage on stderr and exits 2', () => {
    const unknown = outpost(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command');
    expect(unknown.stderr).toContain('Usage: outpost');
    const flag = outpost(['export', '--nope', '/tmp/x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Usage: outpost export');
    expect(outpost(['serve', '--port', 'abc']).code).toBe(2);
    expect(outpost([]).code).toBe(2);
  });
});

describe('import and export', () => {
  const dataDir = tempDir('outpost-cli-');
  const expected = fixtureCounts();
  let importRun: ReturnType<typeof outpost>;

  beforeAll(() => {
    importRun = outpost(['import', fixtures, '--data', dataDir]);
  }, 600_000);

  it('imports all 46 Synthea bundles: 13,612 resources, every reference resolved', () => {
    expect(importRun.stderr).not.toContain('Error');
    expect(importRun.code).toBe(0);
    expect(importRun.stdout).toMatch(/Imported 13612 resources from 46 files in [\d.]+ s \(\d+ resources\/s\)/);
    const host = openHost(dataDir);
    try {
      expect(Object.values(countsByType(host)).reduce((a, b) => a + b, 0)).toBe(13_612);
      expect(countsByType(host)).toEqual(expected);
      expect(unresolvedReferences(host)).toEqual([]);
    } finally {
      host.close();
    }
  });

  it('export then re-import into a fresh data folder gives the same counts per type', () => {
    const exportDir = tempDir('outpost-export-');
    const exported = outpost(['export', exportDir, '--data', dataDir]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('Exported 13612 resources');
    expect(readdirSync(exportDir).sort()).toEqual(Object.keys(expected).map((t) => `${t}.ndjson`).sort());

    const fresh = tempDir('outpost-reimport-');
    const reimported = outpost(['import', exportDir], { OUTPOST_DATA_DIR: fresh });
    expect(reimported.code).toBe(0);
    const host = openHost(fresh);
    try {
      expect(countsByType(host)).toEqual(expected);
      expect(unresolvedReferences(host)).toEqual([]);
    } finally {
      host.close();
    }
  }, 600_000);

  it('a database whose key file is missing or wrong is refused with a clear message', () => {
    const dir = tempDir('outpost-key-');
    expect(outpost(['export', join(dir, 'out'), '--data', dir]).code).toBe(0);
    const keyFile = join(dir, 'outpost.key');
    const key = readFileSync(keyFile, 'utf8');
    rmSync(keyFile);
    const missing = outpost(['export', join(dir, 'out'), '--data', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('outpost.key is missing');
    expect(existsSync(keyFile)).toBe(false);
    writeFileSync(keyFile, 'not-the-key\n', { mode: 0o600 });
    const wrong = outpost(['export', join(dir, 'out'), '--data', dir]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong key/);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    writeFileSync(keyFile, key, { mode: 0o600 });
    expect(outpost(['export', join(dir, 'out'), '--data', dir]).code).toBe(0);
  });

  it('a missing file is an error, not a crash', () => {
    const res = outpost(['import', '/nonexistent/file.json', '--data', tempDir()]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ENOENT');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('serve', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('prints a URL that answers /fhir/R4/metadata, offers first-run setup, and refuses the API without a session', async () => {
    const dataDir = tempDir('outpost-serve-');
    child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', dataDir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = await new Promise<{ url: string }>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
      child!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const url = /serving (http:\/\/127\.0\.0\.1:\d+\/fhir\/R4\/)/.exec(out)?.[1];
        if (url && out.includes('sign in')) {
          clearTimeout(timer);
          resolvePromise({ url });
        }
      });
      child!.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    });
    expect(out).toContain('First run');
    const ok = await fetch(`${ready.url}metadata`);
    expect(ok.status).toBe(200);
    expect((await ok.json()).resourceType).toBe('CapabilityStatement');
    expect((await fetch(`${ready.url}Patient`)).status).toBe(401);
    const setup = await fetch(ready.url.replace('/fhir/R4/', '/outpost/setup'));
    expect(await setup.json()).toEqual({ needed: true });

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 120_000);
});
