// The benchmark's ingest ceiling is only a bound if the replay writes exactly what the store wrote:
// every table of the replayed database must hold the store's rows, byte for byte.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Db } from '../../electron/host/db/types.ts';
import { createReplaySink, recordWrites, type RecordedRun } from './replay.ts';
import { fixturesDir, loadTemplates, replicateBundles } from './replicate.ts';
import { createTempDir } from './sqlite.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every table's rows but the migration log's (its timestamps are each database's own). */
function tableDump(db: Db): Record<string, unknown[]> {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migration' ORDER BY name`).pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2, 3`).raw().all()]));
}

describe('ingest ceiling replay (bench)', () => {
  loadFhirDefinitions();
  const tmp = createTempDir('outpost-replay-test-');
  afterAll(() => tmp.dispose());
  const bundles = [...replicateBundles(loadTemplates(fixturesDir(repoRoot)), { resources: 900, seed: 5 })].map((g) => g.bundle);

  it('replays a store ingest into a database identical to the store, in the full and the lean schema', () => {
    const store = createStore({ path: path.join(tmp.dir, 'store.db') });
    const sink = createReplaySink(path.join(tmp.dir, 'replay.db'));
    const lean = createReplaySink(path.join(tmp.dir, 'replay-lean.db'), { lean: true });
    const recorder = recordWrites(store.db);
    let recorded = 0;
    try {
      for (const bundle of bundles) {
        recorder.start();
        store.processBundle(structuredClone(bundle) as Bundle, { validation: 'structure' });
        const runs: RecordedRun[] = recorder.take();
        recorded += runs.length;
        sink.replay(runs);
        lean.replay(runs);
      }
    } finally {
      recorder.dispose();
    }
    const resources = bundles.reduce((n, b) => n + (b.entry?.length ?? 0), 0);
    expect(resources).toBeGreaterThanOrEqual(900);
    // Transaction control is not recorded; the writes are (resource rows, history, index rows).
    expect(recorded).toBeGreaterThan(resources);
    const original = tableDump(store.db);
    expect(original.resource).toHaveLength(resources);
    expect((original.idx_token ?? []).length).toBeGreaterThan(resources);
    expect(tableDump(sink.db)).toEqual(original);
    expect(tableDump(lean.db)).toEqual(original);
    store.close();
    sink.close();
    lean.close();
  });

  it('records nothing once disposed, and nothing from other databases', () => {
    const store = createStore({ path: ':memory:' });
    const other = createStore({ path: ':memory:' });
    const recorder = recordWrites(store.db);
    recorder.start();
    other.processBundle(structuredClone(bundles[0]) as Bundle, { validation: 'structure' });
    expect(recorder.take()).toEqual([]);
    recorder.dispose();
    recorder.start();
    store.processBundle(structuredClone(bundles[0]) as Bundle, { validation: 'structure' });
    expect(recorder.take()).toEqual([]);
    store.close();
    other.close();
  });

  it('gives the lean replay database no secondary indexes', () => {
    const sink = createReplaySink(path.join(tmp.dir, 'lean-indexes.db'), { lean: true });
    const indexes = sink.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'`).pluck().all();
    expect(indexes).not.toContain('idx_token_rid');
    expect(indexes).not.toContain('idx_date_hi');
    expect(indexes).not.toContain('resource_live');
    expect(indexes).toEqual(['resource_type_id']);
    sink.close();
  });
});
