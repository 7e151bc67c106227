// The ten benchmark searches: typical clinic lookups, each as (1) a FHIR query for the store's search
// API, (2) its floor, hand-written SQL over the plain index table (floor.ts), and (3) the same search
// on @medplum/fhir-router's MemoryRepository (emulated with plain searches where it has no support:
// _include, _revinclude, chains).
import { parseSearchRequest } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Reference } from '@medplum/fhirtypes';
import { normalizeString } from './floor.ts';
import { MRN_SYSTEM, type PatientSample, type Samples, VITAL_SIGNS } from './samples.ts';
import type { BenchDb } from './sqlite.ts';

export interface Hits {
  /** Resources on the page that match the search. */
  matches: number;
  /** Resources added by _include / _revinclude. */
  included: number;
}

/** Parameter values of one repetition; references in the generated form (`Patient/<uuid>`). */
export type CaseParams = Record<string, string>;

export interface SearchCase {
  title: string;
  /** The query shape, shown in the table. */
  shape: string;
  /** Searches whose p50 must be <= 1 ms (a single hit by token or by reference). */
  singleHit?: boolean;
  draw(samples: Samples, pick: <T>(items: T[]) => T): CaseParams;
  /** FHIR query; `mapRef` turns a generated reference into the store's (identity for MemoryRepository). */
  query(p: CaseParams, mapRef: (ref: string) => string): { type: string; query: string };
  /** Prepares the floor's statements once; the returned function answers one repetition. */
  floor(db: BenchDb): (p: CaseParams) => Hits;
  /** MemoryRepository; undefined = the generic path (parseSearchRequest + repo.search). */
  memory?(repo: MemoryRepository, p: CaseParams): Promise<Hits>;
}

const DAY_MS = 86_400_000;
const enc = encodeURIComponent;

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function addDays(day: string, days: number): string {
  return new Date(dayMs(day) + days * DAY_MS).toISOString().slice(0, 10);
}

/** [lower, upper) of a string prefix search on normalized text. */
function prefixRange(value: string): [string, string] {
  const v = normalizeString(value);
  return [v, v.slice(0, -1) + String.fromCharCode(v.charCodeAt(v.length - 1) + 1)];
}

function idOf(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1);
}

/** Runs rows of (kind, json) where kind is 'm' (match) or 'i' (include), parsing every resource. */
function countRows(rows: { k: string; json: string }[]): Hits {
  const hits: Hits = { matches: 0, included: 0 };
  for (const row of rows) {
    JSON.parse(row.json);
    if (row.k === 'm') {
      hits.matches++;
    } else {
      hits.included++;
    }
  }
  return hits;
}

function matchRows(rows: { json: string }[]): Hits {
  for (const row of rows) {
    JSON.parse(row.json);
  }
  return { matches: rows.length, included: 0 };
}

function patientByRef(samples: Samples): Map<string, PatientSample> {
  return new Map(samples.patients.map((p) => [p.ref, p]));
}

