// The floor of each benchmark search: the same query answered by hand-written SQL over a plain
// (param, value, rid) index table plus a (rid, ref, json) resource table, built in the same run from
// the same data. Values are extracted by hand for exactly the parameters the ten searches use, so
// the floor has none of a general search engine's costs (parsing, planning, access filters, Bundle
// links); it still parses the JSON of the rows it returns, as any search returning resources must.
import type { Claim, Condition, Encounter, Observation, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { type BenchDb, openBenchDb } from './sqlite.ts';

/** One index row: param is `Type.code`, value text (tokens `system|code`, strings lowercased) or epoch ms. */
type IndexRow = [param: string, value: string | number];

function ref(r: Reference | undefined): string | undefined {
  return r?.reference;
}

function tokens(codings: { system?: string; code?: string }[] | undefined): string[] {
  return (codings ?? []).filter((c) => c.code !== undefined).map((c) => `${c.system ?? ''}|${c.code}`);
}

/** Lowercased, accents removed: how FHIR string search compares. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Index rows of a resource for the parameters the benchmark searches use. */
export function extractFloorRows(resource: Resource): IndexRow[] {
  const rows: IndexRow[] = [];
  const push = (param: string, value: string | number | undefined): void => {
    if (value !== undefined) {
      rows.push([param, value]);
    }
  };
  switch (resource.resourceType) {
    case 'Patient': {
      const p = resource as Patient;
      for (const name of p.name ?? []) {
        for (const part of [name.family, ...(name.given ?? []), ...(name.prefix ?? []), ...(name.suffix ?? []), name.text]) {
          push('Patient.name', part === undefined ? undefined : normalizeString(part));
        }
        push('Patient.family', name.family === undefined ? undefined : normalizeString(name.family));
      }
      for (const id of p.identifier ?? []) {
        push('Patient.identifier', id.value === undefined ? undefined : `${id.system ?? ''}|${id.value}`);
      }
      push('Patient.birthdate', p.birthDate);
      break;
    }
    case 'Observation': {
      const o = resource as Observation;
      push('Observation.subject', ref(o.subject));
      tokens(o.code?.coding).forEach((t) => push('Observation.code', t));
      (o.category ?? []).forEach((c) => tokens(c.coding).forEach((t) => push('Observation.category', t)));
      push('Observation.date', o.effectiveDateTime === undefined ? undefined : Date.parse(o.effectiveDateTime));
      break;
    }
    case 'Encounter': {
      const e = resource as Encounter;
      push('Encounter.subject', ref(e.subject));
      (e.participant ?? []).forEach((p) => push('Encounter.participant', ref(p.individual)));
      // A period is two rows, start and end; the query bounds the start by the longest period in
      // the data (floor.ts's caller computes it once), so an overlap search is one short range.
      if (e.period?.start !== undefined) {
        push('Encounter.date', Date.parse(e.period.start));
        push('Encounter.date.end', Date.parse(e.period.end ?? e.period.start));
      }
      break;
    }
    case 'Condition': {
      const c = resource as Condition;
      push('Condition.patient', ref(c.subject));
      break;
    }
    case 'AllergyIntolerance':
      push('AllergyIntolerance.patient', ref((resource as { patient?: Reference }).patient));
      break;
    case 'Claim':
      for (const item of (resource as Claim).item ?? []) {
        (item.encounter ?? []).forEach((e) => push('Claim.encounter', ref(e)));
      }
      break;
    default:
      break;
  }
  return rows;
}

export interface FloorDb {
  db: BenchDb;
  /** Adds resources (ids assigned, references resolved) in one transaction. */
  add(resources: Resource[]): void;
  /** Creates the indexes after the bulk load (faster than maintaining them row by row). */
  finish(): void;
  close(): void;
}

export function createFloorDb(file: string, key: string | undefined): FloorDb {
  const db = openBenchDb(file, key);
  db.exec(`
    CREATE TABLE res (rid INTEGER PRIMARY KEY, ref TEXT NOT NULL, json TEXT NOT NULL);
    CREATE TABLE idx (param TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL);
  `);
  const insertRes = db.prepare('INSERT INTO res (ref, json) VALUES (?, ?)');
  const insertIdx = db.prepare('INSERT INTO idx (param, value, rid) VALUES (?, ?, ?)');
  const addAll = db.transaction((resources: Resource[]) => {
    for (const resource of resources) {
      const rid = insertRes.run(`${resource.resourceType}/${resource.id}`, JSON.stringify(resource)).lastInsertRowid;
      for (const [param, value] of extractFloorRows(resource)) {
        insertIdx.run(param, value, rid);
      }
    }
  });
  return {
    db,
    add: (resources) => addAll(resources),
    finish: () => {
      db.exec(`
        CREATE UNIQUE INDEX res_ref ON res(ref);
        CREATE INDEX idx_param_value ON idx(param, value, rid);
        CREATE INDEX idx_rid_param ON idx(rid, param, value);
        ANALYZE;
      `);
    },
    close: () => db.close(),
  };
}
