// Export runs only through the enforcement point: a restricted session's export holds exactly what
// its searches return (criteria, hidden fields, its own project), and the raw store cannot export.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportNdjson } from '../../electron/host/transfer/export.ts';
import { exportAs } from '../../electron/host/access/index.ts';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
let folder: string | undefined;
afterEach(() => {
  c?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = undefined;
});

const lines = (file: string): any[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('export through a session', () => {
  it("a restricted session exports only what it may search, masked, from its own project", async () => {
    c = createClinic();
    const mine = c.seed(patient('Visible', { gender: 'female', telecom: [{ system: 'phone', value: 'SECRETPHONE' }] }));
    c.seed(patient('Invisible', { gender: 'male' }));
    c.seed({ resourceType: 'Observation', status: 'final', code: { text: 'not granted' }, subject: { reference: `Patient/${mine.id}` } });
    const other = c.newProject('Elsewhere');
    c.seed(patient('OtherProject', { gender: 'female' }), other);
    const policy = c.policy([{ resourceType: 'Patient', criteria: 'Patient?gender=female', hiddenFields: ['telecom'] }]);
    const who = await c.person('Exporter', { accessPolicy: { reference: `AccessPolicy/${policy}` } });
    const repo = c.host.access.forSession(c.host.auth.authenticate(await c.login(who.email)));
    folder = mkdtempSync(join(tmpdir(), 'outpost-export-'));

    const summary = exportNdjson(repo, folder);
    expect(summary.counts).toEqual({ Patient: 1 });
    expect(readdirSync(folder)).toEqual(['Patient.ndjson']);
    const [exported] = lines(join(folder, 'Patient.ndjson'));
    expect(exported.id).toBe(mine.id);
    expect(exported.telecom).toBeUndefined();
    expect(readFileSync(join(folder, 'Patient.ndjson'), 'utf8')).not.toMatch(/SECRETPHONE|Invisible|OtherProject/);
  });

  it('refuses the raw store and another project', async () => {
    c = createClinic();
    c.seed(patient('Anyone'));
    folder = mkdtempSync(join(tmpdir(), 'outpost-export-'));
    // A raw store passed where a Repository belongs (the type system refuses it; export refuses it at run time too).
    expect(() => exportNdjson(c.host.rawStore as never, folder!)).toThrow(/access-checked/);
    expect(() => exportAs(c.host.access.system(c.project), 'another-project', folder!)).toThrow(/own project/);
    expect(readdirSync(folder)).toEqual([]);
    // the host's system context (the CLI) exports through the same enforcement
    expect(exportNdjson(c.host.access.system(c.project), folder).counts.Patient).toBe(1);
  });
});
