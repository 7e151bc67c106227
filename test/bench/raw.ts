// The physical limit of ingest: better-sqlite3 inserting each resource's JSON text into a bare
// (id, json) table, one transaction per Bundle, with no parsing, validation or indexing.
import type { Resource } from '@medplum/fhirtypes';
import type { GeneratedBundle } from './replicate.ts';
import { openBenchDb } from './sqlite.ts';

export interface IngestResult {
  resources: number;
  bundles: number;
  /** Seconds spent inside the insert calls only (data generation excluded). */
  seconds: number;
}

export function rawIngest(file: string, key: string | undefined, bundles: Iterable<Pick<GeneratedBundle, 'bundle'>>): IngestResult {
  const db = openBenchDb(file, key);
  db.exec('CREATE TABLE resource (id TEXT PRIMARY KEY, json TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO resource (id, json) VALUES (?, ?)');
  const insertBundle = db.transaction((rows: [string, string][]) => {
    for (const [id, json] of rows) {
      insert.run(id, json);
    }
  });
  let resources = 0;
  let count = 0;
  let ms = 0;
  for (const { bundle } of bundles) {
    // The JSON strings are made before the clock starts: the baseline measures storage alone.
    const rows: [string, string][] = (bundle.entry ?? []).map((e) => {
      const resource = e.resource as Resource;
      return [resource.id as string, JSON.stringify(resource)];
    });
    const start = performance.now();
    insertBundle(rows);
    ms += performance.now() - start;
    resources += rows.length;
    count++;
  }
  db.close();
  return { resources, bundles: count, seconds: ms / 1000 };
}
