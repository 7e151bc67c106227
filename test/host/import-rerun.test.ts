// The app's import route (POST /outpost/import) and the importer's ledger, at the door: the same file
// again is a no-op that says so, force imports it again, an import cut short goes on where it stopped
// (Bundles committed before are skipped and counted), and what was "imported before" is only ever the
// importer's own history (another person's import of the same file is not revealed to them).
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createClinic, type TestClinic } from '../access-enforce/helpers.ts';
import { syntheaFiles } from '../store/helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

/** The smallest patient's Bundle (the hospital and practitioner files hold no clinical data). */
const smallest = () =>
  syntheaFiles()
    .filter((f) => !/(hospital|practitioner)Information/.test(f))
    .map((f) => ({ f, text: gunzipSync(readFileSync(f)).toString('utf8') }))
    .sort((a, b) => a.text.length - b.text.length)[0];

function clinicalCount(clinic: TestClinic): number {
  return clinic.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type IN ('Observation', 'Encounter', 'Condition') AND deleted = 0").pluck().get() as number;
}

async function postFile(clinic: TestClinic, token: string | undefined, name: string, text: string, query = '', contentType = 'application/fhir+json') {
  return clinic.call(token, 'POST', `/outpost/import?name=${encodeURIComponent(name)}${query}`, text, { 'content-type': contentType });
}

describe('POST /outpost/import', () => {
  it('imports a file; the same file again is a no-op that says so; force=true imports it again', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const token = await c.login(admin.email);
    const { text } = smallest();
    const bundle = JSON.parse(text) as Bundle;

    const first = await postFile(c, token, 'patient.json', text);
    expect(first.status, first.text).toBe(200);
    expect(first.body.resources).toBe(bundle.entry!.length);
    const after = clinicalCount(c);
    expect(after).toBeGreaterThan(0);

    const again = await postFile(c, token, 'patient-renamed.json', text);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ resources: 0, failed: 0, skippedFiles: [{ file: 'patient-renamed.json', resources: bundle.entry!.length }] });
    expect(again.body.message).toContain('nothing new: this file was imported before');
    expect(clinicalCount(c)).toBe(after);

    const forced = await postFile(c, token, 'patient.json', text, '&force=true');
    expect(forced.body.resources).toBe(bundle.entry!.length);
    expect(clinicalCount(c)).toBe(2 * after);
  });

  it("another person's earlier import of the same file is not revealed: theirs is their own", async () => {
    c = createClinic();
    const first = await c.person('First', { admin: true });
    const second = await c.person('Second', { admin: true });
    const { text } = smallest();
    expect((await postFile(c, await c.login(first.email), 'a.json', text)).body.resources).toBeGreaterThan(0);
    const other = await postFile(c, await c.login(second.email), 'a.json', text);
    expect(other.body.skippedFiles).toEqual([]);
    expect(other.body.resources).toBeGreaterThan(0);
  });

  it('refuses what it cannot take with a 4xx OperationOutcome, changing nothing', async () => {
    c = createClinic();
    const admin = await c.person('Admin', { admin: true });
    const token = await c.login(admin.email);
    const count = () => c.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type != 'AuditEvent'").pluck().get();
    const before = count();
    const cases: [string | undefined, string, string, string, number][] = [
      [undefined, 'a.json', '{"resourceType":"Patient"}', 'application/fhir+json', 401],
      [token, 'a.json', '{"resourceType":"Patient"}', 'text/html', 415],
      [token, '', '{"resourceType":"Patient"}', 'application/fhir+json', 400],
      [token, 'a.json', '   ', 'application/fhir+json', 400],
      [token, 'a.json', '{"resourceType": "Patient",', 'application/fhir+json', 400],
      [token, 'a.json', `{"resourceType":"Patient","name":${'['.repeat(500)}${']'.repeat(500)}}`, 'application/fhir+json', 400],
      [token, 'a.ndjson', '{"resourceType":"Patient"}\n\u0000not json\n', 'application/fhir+ndjson', 400],
    ];
    for (const [who, name, body, type, status] of cases) {
      const res = await postFile(c, who, name, body, '', type);
      expect(res.status, `${name} ${type}: ${res.text}`).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(count()).toBe(before);
  });
});

describe('an import cut short', () => {
  it('goes on where it stopped: the Bundles committed before are skipped and counted, the rest imported once', async () => {
    c = createClinic();
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ resourceType: 'Patient', name: [{ family: `Cut${i}` }] })).join('\n');
    const repo = c.host.access.system(c.project, { name: 'test import' });
    let units = 0;
    // The third Bundle dies mid-way (as a kill would): its transaction, ledger row included, is rolled back.
    const dying = {
      ...repo,
      processBundle: (...args: Parameters<typeof repo.processBundle>) => {
        if (++units === 3) throw new Error('killed');
        return repo.processBundle(...args);
      },
    };
    const cut = await c.host.importer.importText(dying, 'patients.ndjson', lines, { chunkSize: 5, ctx: { project: c.project } });
    expect(cut.resources).toBe(20);
    expect(cut.failures).toHaveLength(1);
    const count = () => c.host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'Patient' AND deleted = 0").pluck().get();
    expect(count()).toBe(20);

    const resumed = await c.host.importer.importText(repo, 'patients.ndjson', lines, { chunkSize: 5 });
    expect(resumed).toMatchObject({ resources: 5, skippedUnits: 4, skippedResources: 20, failures: [] });
    expect(count()).toBe(25);
    const done = await c.host.importer.importText(repo, 'patients.ndjson', lines, { chunkSize: 5 });
    expect(done).toMatchObject({ resources: 0, skippedUnits: 0, skippedFiles: [{ resources: 25 }] });
    expect(count()).toBe(25);
  });
});
