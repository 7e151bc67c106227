// The four ways around the access policy a hostile insider found in the demo clinic (issue 13), each
// tried again over loopback HTTP with the demo roles, on a real encrypted SQLite file:
// 1. conditional create's If-None-Exist (plain, chained, in batch and transaction Bundles) as an oracle
//    on fields hidden from the role;
// 2. a compartment grant (the nurse's per-patient access to Mary) letting a write land in another
//    patient's chart through a second compartment reference;
// 3. sync conflict resolution writing around the policy;
// 4. history answering what the role may not see (one history, the search restriction).
import type { Observation } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../electron/host/seed/index.ts';
import { recordConflict } from '../../electron/host/sync/conflicts/conflicts.ts';
import { loginThroughDoor } from '../helpers/door-login.ts';
import { openDemoDoor, type DemoDoor } from '../helpers/demo-door.ts';

let d: DemoDoor;
/** A patient outside every care team of the nurse (one of Dr. Chen's generated patients). */
let outsider: string;
/** Morgan Masked's Observation: the one an If-None-Exist on Morgan's phone would find. */
let morganObservation: string;
const MORGAN_PHONE = '555-0199';

const observation = (subject: string, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: `Patient/${subject}` },
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  ...extra,
});

/** Observations in a patient's compartment, as the administrator sees them. */
async function chartCount(patient: string): Promise<number> {
  const res = await d.call('admin', 'GET', `Observation?_compartment=Patient/${patient}&_summary=count`);
  expect(res.status).toBe(200);
  return res.body.total;
}

beforeAll(async () => {
  d = await openDemoDoor();
  const nursePatients = await d.call('nurse', 'GET', 'Patient?_count=100&_elements=id');
  const visible = new Set((nursePatients.body.entry ?? []).map((e: any) => e.resource.id));
  const all = await d.call('admin', 'GET', 'Patient?_count=200&_elements=id');
  outsider = all.body.entry.map((e: any) => e.resource.id).find((id: string) => !visible.has(id));
  expect(outsider).toBeDefined();
  const created = await d.call('admin', 'POST', 'Observation', observation(d.ids.confidential));
  expect(created.status).toBe(201);
  morganObservation = created.body.id;
}, 180_000);
afterAll(async () => d?.close());

describe('1. every search a request causes passes the hidden-field guard', () => {
  it('If-None-Exist on a chained hidden field (the nurse, Morgan Masked\'s phone) is refused whatever the guess', async () => {
    const before = await chartCount(d.ids.mary);
    const right = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary), { 'if-none-exist': `patient.telecom=${MORGAN_PHONE}` });
    const wrong = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary), { 'if-none-exist': 'patient.telecom=555-0000' });
    expect(right.status).toBe(403);
    expect(wrong.status).toBe(403);
    expect(right.text.includes(morganObservation), 'leaked').toBe(false);
    expect(right.body.issue[0].diagnostics ?? right.body.issue[0].details?.text).toMatch(/telecom/);
    expect(await chartCount(d.ids.mary)).toBe(before);
  });

  it('If-None-Exist is no reverse phone lookup for a role that creates Patients with telecom hidden', async () => {
    const policy = await d.call('admin', 'POST', 'AccessPolicy', {
      resourceType: 'AccessPolicy',
      name: 'Front desk (no phone numbers)',
      resource: [{ resourceType: 'Patient', interaction: ['create', 'read', 'search'], hiddenFields: ['telecom'] }],
    });
    expect(policy.status).toBe(201);
    const invited = await d.call('admin', 'POST', `/admin/projects/${(await d.call('admin', 'GET', '/auth/me')).body.project.id}/invite`, {
      resourceType: 'Practitioner',
      firstName: 'Frank',
      lastName: 'Desk',
      email: 'frank.desk@demo.outpost',
      password: DEMO_PASSWORD,
      membership: { accessPolicy: { reference: `AccessPolicy/${policy.body.id}` } },
    }, { 'content-type': 'application/json' });
    expect(invited.status).toBe(200);
    const token = await loginThroughDoor(d.host, 'frank.desk@demo.outpost', DEMO_PASSWORD, (m) => m[0]?.id);
    const patient = { resourceType: 'Patient', name: [{ family: 'Probe' }] };
    for (const phone of [MORGAN_PHONE, '555-0000']) {
      const res = await d.call({ token }, 'POST', 'Patient', patient, { 'if-none-exist': `telecom=${phone}` });
      expect(res.status).toBe(403);
      expect(res.text.includes(d.ids.confidential), 'leaked').toBe(false);
    }
    const plain = await d.call({ token }, 'GET', `Patient?telecom=${MORGAN_PHONE}`);
    expect(plain.status).toBe(403);
  });

  it('request.ifNoneExist in batch and transaction Bundles is refused the same way, and changes nothing', async () => {
    const before = await chartCount(d.ids.mary);
    for (const type of ['batch', 'transaction'] as const) {
      const res = await d.call('nurse', 'POST', '', {
        resourceType: 'Bundle',
        type,
        entry: [{ resource: observation(d.ids.mary), request: { method: 'POST', url: 'Observation', ifNoneExist: `patient.telecom=${MORGAN_PHONE}` } }],
      });
      expect(res.text.includes(morganObservation), 'leaked').toBe(false);
      if (type === 'batch') {
        expect(res.status).toBe(200);
        expect(res.body.entry[0].response.status).toMatch(/^403/);
      } else {
        expect(res.status).toBe(403);
      }
    }
    expect(await chartCount(d.ids.mary)).toBe(before);
  });

  it('conditional references, conditional update, delete and patch targets pass the guard too', async () => {
    const guess = `patient.telecom=${MORGAN_PHONE}`;
    const cases = [
      await d.call('nurse', 'PUT', `Observation?${guess}`, observation(d.ids.mary)),
      await d.call('nurse', 'DELETE', `Observation?${guess}`),
      await d.call('nurse', 'POST', '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: { ...observation(d.ids.mary), hasMember: [{ reference: `Observation?${guess}` }] }, request: { method: 'POST', url: 'Observation' } }],
      }),
      await d.call('nurse', 'POST', '', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'PATCH', url: `Observation?${guess}` }, resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from('[]').toString('base64') } }],
      }),
    ];
    for (const res of cases) {
      expect(res.status === 403 || res.status === 400).toBe(true);
      expect(res.text.includes(morganObservation), 'leaked').toBe(false);
    }
  });
});

