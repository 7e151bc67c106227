// Requests a person makes, timed through the doors:
// - audit on / off: the same requests (the ten clinic searches, reads, the patient list, a create and
//   an update) through host.handle on two copies of one data folder, one host auditing and one not,
//   request by request alternately; each request is followed by one event-loop turn, when the audit
//   log writes the events it queued (a read's event is written then, a write's inside its transaction);
// - the patient list and opening a chart as the app asks for them (renderer/src/stores/patients.ts and
//   chart.ts: the Patient, then its eight chart sections), through the HTTP and IPC doors;
// - validation of REST writes: full validation (the REST path) next to the structural check of
//   imports and next to whole REST creates of the same resources.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Host } from '../../../electron/host/host.ts';
import { assertValidResource } from '../../../electron/host/store/validation.ts';
import { type CaseParams, searchCases } from '../cases.ts';
import type { Samples } from '../samples.ts';
import { percentile } from '../stats.ts';
import type { Door } from './door.ts';

export interface Timing {
  p50: number;
  p90: number;
  n: number;
}

function timing(times: number[]): Timing {
  return { p50: percentile(times, 50), p90: percentile(times, 90), n: times.length };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type MapRef = (ref: string) => string;

interface BenchRequest {
  kind: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: string;
}

/** The app's patient list: the first page with its total, and a search by family name. */
export function patientListRequests(family: string): BenchRequest[] {
  return [
    { kind: 'patient list, first page', method: 'GET', path: '/fhir/R4/Patient?_count=20&_offset=0&_total=accurate' },
    { kind: 'patient list, by name', method: 'GET', path: `/fhir/R4/Patient?_count=20&_offset=0&_total=accurate&name=${encodeURIComponent(family)}` },
  ];
}

/** Opening a chart as chart.ts does: the Patient, then the eight sections it shows. */
export function chartRequests(patientId: string): BenchRequest[] {
  const sections: [string, string, number][] = [
    ['Encounter', '-date', 50],
    ['Condition', '-_lastUpdated', 100],
    ['Observation', '-date', 500],
    ['MedicationRequest', '-_lastUpdated', 100],
    ['AllergyIntolerance', '-_lastUpdated', 50],
    ['Immunization', '-date', 50],
    ['CarePlan', '-_lastUpdated', 50],
    ['DiagnosticReport', '-date', 100],
  ];
  return [
    { kind: 'chart', method: 'GET', path: `/fhir/R4/Patient/${patientId}` },
    ...sections.map(([type, sort, count]): BenchRequest => ({ kind: 'chart', method: 'GET', path: `/fhir/R4/${type}?patient=Patient/${patientId}&_count=${count}&_sort=${sort}` })),
  ];
}

function searchRequests(params: CaseParams[][], mapRef: MapRef, perCase: number): BenchRequest[] {
  return searchCases.flatMap((c, i) =>
    params[i].slice(0, perCase).map((p): BenchRequest => {
      const { type, query } = c.query(p, mapRef);
      return { kind: 'clinic search', method: 'GET', path: `/fhir/R4/${type}?${query}` };
    }),
  );
}

const OBSERVATION = (patient: string, value: number): Resource =>
  ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: patient },
    effectiveDateTime: '2026-03-01T10:00:00Z',
    valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  }) as Resource;

async function send(host: Host, token: string, r: BenchRequest): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (r.body !== undefined) headers['content-type'] = 'application/fhir+json';
  const res = await host.handle({ method: r.method, path: r.path, headers, body: r.body });
  return { status: res.status, body: res.body };
}

export interface AuditComparison {
  /** Each request's own time (its answer), per kind: what the person waits for. */
  kinds: { kind: string; on: Timing; off: Timing }[];
  all: { on: Timing; off: Timing };
  /**
   * Cost per request of blocks of BLOCK reads, each block's queued AuditEvents written within it (the
   * commit charged to the block that caused it): what the host spends, per request, with audit on.
   */
  blocks: { on: number; off: number; n: number };
  eventsWritten: number;
  requests: number;
}

/** Reads per block in the cost comparison: about what one screen asks for (a chart: 9). */
export const BLOCK = 10;

/**
 * The same requests on `on` (auditing) and `off` (a copy of the same folder, not auditing), in blocks
 * of BLOCK that alternate between the two. Each request is followed by one event-loop turn; at the end
 * of an `on` block its audit log writes what is still queued (inside the block's time), so each block
 * pays for the AuditEvents it caused and none of another's. `mapRef` maps generated references to
 * the hosts' ids (the copy has the same ids).
 */