export const searchCases: SearchCase[] = [
  {
    title: 'Patient by name',
    shape: 'Patient?name=<family>&_count=20',
    draw: (s, pick) => ({ family: pick(s.patients).family }),
    query: (p) => ({ type: 'Patient', query: `name=${enc(p.family)}&_count=20` }),
    floor: (db) => {
      const stmt = db.prepare(
        `SELECT json FROM res WHERE rid IN (SELECT rid FROM idx WHERE param = 'Patient.name' AND value >= ? AND value < ?) LIMIT 20`,
      );
      return (p) => matchRows(stmt.all(...prefixRange(p.family)) as { json: string }[]);
    },
  },
  {
    title: 'Patient by identifier',
    shape: 'Patient?identifier=<mrn system>|<mrn>',
    singleHit: true,
    draw: (s, pick) => ({ mrn: pick(s.patients).mrn }),
    query: (p) => ({ type: 'Patient', query: `identifier=${enc(`${MRN_SYSTEM}|${p.mrn}`)}` }),
    floor: (db) => {
      const stmt = db.prepare(
        `SELECT r.json FROM idx i JOIN res r ON r.rid = i.rid WHERE i.param = 'Patient.identifier' AND i.value = ?`,
      );
      return (p) => matchRows(stmt.all(`${MRN_SYSTEM}|${p.mrn}`) as { json: string }[]);
    },
  },
  {
    title: "A patient's observations by code and dates",
    shape: 'Observation?subject=<ref>&code=<loinc>&date=ge<Y-1>&date=lt<Y+2>&_count=50',
    draw: (s, pick) => {
      const o = pick(s.observations);
      return { subject: o.subject, code: o.code, from: `${o.year - 1}-01-01`, to: `${o.year + 2}-01-01` };
    },
    query: (p, mapRef) => ({
      type: 'Observation',
      query: `subject=${enc(mapRef(p.subject))}&code=${enc(p.code)}&date=ge${p.from}&date=lt${p.to}&_count=50`,
    }),
    floor: (db) => {
      const stmt = db.prepare(`
        SELECT r.json FROM idx s
        JOIN idx c ON c.rid = s.rid AND c.param = 'Observation.code' AND c.value = ?
        JOIN idx d ON d.rid = s.rid AND d.param = 'Observation.date' AND d.value >= ? AND d.value < ?
        JOIN res r ON r.rid = s.rid
        WHERE s.param = 'Observation.subject' AND s.value = ? LIMIT 50`);
      return (p) => matchRows(stmt.all(p.code, dayMs(p.from), dayMs(p.to), p.subject) as { json: string }[]);
    },
  },
  {
    title: 'Encounters in a week',
    shape: 'Encounter?date=ge<day>&date=lt<day+7>&_count=50',
    draw: (s, pick) => {
      const day = pick(s.encounterDays);
      return { from: day, to: addDays(day, 7) };
    },
    query: (p) => ({ type: 'Encounter', query: `date=ge${p.from}&date=lt${p.to}&_count=50` }),
    floor: (db) => {
      // FHIR overlap semantics: ge X = the period ends at or after X, lt Y = it starts before Y.
      const longest = (db
        .prepare(`SELECT max(e.value - s.value) FROM idx s JOIN idx e ON e.rid = s.rid AND e.param = 'Encounter.date.end' WHERE s.param = 'Encounter.date'`)
        .pluck()
        .get() ?? 0) as number;
      const stmt = db.prepare(`
        SELECT r.json FROM idx s
        JOIN idx e ON e.rid = s.rid AND e.param = 'Encounter.date.end' AND e.value >= ?
        JOIN res r ON r.rid = s.rid
        WHERE s.param = 'Encounter.date' AND s.value >= ? AND s.value < ? LIMIT 50`);
      return (p) => {
        const from = dayMs(p.from);
        return matchRows(stmt.all(from, from - longest, dayMs(p.to)) as { json: string }[]);
      };
    },
  },
  {
    title: '_include: a patient\'s encounters with their clinicians',
    shape: 'Encounter?patient=<ref>&_count=50&_include=Encounter:participant',
    draw: (s, pick) => ({ patient: pick(s.patients).ref }),
    query: (p, mapRef) => ({
      type: 'Encounter',
      query: `patient=${enc(mapRef(p.patient))}&_count=50&_include=Encounter:participant`,
    }),
    floor: (db) => {
      const stmt = db.prepare(`
        WITH m AS (SELECT rid FROM idx WHERE param = 'Encounter.subject' AND value = ? LIMIT 50)
        SELECT 'm' AS k, r.json FROM m JOIN res r ON r.rid = m.rid
        UNION ALL
        SELECT 'i' AS k, t.json FROM (
          SELECT DISTINCT i.value AS ref FROM m JOIN idx i ON i.rid = m.rid AND i.param = 'Encounter.participant'
        ) x JOIN res t ON t.ref = x.ref`);
      return (p) => countRows(stmt.all(p.patient) as { k: string; json: string }[]);
    },
    memory: async (repo, p) => {
      const page = await repo.search(parseSearchRequest(`Encounter?patient=${enc(p.patient)}&_count=50`));
      const refs = new Set<string>();
      for (const e of page.entry ?? []) {
        for (const participant of (e.resource as { participant?: { individual?: Reference }[] }).participant ?? []) {
          if (participant.individual?.reference) {
            refs.add(participant.individual.reference);
          }
        }
      }
      const included = await Promise.all([...refs].map((reference) => repo.readReference({ reference })));
      return { matches: page.entry?.length ?? 0, included: included.length };
    },
  },
  {
    title: '_revinclude: a patient with problems and allergies',
    shape: 'Patient?_id=<id>&_revinclude=Condition:patient&_revinclude=AllergyIntolerance:patient',
    draw: (s, pick) => ({ patient: pick(s.patients).ref }),
    query: (p, mapRef) => ({
      type: 'Patient',
      query: `_id=${enc(idOf(mapRef(p.patient)))}&_revinclude=Condition:patient&_revinclude=AllergyIntolerance:patient`,
    }),
    floor: (db) => {
      const stmt = db.prepare(`
        WITH m AS (SELECT rid, ref FROM res WHERE ref = ?)
        SELECT 'm' AS k, r.json FROM m JOIN res r ON r.rid = m.rid
        UNION ALL
        SELECT 'i' AS k, r.json FROM m
        JOIN idx i ON i.param IN ('Condition.patient', 'AllergyIntolerance.patient') AND i.value = m.ref
        JOIN res r ON r.rid = i.rid`);
      return (p) => countRows(stmt.all(p.patient) as { k: string; json: string }[]);
    },
    memory: async (repo, p) => {
      const patient = await repo.readReference({ reference: p.patient });
      const conditions = await repo.search(parseSearchRequest(`Condition?patient=${enc(p.patient)}`));
      const allergies = await repo.search(parseSearchRequest(`AllergyIntolerance?patient=${enc(p.patient)}`));
      return { matches: patient ? 1 : 0, included: (conditions.entry?.length ?? 0) + (allergies.entry?.length ?? 0) };
    },
  },
  {
    title: 'Chain: observations of the patient with an MRN',
    shape: 'Observation?subject:Patient.identifier=<system>|<mrn>&code=<loinc>&_count=50',
    draw: (s, pick) => {
      const bySubject = patientByRef(s);
      for (;;) {
        const o = pick(s.observations);
        const patient = bySubject.get(o.subject);
        if (patient) {
          return { mrn: patient.mrn, code: o.code };
        }
      }
    },
    query: (p) => ({
      type: 'Observation',
      query: `subject:Patient.identifier=${enc(`${MRN_SYSTEM}|${p.mrn}`)}&code=${enc(p.code)}&_count=50`,
    }),
    floor: (db) => {
      const stmt = db.prepare(`
        SELECT r.json FROM idx pi
        JOIN res p ON p.rid = pi.rid
        JOIN idx s ON s.param = 'Observation.subject' AND s.value = p.ref
        JOIN idx c ON c.rid = s.rid AND c.param = 'Observation.code' AND c.value = ?
        JOIN res r ON r.rid = s.rid
        WHERE pi.param = 'Patient.identifier' AND pi.value = ? LIMIT 50`);
      return (p) => matchRows(stmt.all(p.code, `${MRN_SYSTEM}|${p.mrn}`) as { json: string }[]);
    },
    memory: async (repo, p) => {
      const patients = await repo.search(parseSearchRequest(`Patient?identifier=${enc(`${MRN_SYSTEM}|${p.mrn}`)}`));
      const refs = (patients.entry ?? []).map((e) => `Patient/${e.resource?.id}`).join(',');
      const page = await repo.search(parseSearchRequest(`Observation?subject=${enc(refs)}&code=${enc(p.code)}&_count=50`));
      return { matches: page.entry?.length ?? 0, included: 0 };
    },
  },
  {
    title: '_sort + paging: page 2 of vital signs, newest first',
    shape: 'Observation?subject=<ref>&category=vital-signs&_sort=-date&_count=20&_offset=20',
    draw: (s, pick) => ({ subject: pick(s.patientsWithManyVitals) }),
    query: (p, mapRef) => ({
      type: 'Observation',
      query: `subject=${enc(mapRef(p.subject))}&category=${enc(VITAL_SIGNS)}&_sort=-date&_count=20&_offset=20`,
    }),
    floor: (db) => {
      const stmt = db.prepare(`
        SELECT r.json FROM idx s
        JOIN idx c ON c.rid = s.rid AND c.param = 'Observation.category' AND c.value = ?
        JOIN idx d ON d.rid = s.rid AND d.param = 'Observation.date'
        JOIN res r ON r.rid = s.rid
        WHERE s.param = 'Observation.subject' AND s.value = ?
        ORDER BY d.value DESC LIMIT 20 OFFSET 20`);
      return (p) => matchRows(stmt.all(VITAL_SIGNS, p.subject) as { json: string }[]);
    },
  },
  {
    title: 'Claims of an encounter (reference)',
    shape: 'Claim?encounter=<ref>',
    singleHit: true,
    draw: (s, pick) => ({ encounter: pick(s.claimEncounters) }),
    query: (p, mapRef) => ({ type: 'Claim', query: `encounter=${enc(mapRef(p.encounter))}` }),
    floor: (db) => {
      const stmt = db.prepare(
        `SELECT r.json FROM idx i JOIN res r ON r.rid = i.rid WHERE i.param = 'Claim.encounter' AND i.value = ?`,
      );
      return (p) => matchRows(stmt.all(p.encounter) as { json: string }[]);
    },
  },
  {
    title: 'Patient by family name and birth date',
    shape: 'Patient?family=<family>&birthdate=<YYYY-MM-DD>&_count=20',
    draw: (s, pick) => {
      const patient = pick(s.patients);
      return { family: patient.family, birthDate: patient.birthDate };
    },
    query: (p) => ({ type: 'Patient', query: `family=${enc(p.family)}&birthdate=${p.birthDate}&_count=20` }),
    floor: (db) => {
      const stmt = db.prepare(`
        SELECT r.json FROM idx f
        JOIN idx b ON b.rid = f.rid AND b.param = 'Patient.birthdate' AND b.value = ?
        JOIN res r ON r.rid = f.rid
        WHERE f.param = 'Patient.family' AND f.value >= ? AND f.value < ? LIMIT 20`);
      return (p) => matchRows(stmt.all(p.birthDate, ...prefixRange(p.family)) as { json: string }[]);
    },
  },
];

/** Hits of a searchset Bundle from the store: entries in mode 'include' are included, the rest match. */
export function bundleHits(bundle: Bundle): Hits {
  const hits: Hits = { matches: 0, included: 0 };
  for (const entry of bundle.entry ?? []) {
    if (entry.search?.mode === 'include') {
      hits.included++;
    } else {
      hits.matches++;
    }
  }
  return hits;
}

/** The generic MemoryRepository path: the same query string, parsed by @medplum/core, scanned by the repository. */
export async function memorySearch(repo: MemoryRepository, type: string, query: string): Promise<Hits> {
  const bundle = await repo.search(parseSearchRequest(`${type}?${query}`));
  return { matches: bundle.entry?.length ?? 0, included: 0 };
}