describe('2. a write lands only in charts the role may write', () => {
  it("the nurse's compartment grant on Mary does not let an Observation into another patient's chart", async () => {
    const before = await chartCount(outsider);
    const res = await d.call('nurse', 'POST', 'Observation', observation(outsider, { performer: [{ reference: `Patient/${d.ids.mary}` }] }));
    expect(res.status).toBe(403);
    expect(await chartCount(outsider)).toBe(before);
    // Mary's own chart is still hers to write.
    const own = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary, { performer: [{ reference: `Patient/${d.ids.mary}` }] }));
    expect(own.status).toBe(201);
  });

  it('nor through a transaction, an update, a JSON Patch or a FHIRPath Patch that adds the other chart', async () => {
    const before = await chartCount(outsider);
    const tx = await d.call('nurse', 'POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: observation(outsider, { performer: [{ reference: `Patient/${d.ids.mary}` }] }), request: { method: 'POST', url: 'Observation' } }],
    });
    expect(tx.status).toBe(403);
    const mine = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary));
    expect(mine.status).toBe(201);
    const moved = await d.call('nurse', 'PUT', `Observation/${mine.body.id}`, { ...mine.body, performer: [{ reference: `Patient/${outsider}` }] });
    expect(moved.status).toBe(403);
    const jsonPatch = await d.call('nurse', 'PATCH', `Observation/${mine.body.id}`, [{ op: 'add', path: '/performer', value: [{ reference: `Patient/${outsider}` }] }], {
      'content-type': 'application/json-patch+json',
    });
    expect(jsonPatch.status).toBe(403);
    const fhirPathPatch = await d.call('nurse', 'PATCH', `Observation/${mine.body.id}`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'operation', part: [
        { name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Observation' }, { name: 'name', valueString: 'performer' },
        { name: 'value', valueReference: { reference: `Patient/${outsider}` } },
      ] }],
    });
    expect(fhirPathPatch.status).toBe(403);
    expect(await chartCount(outsider)).toBe(before);
  });

  it('an update sent without meta (as a form posts it) is accepted like any other', async () => {
    const mine = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary));
    const { meta: _meta, ...bare } = mine.body;
    const res = await d.call('nurse', 'PUT', `Observation/${mine.body.id}`, { ...bare, status: 'preliminary' });
    expect(res.status, res.text).toBe(200);
  });

  it('an Observation already in Mary\'s and another chart cannot be updated or deleted through the grant on Mary', async () => {
    const shared = await d.call('admin', 'POST', 'Observation', observation(d.ids.mary, { performer: [{ reference: `Patient/${outsider}` }] }));
    expect(shared.status).toBe(201);
    const read = await d.call('nurse', 'GET', `Observation/${shared.body.id}`);
    expect(read.status).toBe(200); // it is in Mary's chart: readable
    const update = await d.call('nurse', 'PUT', `Observation/${shared.body.id}`, { ...read.body, status: 'preliminary' });
    expect(update.status).toBe(403);
    const after = await d.call('admin', 'GET', `Observation/${shared.body.id}`);
    expect(after.body.status).toBe('final');
  });
});

