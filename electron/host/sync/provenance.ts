// Who made a change locally, carried to the remote (which sees only the workstation's identity).
//
// Decision: an extension on meta of each pushed resource version, not a Provenance resource.
//  - It travels in the same request as the change: it cannot land without the change nor the change
//    without it (a Provenance is a second write that can fail, be retried, or duplicate separately),
//    and it costs no extra request, so batching keeps its throughput.
//  - Medplum overwrites meta.author with the login that wrote (the workstation's) and keeps the
//    rest of meta, so the extension sits beside it in the remote's version history of that resource.
//  - Deletes carry no body: who deleted is in the pushed AuditEvents (audit-push.ts), whose
//    entity references are rewritten to remote ids.
// Extension: url LOCAL_AUTHOR_EXTENSION, valueReference = the local profile (Practitioner/...) as the
// remote knows it (its remote id when it was pushed, else a logical reference by Outpost identifier),
// display = the person's name. Several people editing one resource between two pushes (squashed into
// one outbox row) give one extension each, oldest first.
//
// Where it comes from: the store does not record authors, but every audited local write is followed,
// in the same SQLite transaction, by its AuditEvent (agent = the profile acted as). The outbox hook
// (outbox.ts) remembers the last change it recorded; the next AuditEvent of a successful
// create/update/delete names its author (an AuditEvent of a create names no entity: it is the change
// just recorded). The authors are kept on the outbox row (sync_outbox.authors, JSON).
import type { AuditEvent, Extension, Reference, Resource } from '@medplum/fhirtypes';
import type { Db } from '../db/types.ts';
import { OUTPOST_ID_SYSTEM } from './references.ts';
import { prepareCached } from '../db/statements.ts';

export const LOCAL_AUTHOR_EXTENSION = 'https://outpost.local/fhir/StructureDefinition/local-author';
const MAX_AUTHORS = 10;

export interface LocalAuthor {
  /** The profile acted as, local reference ('Practitioner/abc'). */
  who: string;
  name?: string;
}

/** The author and target of an AuditEvent of a successful local write (undefined for anything else). */
export function writeOfAuditEvent(event: AuditEvent): { author: LocalAuthor; entity?: string; action: 'C' | 'U' | 'D' } | undefined {
  const action = event.action;
  if (event.outcome !== '0' || (action !== 'C' && action !== 'U' && action !== 'D')) return undefined;
  const agent = event.agent?.find((a) => a.requestor) ?? event.agent?.[0];
  const who = agent?.who?.reference;
  if (!who) return undefined;
  const name = agent.name ?? agent.who?.display;
  return { author: { who, ...(name ? { name } : {}) }, entity: event.entity?.[0]?.what?.reference, action };
}

/** The authors JSON with `author` appended (a repeat of the newest author is not added again). */
export function appendAuthor(existing: string | null, author: LocalAuthor): string {
  const list = existing ? (JSON.parse(existing) as LocalAuthor[]) : [];
  const last = list[list.length - 1];
  if (!last || last.who !== author.who) {
    list.push(author);
  }
  return JSON.stringify(list.slice(-MAX_AUTHORS));
}

export function parseAuthors(json: string | null | undefined): LocalAuthor[] {
  return json ? (JSON.parse(json) as LocalAuthor[]) : [];
}

/** The meta extensions naming the authors, references translated to the remote's ids. */
export function authorExtensions(authors: LocalAuthor[], remoteIdOf: (type: string, localId: string) => string | undefined): Extension[] {
  return authors.map((a) => {
    const [type, id] = a.who.split('/');
    const remoteId = type && id ? remoteIdOf(type, id) : undefined;
    const ref: Reference = remoteId
      ? { reference: `${type}/${remoteId}` }
      : ({ type, identifier: { system: OUTPOST_ID_SYSTEM, value: a.who } } as Reference);
    if (a.name) ref.display = a.name;
    return { url: LOCAL_AUTHOR_EXTENSION, valueReference: ref };
  });
}

/** Puts the author extensions on the body's meta (replacing any from an earlier push). */
export function withAuthors<T extends Resource>(body: T, extensions: Extension[]): T {
  if (extensions.length === 0 && !body.meta?.extension) return body;
  const kept = (body.meta?.extension ?? []).filter((e) => e.url !== LOCAL_AUTHOR_EXTENSION);
  const all = [...kept, ...extensions];
  const meta = { ...(body.meta ?? {}) };
  if (all.length > 0) meta.extension = all;
  else delete meta.extension;
  return { ...body, meta };
}

/** Records the author an AuditEvent (as just stored) names on the outbox row of the change it reports. */
export function attributeChange(db: Db, auditEvent: AuditEvent | undefined, lastChange: { type: string; id: string; op: string } | undefined): void {
  if (!lastChange || !auditEvent) return;
  const write = writeOfAuditEvent(auditEvent);
  if (!write) return;
  let target = write.entity;
  if (!target && write.action === 'C' && lastChange.op === 'create') {
    target = `${lastChange.type}/${lastChange.id}`;
  }
  if (target !== `${lastChange.type}/${lastChange.id}`) return;
  // Prepared once per connection: this runs for every audited write (preparing here cost more than the write's own outbox row).
  const outbox = prepareCached(db, 'SELECT authors FROM sync_outbox WHERE type = ? AND id = ?').get(lastChange.type, lastChange.id) as { authors: string | null } | undefined;
  if (!outbox) return;
  prepareCached(db, 'UPDATE sync_outbox SET authors = ? WHERE type = ? AND id = ?').run(appendAuthor(outbox.authors, write.author), lastChange.type, lastChange.id);
}