export async function compareAudit(
  on: { host: Host; token: string },
  off: { host: Host; token: string },
  samples: Samples,
  params: CaseParams[][],
  mapRef: MapRef,
  reps: number,
): Promise<AuditComparison> {
  const patients = samples.patients.slice(0, Math.max(1, Math.ceil(reps / 4)));
  const requests: BenchRequest[] = [
    ...searchRequests(params, mapRef, reps),
    ...patients.map((p): BenchRequest => ({ kind: 'read', method: 'GET', path: `/fhir/R4/${mapRef(p.ref)}` })),
    ...patients.flatMap((p) => patientListRequests(p.family)),
  ];
  // Kinds interleaved, so every block is a mix, as a screen's requests are.
  requests.sort((a, b) => (a.path.length % 7) - (b.path.length % 7));
  const times = { on: new Map<string, number[]>(), off: new Map<string, number[]>() };
  const blockTime = { on: 0, off: 0 };
  const auditCount = (h: Host): number => h.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'AuditEvent'").pluck().get() as number;
  on.host.audit.flush();
  const before = auditCount(on.host);
  const timeOne = async (side: 'on' | 'off', r: BenchRequest, record: boolean): Promise<unknown> => {
    const target = side === 'on' ? on : off;
    const t0 = performance.now();
    const res = await send(target.host, target.token, r);
    const ms = performance.now() - t0;
    await turn();
    if (res.status >= 300) {
      throw new Error(`${r.method} ${r.path} answered ${res.status} (audit ${side}): ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    if (record) {
      const list = times[side].get(r.kind) ?? [];
      list.push(ms);
      times[side].set(r.kind, list);
    }
    return res.body;
  };
  const block = async (side: 'on' | 'off', rs: BenchRequest[], record: boolean): Promise<void> => {
    const t0 = performance.now();
    for (const r of rs) await timeOne(side, r, record);
    if (side === 'on') on.host.audit.flush();
    if (record) blockTime[side] += performance.now() - t0;
  };
  // Warm-up, then the blocks, the order alternating.
  await block('on', requests.slice(0, 20), false);
  await block('off', requests.slice(0, 20), false);
  let measured = 0;
  for (let start = 0, k = 0; start < requests.length; start += BLOCK, k++) {
    const rs = requests.slice(start, start + BLOCK);
    for (const side of (k % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as ('on' | 'off')[]) await block(side, rs, true);
    measured += rs.length;
  }
  // Writes: a create, then an update of what was created (full validation, the event in the write's transaction).
  for (const [i, p] of patients.entries()) {
    const order: ('on' | 'off')[] = i % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const side of order) {
      const created = (await timeOne(side, { kind: 'create (POST Observation)', method: 'POST', path: '/fhir/R4/Observation', body: JSON.stringify(OBSERVATION(mapRef(p.ref), 60 + i)) }, i > 0)) as Resource;
      await timeOne(side, { kind: 'update (PUT Observation)', method: 'PUT', path: `/fhir/R4/Observation/${created.id}`, body: JSON.stringify({ ...OBSERVATION(mapRef(p.ref), 61 + i), id: created.id }) }, i > 0);
    }
  }
  on.host.audit.flush();
  const kinds = [...times.on.keys()].map((kind) => ({ kind, on: timing(times.on.get(kind) ?? []), off: timing(times.off.get(kind) ?? []) }));
  const all = (side: 'on' | 'off'): number[] => [...times[side].values()].flat();
  return {
    kinds,
    all: { on: timing(all('on')), off: timing(all('off')) },
    blocks: { on: blockTime.on / measured, off: blockTime.off / measured, n: measured },
    eventsWritten: auditCount(on.host) - before,
    requests: all('on').length,
  };
}

export interface DoorReadings {
  door: string;
  listFirstPage: Timing;
  listByName: Timing;
  chart: Timing;
  /** Resources a chart held on average (all sections). */
  chartResources: number;
}

/** The patient list and charts through a door, for `count` patients (`mapRef` to this door's host's ids). */
export async function listAndChart(door: Door, samples: Samples, mapRef: MapRef, count: number): Promise<DoorReadings> {
  const first: number[] = [];
  const byName: number[] = [];
  const chart: number[] = [];
  let chartResources = 0;
  const patients = samples.patients.slice(0, count + 3);
  for (const [i, p] of patients.entries()) {
    const record = i >= 3; // the first three warm up
    for (const r of patientListRequests(p.family)) {
      const t0 = performance.now();
      const answer = await door.send(r.method, r.path);
      const ms = performance.now() - t0;
      if (answer.status !== 200) throw new Error(`${r.path}: ${answer.status}`);
      if (record) (r.kind.endsWith('first page') ? first : byName).push(ms);
    }
    const id = mapRef(p.ref).split('/')[1];
    const t0 = performance.now();
    let held = 0;
    for (const r of chartRequests(id)) {
      const answer = await door.send(r.method, r.path);
      if (answer.status !== 200) throw new Error(`${r.path}: ${answer.status}`);
      held += (answer.body as Bundle).entry?.length ?? 1;
    }
    if (record) {
      chart.push(performance.now() - t0);
      chartResources += held;
    }
  }
  return { door: door.name, listFirstPage: timing(first), listByName: timing(byName), chart: timing(chart), chartResources: chartResources / Math.max(1, chart.length) };
}

export interface ValidationReadings {
  resources: number;
  /** Microseconds per resource, summed over the sample. */
  fullUs: number;
  structureUs: number;
  /** A whole REST create of the same resources through host.handle (validation, enforcement, audit), per resource. */
  restCreateUs: number;
  restCreateP50Ms: number;
}

/** Full validation vs the structural check vs REST creates of the same resources (ids removed, references kept). */
export async function measureValidation(host: Host, token: string, sample: Resource[]): Promise<ValidationReadings> {
  let full = 0;
  let structure = 0;
  let rest = 0;
  const restTimes: number[] = [];
  for (const [i, resource] of sample.entries()) {
    const { id: _id, meta: _meta, ...body } = resource;
    const modes: ('full' | 'structure')[] = i % 2 === 0 ? ['full', 'structure'] : ['structure', 'full'];
    for (const mode of modes) {
      const t0 = performance.now();
      assertValidResource(body, mode);
      const us = (performance.now() - t0) * 1000;
      if (mode === 'full') full += us;
      else structure += us;
    }
    const t0 = performance.now();
    const res = await send(host, token, { kind: 'create', method: 'POST', path: `/fhir/R4/${resource.resourceType}`, body: JSON.stringify(body) });
    await turn();
    const ms = performance.now() - t0;
    if (res.status !== 201) throw new Error(`POST ${resource.resourceType}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    rest += ms * 1000;
    restTimes.push(ms);
  }
  const n = sample.length;
  return { resources: n, fullUs: full / n, structureUs: structure / n, restCreateUs: rest / n, restCreateP50Ms: percentile(restTimes, 50) };
}
