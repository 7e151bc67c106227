// A transaction Bundle that carries its caller's own rows (`commitWith`: the import's ledger row):
// they commit with the Bundle's resources or neither does, through the raw store and through the
// enforcement point, on a real SQLite file; a batch refuses them; and an import whose unit fails
// records nothing, so a re-run tries it again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import type { Repository } from '../../electron/host/access/index.ts';
import { makeHost, patient, tempDir, type TestHost } from './helpers.ts';

let host: TestHost;
beforeEach(() => {
  host = makeHost({ audit: true });
  host.rawStore.db.exec('CREATE TABLE caller_rows (note TEXT NOT NULL)');
});
afterEach(() => host.dispose());

const transaction = (...families: string[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: families.map((family) => ({ resource: patient(family) as Patient, request: { method: 'POST', url: 'Patient' } })),
});
const patients = () => host.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'Patient' AND deleted = 0").pluck().get();
const notes = () => host.rawStore.db.prepare('SELECT note FROM caller_rows').pluck().all();

function writers(): [string, Pick<Repository, 'processBundle'>][] {
  return [
    ['the raw store', host.rawStore],
    ['the enforcement point (system work)', host.access.system(DEFAULT_PROJECT_ID, { name: 'commit-with test' })],
  ];
}

describe('commitWith', () => {
  it('commits the caller\'s rows in the Bundle\'s transaction, seeing its answer and its resources', () => {
    for (const [name, writer] of writers()) {
      const before = patients() as number;
      writer.processBundle(transaction('Ada', 'Grace'), undefined, (response) => {
        expect(host.rawStore.db.inTransaction, name).toBe(true);
        expect(patients(), name).toBe(before + 2); // the entries are written, not yet committed
        host.rawStore.db.prepare('INSERT INTO caller_rows (note) VALUES (?)').run(`${name}: ${response.entry?.map((e) => e.response?.status).join(',')}`);
      });
      expect(patients(), name).toBe(before + 2);
    }
    expect(notes()).toEqual(['the raw store: 201 Created,201 Created', 'the enforcement point (system work): 201 Created,201 Created']);
  });

  it('a throw in it rolls the whole Bundle back: no resource, no row', () => {
    for (const [name, writer] of writers()) {
      const before = patients();
      expect(() =>
        writer.processBundle(transaction('Lost'), undefined, () => {
          host.rawStore.db.prepare('INSERT INTO caller_rows (note) VALUES (?)').run('written, then rolled back');
          throw new Error('the caller failed');
        }),
      ).toThrow('the caller failed');
      expect(patients(), name).toBe(before);
      expect(host.rawStore.db.inTransaction, name).toBe(false);
    }
    expect(notes()).toEqual([]);
  });

  it('a batch refuses it with a 400 and writes nothing', () => {
    for (const [name, writer] of writers()) {
      const batch: Bundle = { ...transaction('Batched'), type: 'batch' };
      expect(() => writer.processBundle(batch, undefined, () => undefined), name).toThrow(/transaction Bundle/);
      expect(patients(), name).toBe(0);
    }
  });
});

describe('import units', () => {
  it('a unit whose transaction fails leaves no ledger row: the re-run tries it again, and once fixed imports it once', async () => {
    const dir = tempDir('outpost-commit-with-');
    const file = join(dir, 'unit.json');
    const broken = transaction('Kept');
    broken.entry!.push({ resource: { resourceType: 'Patient', gender: 7 } as never, request: { method: 'POST', url: 'Patient' } });
    writeFileSync(file, JSON.stringify(broken));
    const repo = () => host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost import (CLI)' });
    for (let run = 0; run < 2; run++) {
      const summary = await host.importer.importFiles(repo(), [file]);
      expect(summary).toMatchObject({ resources: 0, failed: 2, skippedUnits: 0, skippedFiles: [] });
      expect(patients()).toBe(0);
    }
    writeFileSync(file, JSON.stringify(transaction('Kept')));
    expect(await host.importer.importFiles(repo(), [file])).toMatchObject({ resources: 1, failed: 0 });
    expect(await host.importer.importFiles(repo(), [file])).toMatchObject({ resources: 0, skippedFiles: [expect.objectContaining({ resources: 1 })] });
    expect(patients()).toBe(1);
  });

  it('through a processor that drops commitWith, a unit is still recorded once: a re-run skips it, imports nothing twice', async () => {
    const file = join(tempDir('outpost-commit-with-'), 'patients.ndjson');
    // Two units of two: the second holds an invalid Patient, so the file never completes.
    const lines = [patient('One'), patient('Two'), patient('Three'), { resourceType: 'Patient', gender: 7 }];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const repo = host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost import (CLI)' });
    const dropping = { processBundle: (bundle: Bundle, ctx?: Parameters<typeof repo.processBundle>[1]) => repo.processBundle(bundle, ctx) };
    expect(await host.importer.importFiles(dropping, [file], { chunkSize: 2 })).toMatchObject({ resources: 2, failed: 2, skippedUnits: 0 });
    expect(await host.importer.importFiles(dropping, [file], { chunkSize: 2 })).toMatchObject({ resources: 0, failed: 2, skippedUnits: 1, skippedResources: 2 });
    expect(patients()).toBe(2);
  });
});
