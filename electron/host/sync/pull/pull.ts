// Pull: brings the remote's changes into the local store, per resource type.
//
// Per type: `Type?_lastUpdated=ge<watermark - overlap>&_sort=_lastUpdated&_count=<page>`, then the
// remote's `next` links. Each page is written by pull-page.ts in ONE SQLite transaction together with
// the type's new watermark (newest remote lastUpdated of the page) and the `next` link to resume from,
// so a page that fails (network drop, kill) moves nothing and a restarted pull continues exactly after
// the last committed page. Overlap re-reads are deduplicated on id + versionId without writing.
// After the type's pages, pull-reconcile.ts finds what the remote deleted or no longer shows.
// Paging: the `next` link is followed as given. Medplum pages a `_sort=_lastUpdated` search with a
// cursor, so writes on the remote between two pages neither repeat nor skip a resource; on a server
// that pages by `_offset`, a resource updated mid-run moves to the end (and is read there) but can shift
// one neighbour past a page boundary: the overlap window of the next pull is what catches it.
//
// Types pulled: `types` when given; else the clinical types, the directory types, and every type this
// project already holds remote copies of or has a watermark for (what the remote returned before).
// Status per type: 403 -> access to the type revoked (reconcile purges); 401 -> the run stops
// (`unauthorized`); other failures are reported in `errors` and the next type goes on.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Replica } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import type { Outbox } from '../outbox.ts';
import { createPageWriter, type PageResult, type PageWriter } from './pull-page.ts';
import { reconcileType, relativeNext } from './pull-reconcile.ts';
import { getWatermark } from './pull-state.ts';
import type { Remote, RemoteResponse } from '../remote/remote.ts';
import { exchangedTypes } from '../../db/replication.ts';

/** Types holding a patient's record, plus the people and places they name. */
export const PULL_CLINICAL_TYPES = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'RelatedPerson',
  'Medication',
  'Encounter',
  'Condition',
  'Observation',
  'MedicationRequest',
  'AllergyIntolerance',
  'Immunization',
  'Procedure',
  'DiagnosticReport',
  'CarePlan',
  'CareTeam',
  'DocumentReference',
  'ImagingStudy',
  'Goal',
  'Provenance',
];

export interface PullProgress {
  phase: 'pull' | 'reconcile' | 'tenant';
  done: number;
  total?: number;
  type?: string;
}

