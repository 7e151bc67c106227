// The host routes of sync through the host's door, as the sync panel calls them: status (shape, and
// only what the session's policy may read), run (409 while one runs), resolving a real conflict (S2's
// resolveConflict), every failure an OperationOutcome.
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { clinic, type Clinic } from './runner-helpers.ts';

let server: TestFhirServer;
let c: Clinic;

beforeEach(async () => {
  server = await startFhirServer();
  c = await clinic({ sync: { runner: { remoteOptions: { baseDelayMs: 1, maxTries: 2 } } } });
});
afterEach(async () => {
  c.host.close();
  await server.close();
});

const remote = () => c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: server.baseUrl, token: server.token });

describe('outpost/sync routes', () => {
  it('status lists pending and held changes in the contract shape, filtered by the session policy', async () => {
    await c.invite('lab@example.org', [{ resourceType: 'Observation' }], 'lab-pass-12');
    const lab = await c.login('lab@example.org', 'lab-pass-12');
    const p = await c.call(c.admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Pending' }] });
    await c.call(c.admin, 'POST', '/fhir/R4/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'pulse' } });

    const before = await c.call(c.admin, 'GET', '/outpost/sync/status');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ online: false, running: false, held: [], conflicts: [] });
    expect(before.body.remote).toBeUndefined();
    const patientItem = before.body.pending.find((i: { resourceType: string }) => i.resourceType === 'Patient');
    expect(patientItem).toEqual({ id: `Patient/${p.body.id}`, resourceType: 'Patient', resourceId: p.body.id, operation: 'create', changedAt: expect.any(String), state: 'pending' });
    expect(before.body.pending.map((i: { resourceType: string }) => i.resourceType)).toEqual(expect.arrayContaining(['Patient', 'Observation', 'Practitioner']));

    const labView = await c.call(lab, 'GET', '/outpost/sync/status');
    expect(labView.body.pending.map((i: { resourceType: string }) => i.resourceType)).toEqual(['Observation']);

    // The remote refuses the Patient: held, with the reason, still only for those who may read it.
    await remote();
    server.inject({ fault: { type: 'status', status: 422 }, match: (r) => r.method === 'POST' && r.url === 'Patient' && JSON.stringify(r.body ?? '').includes('Pending'), times: 20 });
    const run = await c.call(lab, 'POST', '/outpost/sync/run', { pushOnly: true });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ held: 1, failed: false });
    const after = await c.call(c.admin, 'GET', '/outpost/sync/status');
    expect(after.body.held).toEqual([expect.objectContaining({ resourceType: 'Patient', state: 'held', reason: expect.any(String) })]);
    expect(after.body).toMatchObject({ online: true, lastSync: run.body.finishedAt, remote: { baseUrl: server.baseUrl, auth: 'token' } });
    expect((await c.call(lab, 'GET', '/outpost/sync/status')).body.held).toEqual([]);
  });

  it('status counts every pending change the session may see, though each list stops at 500 per type', async () => {
    await c.invite('lab2@example.org', [{ resourceType: 'Observation' }], 'lab-pass-12');
    const lab = await c.login('lab2@example.org', 'lab-pass-12');
    const entry = Array.from({ length: 520 }, (_, i) => ({
      request: { method: 'POST', url: 'Observation' },
      resource: { resourceType: 'Observation', status: 'final', code: { text: `reading ${i}` } },
    }));
    expect((await c.call(c.admin, 'POST', '/fhir/R4', { resourceType: 'Bundle', type: 'transaction', entry })).status).toBe(200);

    const admin = (await c.call(c.admin, 'GET', '/outpost/sync/status')).body;
    const adminObservations = admin.pending.filter((i: { resourceType: string }) => i.resourceType === 'Observation');
    expect(adminObservations).toHaveLength(500);
    expect(admin.counts.pending).toBe(c.host.rawStore.db.prepare("SELECT COUNT(*) FROM sync_outbox WHERE state = 'pending'").pluck().get());
    expect(admin.counts.pending).toBeGreaterThan(admin.pending.length);
    expect(admin.counts.held).toBe(0);

    const labView = (await c.call(lab, 'GET', '/outpost/sync/status')).body;
    expect(labView.counts.pending).toBe(520);
  });

  it('run: 400 without a remote, 409 while another runs, 401 without a session', async () => {
    expect((await c.call(c.admin, 'POST', '/outpost/sync/run', {})).body.issue[0].details.text).toMatch(/no remote/);
    expect((await c.call(undefined, 'POST', '/outpost/sync/run', {})).status).toBe(401);
    await remote();
    await c.call(c.admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Slow' }] });
    server.inject({ fault: { type: 'slow', ms: 300 } });
    const [a, b] = await Promise.all([c.call(c.admin, 'POST', '/outpost/sync/run', {}), c.call(c.admin, 'POST', '/outpost/sync/run', {})]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((a.status === 409 ? a : b).body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'conflict' }] });
    expect((await c.call(c.admin, 'POST', '/outpost/sync/run', { pullOnly: true, pushOnly: true })).status).toBe(400);
  });

  it('a conflict from two edits of one field is listed and resolved through the route', async () => {
    await remote();
    const created = await c.call(c.admin, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ family: 'Base' }] });
    expect((await c.call(c.admin, 'POST', '/outpost/sync/run', {})).body.pushed).toBeGreaterThan(0);
    const remoteId = c.host.rawStore.db.prepare("SELECT remote_id FROM sync_id_map WHERE type = 'Patient' AND local_id = ?").pluck().get(created.body.id) as string;
    const onServer = await server.repo.readResource<Patient>('Patient', remoteId);
    await server.repo.updateResource({ ...onServer, name: [{ family: 'Theirs' }] });
    await c.call(c.admin, 'PUT', `/fhir/R4/Patient/${created.body.id}`, { ...created.body, name: [{ family: 'Mine' }] });
    await c.call(c.admin, 'POST', '/outpost/sync/run', { pushOnly: true });

    const status = await c.call(c.admin, 'GET', '/outpost/sync/status');
    expect(status.body.conflicts).toHaveLength(1);
    const conflict = status.body.conflicts[0];
    expect(conflict).toMatchObject({ resourceType: 'Patient', resourceId: created.body.id, fields: expect.any(Array), local: { name: [{ family: 'Mine' }] }, remote: { name: [{ family: 'Theirs' }] } });
    expect(Object.keys(conflict).sort()).toEqual(['base', 'createdAt', 'fields', 'id', 'local', 'reason', 'remote', 'resourceId', 'resourceType']);

    expect((await c.call(c.admin, 'POST', `/outpost/sync/conflicts/${conflict.id}/resolve`, { keep: 'nobody' })).status).toBe(400);
    expect((await c.call(c.admin, 'POST', '/outpost/sync/conflicts/no-such-conflict/resolve', { keep: 'remote' })).status).toBe(404);
    const resolved = await c.call(c.admin, 'POST', `/outpost/sync/conflicts/${conflict.id}/resolve`, { keep: 'remote' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ resourceType: 'Patient', id: created.body.id, name: [{ family: 'Theirs' }] });
    expect((await c.call(c.admin, 'GET', `/fhir/R4/Patient/${created.body.id}`)).body.name[0].family).toBe('Theirs');
    expect((await c.call(c.admin, 'GET', '/outpost/sync/status')).body.conflicts).toEqual([]);
    // Who resolved it, and how, is audited against the resource.
    const audit = await c.call(c.admin, 'GET', `/fhir/R4/AuditEvent?entity=Patient/${created.body.id}&_count=100`);
    const resolvedEvents = (audit.body.entry ?? []).filter((e: { resource: { subtype?: { code?: string }[] } }) => e.resource.subtype?.some((s) => s.code === 'sync-conflict-kept-remote'));
    expect(resolvedEvents).toHaveLength(1);
  });
});
