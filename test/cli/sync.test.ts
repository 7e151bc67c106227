// `outpost sync` against the loopback FHIR server: spawned as a user runs it (push, JSON summary, exit
// 0), and in-process for the rest (held changes exit 1, client credentials, usage errors, --help).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/host/cli/main.ts';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { createMedplumAuth } from '../helpers/medplum-auth.ts';
import { patient, tempDir } from '../host/helpers.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const bin = join(repoRoot, 'bin', 'outpost.mjs');

function outpost(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (write(String(chunk)), cb()) }) as unknown as NodeJS.WriteStream;
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

/** A data folder (CLI layout, keyed) with `n` local Patients waiting to be pushed. */
async function folderWithPatients(names: string[]): Promise<string> {
  const dataDir = tempDir('outpost-cli-sync-');
  const host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir), anonymous: 'system', audit: false });
  for (const name of names) {
    await host.handle({ method: 'POST', path: '/fhir/R4/Patient', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patient(name)) });
  }
  host.close();
  return dataDir;
}

let server: TestFhirServer;
const auth = createMedplumAuth({ clients: [{ id: 'cli-client', secret: 'cli-secret' }] });
beforeAll(async () => {
  server = await startFhirServer(auth);
});
afterAll(() => server.close());

describe('outpost sync', () => {
  it('pushes a data folder to the remote and prints the JSON summary (spawned)', async () => {
    const dataDir = await folderWithPatients(['Ash', 'Birch']);
    const run = await outpost(['sync', '--data', dataDir, '--remote', server.baseUrl, '--token', server.token, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ pushed: 2, held: 0, conflicts: 0, errors: [] });
    const again = await inProcess(['sync', '--data', dataDir, '--remote', server.baseUrl, '--token', server.token]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Synced project \S+: pushed 0, pulled 0, conflicts 0, held 0/);
  });

  it('exits 1 when the remote holds a change, and says so; client credentials work', async () => {
    const dataDir = await folderWithPatients(['Cedar']);
    server.inject({ fault: { type: 'status', status: 422 }, match: (r) => r.method === 'POST' && r.url === 'Patient', times: 20 });
    const run = await inProcess(['sync', '--data', dataDir, '--remote', server.baseUrl, '--client-id', 'cli-client', '--client-secret', 'cli-secret', '--push-only']);
    expect(run.stdout).toContain('held 1');
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain('cli-secret');
    expect(auth.calls.some((c) => c.grant === 'client_credentials' && c.status === 200)).toBe(true);
  });

  it('refuses bad flags with the usage (exit 2) and lists sync in --help', async () => {
    expect((await inProcess(['sync', '--token', 't'])).code).toBe(2);
    expect((await inProcess(['sync', '--remote', server.baseUrl])).stderr).toContain('--remote needs --token');
    expect((await inProcess(['sync', '--remote', server.baseUrl, '--token', 't', '--pull-only', '--push-only'])).code).toBe(2);
    expect((await inProcess(['--help'])).stdout).toContain('sync --remote <fhir base url>');
    expect((await inProcess(['sync', '--help'])).stdout).toContain('Exits 1 when a change is held');
  });
});