export interface PullOptions {
  db: Db;
  store: Replica;
  /** The outbox wired as the store's onChange: pulled writes run inside outbox.remote(). */
  outbox: Outbox;
  remote: Remote;
  /** The local project pulled into. */
  project: string;
  types?: string[];
  clock?: () => Date;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** Resources per page (default 1000, Medplum's maximum). */
  pageSize?: number;
  /** Re-read window before the watermark, ms (default 2 minutes). */
  overlapMs?: number;
  /** Detect remote deletions and revoked access (default true). */
  reconcile?: boolean;
  /**
   * A search parameter added to every search, keeping the pull to the tenant's own resources
   * (remote-project.ts: `_project=<id>` on Medplum); none by default.
   */
  scope?: string;
}

export interface TypePullSummary {
  pulled: number;
  deduped: number;
  deleted: number;
  purged: number;
  conflicts: number;
  failed: number;
  revoked?: boolean;
  error?: string;
}

export interface PullSummary {
  /** Resources written locally. */
  pulled: number;
  /** Removed locally because the remote deleted them. */
  deleted: number;
  /** Purged locally because access was revoked. */
  purged: number;
  /** Conflicts recorded (pulled over a pending change, or deleted remotely under one). */
  conflicts: number;
  /** Local changes held because access was revoked (listed in heldChanges). */
  held: number;
  /** Changes held for revoked access that went back to pending (the remote shows them again). */
  released: number;
  heldChanges: { type: string; id: string; reason: string }[];
  /** Re-read versions skipped (overlap window, resumed pages). */
  deduped: number;
  /** Remote resources the store refused (listed in failures). */
  failed: number;
  failures: { type: string; id: string; message: string }[];
  types: Record<string, TypePullSummary>;
  errors: string[];
  unauthorized: boolean;
  aborted: boolean;
}

export function emptyPullSummary(): PullSummary {
  return { pulled: 0, deleted: 0, purged: 0, conflicts: 0, held: 0, released: 0, heldChanges: [], deduped: 0, failed: 0, failures: [], types: {}, errors: [], unauthorized: false, aborted: false };
}

/** The types a project's pull covers by default. */
export function defaultPullTypes(db: Db, project: string): string[] {
  const known = exchangedTypes(db, project);
  return [...new Set([...PULL_CLINICAL_TYPES, ...known])];
}

function firstUrl(type: string, watermark: string | null | undefined, overlapMs: number, pageSize: number, scope: string | undefined): string {
  const params = new URLSearchParams(scope ?? '');
  if (watermark) {
    const since = Date.parse(watermark) - overlapMs;
    params.set('_lastUpdated', `ge${new Date(since).toISOString()}`);
  }
  params.set('_sort', '_lastUpdated');
  params.set('_count', String(pageSize));
  return `${type}?${params.toString()}`;
}

/** Newest meta.lastUpdated of the resources, as a normalized ISO instant. */
function newest(resources: Resource[]): string | null {
  let max = -Infinity;
  for (const r of resources) {
    const ms = Date.parse(r.meta?.lastUpdated ?? '');
    if (ms > max) max = ms;
  }
  return max === -Infinity ? null : new Date(max).toISOString();
}

export interface TypeRun {
  opts: PullOptions;
  writer: PageWriter;
  summary: PullSummary;
  /** Called after each committed page with the resources the type's run has written so far. */
  onPage?: (type: string, pulledInRun: number) => void;
}

/**
 * Pages one type into the store from its resume link or its watermark. Returns 'revoked' on 403,
 * 'done' when the last page is committed, 'stopped' otherwise (error, 401, abort: see the summary).
 */
export async function pullType(run: TypeRun, type: string): Promise<'done' | 'revoked' | 'stopped'> {
  const { opts, writer, summary } = run;
  const pageSize = opts.pageSize ?? 1000;
  const overlapMs = opts.overlapMs ?? 120_000;
  const t = (summary.types[type] ??= { pulled: 0, deduped: 0, deleted: 0, purged: 0, conflicts: 0, failed: 0 });
  const state = getWatermark(opts.db, opts.project, type);
  let resuming = Boolean(state?.resume_url);
  let url: string | undefined;
  if (state?.resume_url) {
    url = relativeNext(state.resume_url, type);
  } else {
    writer.startRun(type);
    url = firstUrl(type, state?.watermark, overlapMs, pageSize, opts.scope);
  }
  let pulledInRun = state?.resume_url ? state.pulled : 0;
  // The next page is requested before the current one is written (the write is synchronous SQLite
  // work): the remote prepares and sends it meanwhile.
  let prefetched: Promise<RemoteResponse> | undefined;
  while (url) {
    if (opts.signal?.aborted) {
      summary.aborted = true;
      return 'stopped';
    }
    const res = await (prefetched ?? opts.remote.request('GET', url));
    prefetched = undefined;
    if (res.status === 403) {
      t.revoked = true;
      return 'revoked';
    }
    if (res.status === 401) {
      summary.unauthorized = true;
      return 'stopped';
    }
    if (res.status !== 200 || res.body?.resourceType !== 'Bundle') {
      if (resuming && res.status >= 400 && res.status < 500) {
        // The saved link expired (a cursor the remote no longer knows): start again from the watermark.
        resuming = false;
        writer.startRun(type);
        pulledInRun = 0;
        url = firstUrl(type, getWatermark(opts.db, opts.project, type)?.watermark, overlapMs, pageSize, opts.scope);
        continue;
      }
      t.error = res.error ?? `HTTP ${res.status}`;
      summary.errors.push(`${type}: ${t.error}`);
      return 'stopped';
    }
    resuming = false;
    const bundle = res.body as Bundle;
    const resources: Resource[] = [];
    for (const e of bundle.entry ?? []) {
      if (e.resource?.resourceType === type && e.resource.id && e.search?.mode !== 'include' && e.search?.mode !== 'outcome') {
        resources.push(e.resource);
      }
    }
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    url = next ? relativeNext(next, type) : undefined;
    if (url && !opts.signal?.aborted) {
      prefetched = opts.remote.request('GET', url);
    }
    let page: PageResult;
    try {
      page = writer.writePage(type, resources, { watermark: newest(resources), resume: next ?? null });
    } catch (err) {
      // Rolled back: neither the rows nor the watermark moved. The next pull reads this page again.
      t.error = `the page could not be stored: ${(err as Error).message}`;
      summary.errors.push(`${type}: ${t.error}`);
      return 'stopped';
    }
    t.pulled += page.written;
    t.deduped += page.deduped;
    t.conflicts += page.conflicts;
    t.failed += page.failed.length;
    summary.pulled += page.written;
    summary.deduped += page.deduped;
    summary.conflicts += page.conflicts;
    summary.failed += page.failed.length;
    for (const f of page.failed) {
      if (summary.failures.length < 100) summary.failures.push(f);
    }
    pulledInRun += page.written;
    run.onPage?.(type, pulledInRun);
  }
  return 'done';
}

/** Reconciles one type (deletions, revoked access) into the summary. */
export async function reconcileInto(opts: PullOptions, summary: PullSummary, type: string, writer?: PageWriter): Promise<void> {
  const t = (summary.types[type] ??= { pulled: 0, deduped: 0, deleted: 0, purged: 0, conflicts: 0, failed: 0 });
  const r = await reconcileType({ ...opts, clock: opts.clock ?? (() => new Date()), writer }, type, { mayShortcut: t.failed === 0 && !t.revoked });
  t.pulled += r.repaired;
  summary.pulled += r.repaired;
  t.failed += r.repairFailures.length;
  summary.failed += r.repairFailures.length;
  for (const f of r.repairFailures) {
    if (summary.failures.length < 100) summary.failures.push(f);
  }
  t.deleted += r.deleted;
  t.purged += r.purged;
  t.conflicts += r.conflicts;
  summary.deleted += r.deleted;
  summary.purged += r.purged;
  summary.conflicts += r.conflicts;
  summary.held += r.held.length;
  summary.released += r.released;
  summary.heldChanges.push(...r.held);
  if (r.unauthorized) summary.unauthorized = true;
  if (r.error) {
    t.error ??= r.error;
    summary.errors.push(r.error);
  }
}

/** Pulls a project's types from its remote (see the header). */
export async function pullProject(opts: PullOptions): Promise<PullSummary> {
  const clock = opts.clock ?? (() => new Date());
  const summary = emptyPullSummary();
  const types = opts.types ?? defaultPullTypes(opts.db, opts.project);
  const writer = createPageWriter({ db: opts.db, store: opts.store, outbox: opts.outbox, project: opts.project, clock });
  // Progress `done` counts resources written so far (the remote's totals are unknown to an incremental pull).
  const run: TypeRun = { opts, writer, summary, onPage: (type) => opts.onProgress?.({ phase: 'pull', done: summary.pulled, type }) };
  for (const type of types) {
    if (summary.unauthorized || summary.aborted) break;
    opts.onProgress?.({ phase: 'pull', done: summary.pulled, type });
    const outcome = await pullType(run, type);
    if (outcome === 'stopped' && (summary.unauthorized || summary.aborted)) break;
    if (opts.reconcile !== false && outcome !== 'stopped') {
      opts.onProgress?.({ phase: 'reconcile', done: summary.pulled, type });
      await reconcileInto(opts, summary, type, writer);
    }
  }
  opts.onProgress?.({ phase: 'pull', done: summary.pulled });
  return summary;
}
