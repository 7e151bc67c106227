// Import and export in-process: every source format, failures reported without partial transactions,
// reads answered while an import runs, and the bulk-data export layout.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportNdjson } from '../../electron/host/transfer/export.ts';
import { makeHost, patient, tempDir, type TestHost } from './helpers.ts';

let host: TestHost;
let dir: string;
beforeEach(() => {
  host = makeHost();
  dir = tempDir('outpost-transfer-');
});
afterEach(() => host.dispose());

const obs = (id: string, subject: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'pulse' },
  subject: { reference: subject },
});

describe('import', () => {
  it('loads NDJSON (plain and gzipped) keeping ids, collection Bundles resolving urn:uuid, and single resources', async () => {
    writeFileSync(join(dir, 'Patient.ndjson'), [{ ...patient('A'), id: 'p1' }, { ...patient('B'), id: 'p2' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(dir, 'Observation.ndjson.gz'), gzipSync([obs('o1', 'Patient/p1'), obs('o2', 'Patient/p2')].map((r) => JSON.stringify(r)).join('\r\n')));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(
      join(dir, 'nested', 'collection.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { fullUrl: 'urn:uuid:6f1c0a52-0000-4000-8000-000000000001', resource: patient('C') },
          { fullUrl: 'urn:uuid:6f1c0a52-0000-4000-8000-000000000002', resource: { ...obs('x', 'urn:uuid:6f1c0a52-0000-4000-8000-000000000001'), id: undefined } },
        ],
      })
    );
    writeFileSync(join(dir, 'single.json.gz'), gzipSync(JSON.stringify(patient('D'))));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');

    const summary = await host.importer.importFiles(host.rawStore, [dir]);
    expect(summary.failures).toEqual([]);
    expect(summary.files).toBe(4);
    expect(summary.resources).toBe(7);
    expect(summary.resourcesPerSecond).toBeGreaterThan(0);
    expect((await host.call('GET', 'Observation/o1')).body.subject.reference).toBe('Patient/p1');
    const fromCollection = await host.call('GET', 'Observation?code:text=pulse&_count=10');
    const refs = fromCollection.body.entry.map((e: any) => e.resource.subject.reference);
    for (const ref of refs) {
      expect((await host.call('GET', ref)).status).toBe(200);
    }
  });

  it('a failing transaction stores nothing of it; a batch stores its good entries; bad NDJSON names the line', async () => {
    writeFileSync(
      join(dir, 'tx.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: patient('Good'), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Patient', gender: 7 }, request: { method: 'POST', url: 'Patient' } },
        ],
      })
    );
    writeFileSync(
      join(dir, 'batch.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: patient('Kept'), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Patient', gender: 7 }, request: { method: 'POST', url: 'Patient' } },
        ],
      })
    );
    writeFileSync(join(dir, 'broken.ndjson'), `${JSON.stringify({ ...patient('E'), id: 'e1' })}\n{not json\n`);

    const summary = await host.importer.importFiles(host.rawStore, [dir]);
    expect(summary.resources).toBe(1);
    expect(summary.failed).toBe(3);
    const messages = summary.failures.map((f) => `${f.file}: ${f.message}`).join('\n');
    expect(messages).toContain('tx.json');
    expect(messages).toContain('batch.json');
    expect(messages).toContain('broken.ndjson:2');
    const names = (await host.call('GET', 'Patient?_count=50')).body.entry.map((e: any) => e.resource.name[0].family);
    expect(names).toEqual(['Kept']);
  });

  it('keeps answering reads while a chunked import runs', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ ...patient(`P${i}`), id: `bulk-${i}` }));
    writeFileSync(join(dir, 'bulk.ndjson'), lines.join('\n'));
    let importDone = false;
    const running = host.importer.importFiles(host.rawStore, [dir], { chunkSize: 10 }).then((s) => {
      importDone = true;
      return s;
    });
    let answeredDuringImport = 0;
    for (let i = 0; i < 5; i++) {
      const res = await host.call('GET', 'metadata');
      expect(res.status).toBe(200);
      if (!importDone) answeredDuringImport++;
    }
    const summary = await running;
    expect(summary.resources).toBe(300);
    expect(answeredDuringImport).toBeGreaterThan(0);
  });
});

describe('export', () => {
  it('writes one <Type>.ndjson per type with live resources only', async () => {
    const a = (await host.call('POST', 'Patient', patient('A'))).body;
    const b = (await host.call('POST', 'Patient', patient('B'))).body;
    await host.call('POST', 'Observation', obs('ignored', `Patient/${a.id}`));
    await host.call('DELETE', `Patient/${b.id}`);
    const out = join(dir, 'export');
    const summary = exportNdjson(host.access.system(), out);
    expect(summary.counts).toEqual({ Observation: 1, Patient: 1 });
    expect(readdirSync(out).sort()).toEqual(['Observation.ndjson', 'Patient.ndjson']);
    const patients = readFileSync(join(out, 'Patient.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(patients.map((p) => p.id)).toEqual([a.id]);
    expect(patients[0].meta.versionId).toBe('1');
  });
});