describe('3. resolving a sync conflict is an update by the resolving session, enforced as one', () => {
  async function conflictOn(observationId: string, remote: Observation): Promise<string> {
    const local = (await d.call('admin', 'GET', `Observation/${observationId}`)).body;
    return recordConflict(d.host.rawStore.db, {
      type: 'Observation',
      id: observationId,
      project: local.meta.project,
      reason: 'edited-both',
      fields: Object.keys(remote).filter((k) => JSON.stringify((remote as any)[k]) !== JSON.stringify(local[k])),
      local,
      remote: { ...remote, meta: { ...local.meta, versionId: 'remote-2' } },
      base: local,
    });
  }

  it("keeping the remote version is refused when it breaks the role's write constraint, and nothing changes", async () => {
    const mine = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary));
    const conflict = await conflictOn(mine.body.id, { ...mine.body, status: 'cancelled' });
    const res = await d.call('nurse', 'POST', `/outpost/sync/conflicts/${conflict}/resolve`, { keep: 'remote' }, { 'content-type': 'application/json' });
    expect(res.status, res.text).toBe(403);
    expect((await d.call('admin', 'GET', `Observation/${mine.body.id}`)).body.status).toBe('final');
    const status = await d.call('nurse', 'GET', '/outpost/sync/status');
    expect(status.body.conflicts.map((c: any) => c.id)).toContain(conflict); // still there for someone who may
  });

  it('a remote version that would move the resource into another chart is refused', async () => {
    const mine = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary));
    const conflict = await conflictOn(mine.body.id, { ...mine.body, performer: [{ reference: `Patient/${outsider}` }] });
    const res = await d.call('nurse', 'POST', `/outpost/sync/conflicts/${conflict}/resolve`, { keep: 'remote' }, { 'content-type': 'application/json' });
    expect(res.status).toBe(403);
    const merged = await d.call('nurse', 'POST', `/outpost/sync/conflicts/${conflict}/resolve`, { keep: 'merge', fields: { performer: 'remote' } }, { 'content-type': 'application/json' });
    expect(merged.status).toBe(403);
    expect((await d.call('admin', 'GET', `Observation/${mine.body.id}`)).body.performer).toBeUndefined();
  });

  it('a resolution the role may make goes through, as an update of the session', async () => {
    const mine = await d.call('nurse', 'POST', 'Observation', observation(d.ids.mary));
    const conflict = await conflictOn(mine.body.id, { ...mine.body, status: 'preliminary' });
    const res = await d.call('nurse', 'POST', `/outpost/sync/conflicts/${conflict}/resolve`, { keep: 'remote' }, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect((await d.call('admin', 'GET', `Observation/${mine.body.id}`)).body.status).toBe('preliminary');
    const audit = await d.call('admin', 'GET', `AuditEvent?entity=Observation/${mine.body.id}&_count=50`);
    expect(audit.text).toContain('Nurse Jennifer Williams');
  });
});

describe('4. history: one implementation, the search restriction', () => {
  it('type and system history show the nurse only what her search shows, masked the same way', async () => {
    const searched = await d.call('nurse', 'GET', 'Patient?_count=200&_elements=id');
    const visible = new Set(searched.body.entry.map((e: any) => e.resource.id));
    for (const path of ['Patient/_history?_count=1000', '_history?_count=1000']) {
      const res = await d.call('nurse', 'GET', path);
      expect(res.status).toBe(200);
      const patients = res.body.entry.filter((e: any) => e.fullUrl.includes('/Patient/'));
      expect(patients.length).toBeGreaterThan(0);
      for (const e of patients) {
        expect(visible.has(e.fullUrl.split('/').pop())).toBe(true);
      }
      expect(res.text.includes(MORGAN_PHONE)).toBe(false);
      expect(res.body.entry.some((e: any) => e.fullUrl.endsWith(`/Patient/${outsider}`))).toBe(false);
    }
  });

  it('_since is validated the same way at every level', async () => {
    for (const path of [`Patient/${d.ids.mary}/_history`, 'Patient/_history', '_history']) {
      for (const role of ['nurse', 'admin'] as const) {
        const res = await d.call(role, 'GET', `${path}?_since=yesterday`);
        expect(res.status).toBe(400);
      }
    }
  });

  it('instance history of a resource outside the role is 404; of a confidential one it is masked', async () => {
    expect((await d.call('nurse', 'GET', `Patient/${outsider}/_history`)).status).toBe(404);
    const masked = await d.call('nurse', 'GET', `Patient/${d.ids.confidential}/_history`);
    expect(masked.status).toBe(200);
    expect(masked.text.includes(MORGAN_PHONE), 'leaked').toBe(false);
    expect(masked.text.includes('Quiet Lane'), 'leaked').toBe(false);
    expect(morganObservation).toBeDefined();
  });
});
