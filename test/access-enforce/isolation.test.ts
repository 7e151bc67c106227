// Cross-project isolation and a leak crawl: canaries in hidden fields never appear in any byte of
// any answer the role can get (read, vread, search with _include/_revinclude/_elements, history,
// /auth/me, errors, batch GETs).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportAs } from '../../electron/host/access/index.ts';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

describe('isolation', () => {
  it('two projects with look-alike data: no request of one returns the other\'s data', async () => {
    c = createClinic();
    const other = c.newProject('Look-alike');
    const mine = c.seed(patient('Twin', { identifier: [{ system: 'urn:mrn', value: 'MINE-1' }] }));
    const theirs = c.seed(patient('Twin', { identifier: [{ system: 'urn:mrn', value: 'THEIRS-1' }] }), other);
    c.seed({ resourceType: 'Observation', status: 'final', code: { text: 'bp' }, subject: { reference: `Patient/${theirs.id}` } }, other);
    const me = await c.person('Here', {});
    const t = await c.login(me.email);
    const replies = [
      await c.call(t, 'GET', `Patient/${theirs.id}`),
      await c.call(t, 'GET', 'Patient?family=Twin'),
      await c.call(t, 'GET', 'Patient?_revinclude=Observation:subject'),
      await c.call(t, 'GET', `Observation?subject=Patient/${theirs.id}`),
      await c.call(t, 'GET', 'Observation?subject.family=Twin'),
      await c.call(t, 'GET', 'Patient?_has:Observation:subject:code=bp'),
      await c.call(t, 'GET', '_history'),
      await c.call(t, 'GET', 'Patient/_history'),
      await c.call(t, 'GET', `Patient/${theirs.id}/_history`),
      await c.call(t, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${theirs.id}` } }] }),
    ];
    for (const r of replies) {
      expect(r.text).not.toContain('THEIRS-1');
      // errors and self links may echo the id the caller typed; the returned resources never hold it
      expect(JSON.stringify((r.body?.entry ?? []).map((e: any) => e.resource ?? null))).not.toContain(theirs.id);
    }
    expect((await c.call(t, 'GET', 'Patient?family=Twin')).body.total).toBe(1);
    expect(replies[0].status).toBe(404);
    const ref = await c.call(t, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${theirs.id}` } });
    expect(ref.status).toBe(403);
    expect((await c.call(t, 'GET', `Patient/${mine.id}`)).status).toBe(200);
  });

  it('leak crawl: canaries in hidden fields never appear in any byte', async () => {
    c = createClinic();
    const policy = c.policy([
      { resourceType: 'Patient', interaction: ['read', 'vread', 'search', 'history', 'update'], hiddenFields: ['name', 'telecom', 'address', 'identifier', 'birthDate'] },
      { resourceType: 'Observation', readonly: true, hiddenFields: ['valueQuantity.value'] },
    ]);
    const who = await c.person('Researcher', { accessPolicy: { reference: `AccessPolicy/${policy}` } }, undefined, 'Practitioner');
    const p = c.seed(patient('CANARYFAMILY', {
      name: [{ family: 'CANARYFAMILY', given: ['CANARYGIVEN'] }],
      telecom: [{ system: 'phone', value: 'CANARYPHONE' }],
      address: [{ city: 'CANARYCITY' }],
      identifier: [{ value: 'CANARYID' }],
      birthDate: '1901-02-03',
      gender: 'female',
    }));
    const o = c.seed({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${p.id}` }, valueQuantity: { value: 987654.321, unit: 'kg' } });
    c.host.rawStore.update({ ...p, gender: 'other' } as typeof p, undefined, { project: c.project });
    const t = await c.login(who.email);
    const paths = [
      `Patient/${p.id}`, `Patient/${p.id}/_history/1`, `Patient/${p.id}/_history`, 'Patient', 'Patient/_history', '_history',
      'Patient?_revinclude=Observation:subject', `Observation?_include=Observation:subject`, 'Observation?_elements=valueQuantity,subject',
      'Patient?_elements=name,telecom', `Observation/${o.id}`, `Patient/${p.id}/Observation`, 'Patient?name=CANARYFAMILY',
      'Patient?_sort=birthdate', 'Patient?phone=CANARYPHONE', 'Observation?value-quantity=987654.321', 'AuditEvent', '/auth/me',
      `Patient/${p.id}/_history/999`,
    ];
    const replies = await Promise.all(paths.map((path) => c.call(t, 'GET', path)));
    replies.push(await c.call(t, 'PATCH', `Patient/${p.id}`, [{ op: 'test', path: '/name/0/family', value: 'CANARYFAMILY' }], { 'content-type': 'application/json-patch+json' }));
    replies.push(await c.call(t, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${p.id}` } }, { request: { method: 'GET', url: 'Patient?_count=5' } }] }));
    const saved = await c.call(t, 'PUT', `Patient/${p.id}`, { ...replies[0].body, gender: 'male' });
    replies.push(saved);
    for (const [i, r] of replies.entries()) {
      expect(r.text, paths[i] ?? 'write').not.toMatch(/CANARY|1901-02-03|987654/);
    }
    // export through the session's repository
    const folder = mkdtempSync(join(tmpdir(), 'outpost-leak-'));
    const summary = exportAs(c.host.access.forSession(c.host.auth.authenticate(t)), c.project, folder);
    expect(summary.counts.Patient).toBe(1);
    expect(summary.counts.User).toBeUndefined();
    for (const file of readdirSync(folder)) {
      expect(readFileSync(join(folder, file), 'utf8'), file).not.toMatch(/CANARY|1901-02-03|987654/);
    }
    rmSync(folder, { recursive: true, force: true });
    // AuditEvents an admin searches hold no hidden value either
    const admin = await c.person('Admin', { admin: true });
    const audit = await c.call(await c.login(admin.email), 'GET', 'AuditEvent?_count=1000');
    expect(audit.body.total).toBeGreaterThan(20);
    expect(audit.text).not.toMatch(/CANARY|1901-02-03|987654/);
    expect(saved.status, saved.text).toBe(200);
    // the hidden data survived the save of a user who could not see it
    const stored = c.host.rawStore.read<any>('Patient', p.id, { project: c.project });
    expect(stored.name[0].family).toBe('CANARYFAMILY');
    expect(stored.identifier[0].value).toBe('CANARYID');
    expect(stored.gender).toBe('male');
    expect(replies[0].body.meta.tag).toContainEqual({ system: 'https://outpost.local/fhir/CodeSystem/access', code: 'masked' });
  });
});
