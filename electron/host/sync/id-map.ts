// Local ids and remote ids (sync_id_map): a local resource as the remote gets it (references translated to
// the remote's ids, the Outpost identifier that makes creates idempotent, the meta extensions naming the
// local authors: provenance.ts), and the way back (remote content -> local ids) for what is written
// locally. Push, audit push and conflict resolution all translate through here.
import { tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../db/types.ts';
import { authorExtensions, parseAuthors, withAuthors } from './provenance.ts';
import { forEachReference, LITERAL_REFERENCE as REFERENCE, OUTPOST_ID_SYSTEM } from './references.ts';

const identifierCache = new Map<string, boolean>();
export function hasIdentifier(type: string): boolean {
  let known = identifierCache.get(type);
  if (known === undefined) {
    known = Boolean(tryGetDataType(type)?.elements?.identifier);
    identifierCache.set(type, known);
  }
  return known;
}

/** The search that finds a pushed resource on the remote by its local id. */
export function outpostQuery(type: string, localId: string): string {
  const token = encodeURIComponent(`${OUTPOST_ID_SYSTEM}|${localId}`);
  return hasIdentifier(type) ? `identifier=${token}` : `_tag=${token}`;
}

export interface IdMap {
  remoteIdOf(type: string, localId: string): string | undefined;
  localIdOf(type: string, remoteId: string): string | undefined;
}

export function createIdMap(db: Db): IdMap {
  const toRemote = db.prepare<[string, string], { remote_id: string }>('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?');
  const toLocal = db.prepare<[string, string], { local_id: string }>('SELECT local_id FROM sync_id_map_by_remote WHERE type = ? AND remote_id = ?');
  return {
    remoteIdOf: (type, id) => toRemote.get(type, id)?.remote_id,
    localIdOf: (type, id) => toLocal.get(type, id)?.local_id,
  };
}

/**
 * A copy with `Type/localId` references rewritten to remote ids. `unsent(ref)` says whether a local
 * reference names a resource the remote does not have yet; the first such reference is returned as
 * `waitingOn` (the change must wait for it).
 */
export function toRemoteReferences<T extends Resource>(resource: T, ids: IdMap, unsent: (ref: string) => boolean): { resource: T; waitingOn?: string } {
  const copy = JSON.parse(JSON.stringify(resource)) as T;
  let waitingOn: string | undefined;
  forEachReference(copy, (ref, set) => {
    const m = REFERENCE.exec(ref);
    if (!m) return;
    const remoteId = ids.remoteIdOf(m[1], m[2]);
    if (remoteId) {
      set(`${m[1]}/${remoteId}`);
    } else if (unsent(ref)) {
      waitingOn ??= ref;
    }
  });
  return { resource: copy, waitingOn };
}

/** A copy with remote ids rewritten to the local ids they map to (unmapped ones are kept: pull maps them to themselves). */
export function toLocalReferences<T extends Resource>(resource: T, ids: IdMap): T {
  const copy = JSON.parse(JSON.stringify(resource)) as T;
  forEachReference(copy, (ref, set) => {
    const m = REFERENCE.exec(ref);
    const localId = m ? ids.localIdOf(m[1], m[2]) : undefined;
    if (m && localId) set(`${m[1]}/${localId}`);
  });
  return copy;
}

/**
 * The body sent for a resource (references already translated): no local id or store meta, the
 * Outpost identifier (a meta.tag for types without `identifier`), the authors' meta extensions,
 * and `id` = the remote id for an update.
 */
export function outgoingBody(resource: Resource, localId: string, remoteId: string | undefined, authorsJson: string | null, ids: IdMap): Resource {
  // A shallow copy is enough: only top-level fields and meta are replaced, nothing nested is mutated.
  const body = { ...resource } as Resource & { identifier?: { system?: string; value?: string }[] };
  if (remoteId) body.id = remoteId;
  else delete body.id;
  const meta = { ...(body.meta ?? {}) } as Record<string, unknown>;
  delete meta.versionId;
  delete meta.lastUpdated;
  delete meta.project;
  delete meta.author;
  body.meta = meta;
  // An update keeps the Outpost identifier the resource already carries (the workstation that created
  // it finds it by that one); a create always names this workstation's local id.
  if (hasIdentifier(resource.resourceType)) {
    const others = (body.identifier ?? []).filter((i) => i.system !== OUTPOST_ID_SYSTEM);
    const kept = remoteId ? (body.identifier ?? []).filter((i) => i.system === OUTPOST_ID_SYSTEM) : [];
    body.identifier = [...others, ...(kept.length > 0 ? kept : [{ system: OUTPOST_ID_SYSTEM, value: localId }])];
  } else {
    const all = (meta.tag as { system?: string }[] | undefined) ?? [];
    const kept = remoteId ? all.filter((t) => t.system === OUTPOST_ID_SYSTEM) : [];
    meta.tag = [...all.filter((t) => t.system !== OUTPOST_ID_SYSTEM), ...(kept.length > 0 ? kept : [{ system: OUTPOST_ID_SYSTEM, code: localId }])];
  }
  const out = withAuthors(body, authorExtensions(parseAuthors(authorsJson), ids.remoteIdOf));
  if (out.meta && Object.keys(out.meta).length === 0) delete out.meta;
  return out;
}
