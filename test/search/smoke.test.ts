import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { coreMigration } from '../../electron/host/store/schema.ts';
import { createSearchIndexer, findRids, searchMigrations, searchResources } from '../../electron/host/search/index.ts';

describe('search entry point', () => {
  it('indexes a resource and finds it by _id, token and reference', () => {
    const db = new Database(':memory:');
    for (const m of [coreMigration, ...searchMigrations]) m.up(db);
    const obs = { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] }, subject: { reference: 'Patient/p1' } };
    const { lastInsertRowid } = db
      .prepare("INSERT INTO resource (type, id, project, version, last_updated, content) VALUES ('Observation', 'o1', 'proj', 1, 0, ?)")
      .run(JSON.stringify(obs));
    createSearchIndexer().index(db, Number(lastInsertRowid), obs as never);
    expect(findRids(db, 'Observation', 'code=http://loinc.org|1234-5', { project: 'proj' })).toEqual([1]);
    expect(findRids(db, 'Observation', 'subject=Patient/p1&status=final', { project: 'proj' })).toEqual([1]);
    expect(findRids(db, 'Observation', '_id=o1', { project: 'other' })).toEqual([]);
    expect(searchResources(db, 'Observation', 'code=1234-5', { project: 'proj', baseUrl: 'http://x/fhir/R4/' }).total).toBe(1);
  });
});
