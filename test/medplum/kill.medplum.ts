// Killed mid-sync against the real Medplum server (SIGKILL of the process running the sync: a power
// cut, a crash), then run again: nothing lost, nothing duplicated. During a push Bundles are in flight
// when the kill lands, so the server may have stored creates the workstation never heard about; during
// a tenant pull pages are half-written.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import type { SyncRunSummary } from '../../shared/contract/sync.ts';
import { tempDir } from '../host/helpers.ts';
import { freshTenant, kitEnv, type KitEnv, type Tenant } from './kit.ts';
import { copiesByLocalId } from './workstation.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let env: KitEnv;

beforeAll(() => {
  env = kitEnv();
});

interface ChildRun {
  killed: boolean;
  answered: number;
  lastProgress: number;
  summary?: SyncRunSummary;
}

/** Runs sync-child.ts; SIGKILLs it once `killWhen` says so (after an answered POST or a progress line). */
function runChild(dataDir: string, mode: 'push' | 'tenant', killWhen?: (run: ChildRun) => boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'medplum', 'sync-child.ts'), dataDir, mode], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: ChildRun = { killed: false, answered: 0, lastProgress: 0 };
    let buffered = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'answered') run.answered++;
        if (line.startsWith('progress tenant ')) run.lastProgress = Number(line.split(' ')[2]);
        if (line.startsWith('done ')) run.summary = JSON.parse(line.slice(5)) as SyncRunSummary;
        if (!run.killed && killWhen?.(run)) {
          run.killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(run);
      else reject(new Error(`child exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

describe('SIGKILL during a sync, then a re-run', () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await freshTenant(env, 'kill');
  });

  it('killed during a push with Bundles in flight: the re-run sends the rest, the server holds each resource once', async () => {
    const dataDir = tempDir('outpost-medplum-kill-push-');
    const host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    const ids: string[] = [];
    host.rawStore.db.transaction(() => {
      for (let i = 0; i < 200; i++) ids.push(host.rawStore.create<Patient>({ resourceType: 'Patient', name: [{ given: ['Killed'], family: `Push${i}` }] }, undefined, { project: DEFAULT_PROJECT_ID }).resource.id as string);
      for (let i = 0; i < 100; i++) {
        host.rawStore.create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${ids[i]}` }, valueQuantity: { value: 60 + (i % 30), unit: '/min' } }, undefined, { project: DEFAULT_PROJECT_ID });
      }
    })();
    host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: env.fhirUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret });
    host.close();

    const killed = await runChild(dataDir, 'push', (r) => r.answered >= 3);
    expect(killed.killed).toBe(true);
    expect(killed.summary).toBeUndefined();
    const landedBefore = copiesByLocalId(await tenant.list('Patient'));
    expect(landedBefore.size).toBeGreaterThan(0);
    expect(landedBefore.size).toBeLessThan(200);

    const again = await runChild(dataDir, 'push');
    expect(again.summary).toMatchObject({ errors: [], held: 0, conflicts: 0, retryLater: 0 });
    const patients = copiesByLocalId(await tenant.list('Patient'));
    const observations = copiesByLocalId(await tenant.list('Observation'));
    expect(patients.size).toBe(200);
    expect(observations.size).toBe(100);
    expect([...patients.values(), ...observations.values()].every((n) => n === 1)).toBe(true);
    // Every observation points at its patient's server copy.
    const local = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    try {
      expect(local.rawStore.db.prepare("SELECT count(*) FROM sync_outbox WHERE type IN ('Patient', 'Observation')").pluck().get()).toBe(0);
      const remoteIdOf = local.rawStore.db.prepare<[string], string>("SELECT remote_id FROM sync_id_map WHERE type = 'Patient' AND local_id = ?").pluck();
      const remoteObs = await tenant.list<Observation>('Observation');
      const patientIds = new Set(ids.map((id) => `Patient/${remoteIdOf.get(id)}`));
      expect(remoteObs.every((o) => patientIds.has(o.subject?.reference as string))).toBe(true);
    } finally {
      local.close();
    }
  });

  it('killed during a tenant pull: the re-run continues, every tenant resource is here exactly once', async () => {
    const pull = await freshTenant(env, 'kill-pull');
    const patients = Array.from({ length: 150 }, (_, i): Patient => ({ resourceType: 'Patient', id: `urn:uuid:${crypto.randomUUID()}`, name: [{ family: `Pull${i}` }] }));
    const observations = patients.flatMap((p) => [0, 1, 2, 3, 4, 5].map((k): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: p.id }, valueQuantity: { value: 50 + k, unit: 'kg' } })));
    await pull.seed([...patients, ...observations]);
    const remotePatients = (await pull.list('Patient')).map((r) => r.id as string).sort();
    const remoteObservations = (await pull.list('Observation')).map((r) => r.id as string).sort();
    expect(remoteObservations).toHaveLength(900);

    const dataDir = tempDir('outpost-medplum-kill-pull-');
    const host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: env.fhirUrl, clientId: pull.clientId, clientSecret: pull.clientSecret });
    host.close();
    const killed = await runChild(dataDir, 'tenant', (r) => r.lastProgress >= 400);
    expect(killed.killed).toBe(true);
    const again = await runChild(dataDir, 'tenant');
    expect(again.summary).toMatchObject({ errors: [], unauthorized: false });
    // The re-run did not read the tenant again from the start.
    expect(again.summary!.pulled).toBeLessThan(1_050);

    const local = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    try {
      const ids = (type: string) => local.rawStore.db.prepare<[string], string>('SELECT id FROM resource WHERE type = ? AND deleted = 0 ORDER BY id').pluck().all(type);
      expect(ids('Patient')).toEqual(remotePatients);
      expect(ids('Observation')).toEqual(remoteObservations);
      // One version each: nothing was written twice.
      expect(local.rawStore.db.prepare("SELECT count(*) FROM resource_history h JOIN resource r ON r.rid = h.rid WHERE r.type IN ('Patient', 'Observation')").pluck().get()).toBe(1_050);
    } finally {
      local.close();
    }
  });
});
