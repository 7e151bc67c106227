// Creates sent before whose answer never came back (the row's attempts > 0: a dropped connection, a
// 5xx after the commit, a killed process): the remote may hold them already. Before such a create is
// sent again, push looks for it by its Outpost identifier (a meta.tag for types without one): one
// search per type and LOOKUP_CHUNK creates. Found -> the create is done (or becomes an update when the
// local content moved on since); not found -> sent as a plain create.
// Why not `If-None-Exist` on every create: Medplum charges a conditional create 140 quota points
// instead of 100 (its searches), and two conditional creates running at once on PostgreSQL fail with
// 409 "could not serialize access". A lookup costs 20 points per LOOKUP_CHUNK creates, and only on a
// retry. Local ids are unique to the workstation, so nobody else creates under the same identifier.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { changedPaths, comparable } from '../conflicts/merge.ts';
import { OUTPOST_ID_SYSTEM } from '../references.ts';
import { hasIdentifier } from '../id-map.ts';
import type { PlannedEntry } from './push-types.ts';
import type { Remote } from '../remote/remote.ts';

export const LOOKUP_CHUNK = 50;

export interface LandedLookup {
  /** Creates the remote already holds with the content sent: done, with what it holds. */
  landed: { p: PlannedEntry; resource: Resource }[];
  /** Creates the remote holds that were edited here since: an update of what it holds, to send instead. */
  replaced: Map<PlannedEntry, PlannedEntry>;
  /** Creates the remote holds more than once (a person must choose). */
  ambiguous: Set<PlannedEntry>;
  /** Creates whose lookup failed: not sent this time (they could duplicate). */
  failed: Map<PlannedEntry, { status: number; reason: string }>;
}

/** The Outpost local id a remote resource carries (identifier or tag), if any. */
function outpostIdOf(resource: Resource): string | undefined {
  const identifiers = (resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? [];
  return identifiers.find((i) => i.system === OUTPOST_ID_SYSTEM)?.value ?? resource.meta?.tag?.find((t) => t.system === OUTPOST_ID_SYSTEM)?.code;
}

/**
 * The remote resources of `type` carrying these Outpost local ids, by local id (several when the remote
 * holds duplicates); one search per LOOKUP_CHUNK ids. A failed search: its status and reason.
 */
export async function lookupOutpostIds(remote: Remote, type: string, localIds: string[]): Promise<Map<string, Resource[]> | { status: number; reason: string }> {
  const held = new Map<string, Resource[]>();
  const param = hasIdentifier(type) ? 'identifier' : '_tag';
  for (let i = 0; i < localIds.length; i += LOOKUP_CHUNK) {
    const values = localIds.slice(i, i + LOOKUP_CHUNK).map((id) => encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${id}`)).join(',');
    const res = await remote.request('GET', `${type}?${param}=${values}&_count=${LOOKUP_CHUNK * 2}`);
    if (res.status !== 200 || (res.body as Bundle | undefined)?.resourceType !== 'Bundle') {
      return { status: res.status, reason: `looking for an earlier try failed: ${res.error ?? `HTTP ${res.status}`}` };
    }
    for (const e of (res.body as Bundle).entry ?? []) {
      const id = e.resource ? outpostIdOf(e.resource) : undefined;
      if (id && e.resource) held.set(id, [...(held.get(id) ?? []), e.resource]);
    }
  }
  return held;
}

/** Where each create tried before stands on the remote (see the header). */
export async function findLandedCreates(remote: Remote, creates: PlannedEntry[]): Promise<LandedLookup> {
  const result: LandedLookup = { landed: [], replaced: new Map(), ambiguous: new Set(), failed: new Map() };
  const byType = new Map<string, PlannedEntry[]>();
  for (const p of creates) {
    byType.set(p.row.type, [...(byType.get(p.row.type) ?? []), p]);
  }
  for (const [type, entries] of byType) {
    const held = await lookupOutpostIds(remote, type, entries.map((p) => p.row.id));
    for (const p of entries) {
      if (!(held instanceof Map)) {
        result.failed.set(p, held);
        continue;
      }
      const copies = held.get(p.row.id) ?? [];
      if (copies.length > 1) {
        result.ambiguous.add(p);
      } else if (copies.length === 1 && changedPaths(comparable(p.entry.resource), comparable(copies[0])).length === 0) {
        result.landed.push({ p, resource: copies[0] });
      } else if (copies.length === 1) {
        const [copy] = copies;
        const version = copy.meta?.versionId;
        result.replaced.set(p, {
          row: p.row,
          remoteId: copy.id,
          entry: { resource: { ...(p.entry.resource as Resource), id: copy.id }, request: { method: 'PUT', url: `${p.row.type}/${copy.id}`, ...(version ? { ifMatch: `W/"${version}"` } : {}) } },
        });
      }
    }
  }
  return result;
}
