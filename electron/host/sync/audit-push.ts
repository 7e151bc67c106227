// Pushes the host's AuditEvents (audit_outbox, migration 30: pushed_at NULL = still to push) in
// `batch` Bundles. Idempotent: each is tagged with its local id (meta.tag system OUTPOST_ID_SYSTEM;
// AuditEvent has no `identifier`) and created with `If-None-Exist: _tag=...`, so a batch whose answer
// was lost finds the events the server already committed when it is sent again. pushed_at is set per
// entry that succeeded; a failed entry stays for the next run.
// References are translated to the remote's ids (sync_id_map); one the remote does not have (a
// resource created and deleted offline, a local user profile never pushed) becomes a logical reference
// by Outpost identifier, so the remote never holds a reference to an id it does not know.
import type { AuditEvent, Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Db } from '../store/types.ts';
import { OUTPOST_ID_SYSTEM } from './merge.ts';
import { createIdMap, outpostQuery, type IdMap } from './push-body.ts';
import { forEachReference, LITERAL_REFERENCE as REFERENCE } from './references.ts';
import type { Remote } from './remote.ts';

export interface AuditPushOptions {
  db: Db;
  remote: Remote;
  /** Only this project's events (default: all). */
  project?: string;
  /** Entries per batch Bundle (default 250). */
  batchSize?: number;
  /** Events per run (default 10,000). */
  limit?: number;
  clock?: () => Date;
}

export interface AuditPushSummary {
  pushed: number;
  failed: number;
  /** The remote refused the token (after one refresh). */
  unauthorized?: boolean;
}

/** The AuditEvent as sent: remote ids or logical references, the Outpost tag, no store meta. */
export function outgoingAuditEvent(event: AuditEvent, ids: IdMap): AuditEvent {
  const copy = JSON.parse(JSON.stringify(event)) as AuditEvent & { id?: string };
  const localId = copy.id as string;
  delete copy.id;
  // Rewrite `reference` strings to remote ids; unknown ones are marked and become logical references.
  forEachReference(copy, (ref, set) => {
    const m = REFERENCE.exec(ref);
    if (!m) return;
    const remoteId = ids.remoteIdOf(m[1], m[2]);
    if (remoteId) set(`${m[1]}/${remoteId}`);
    else set(`\u0000${ref}`);
  });
  replaceLogical(copy);
  const tags = (copy.meta?.tag ?? []).filter((t) => t.system !== OUTPOST_ID_SYSTEM);
  copy.meta = { ...(copy.meta?.security ? { security: copy.meta.security } : {}), tag: [...tags, { system: OUTPOST_ID_SYSTEM, code: localId }] };
  return copy;
}

/** Objects whose reference was marked unknown get {type, identifier} instead of the reference. */
function replaceLogical(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) replaceLogical(v);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.reference === 'string' && obj.reference.startsWith('\u0000')) {
      const ref = obj.reference.slice(1);
      delete obj.reference;
      obj.type = ref.split('/')[0];
      obj.identifier = { system: OUTPOST_ID_SYSTEM, value: ref };
    }
    for (const key of Object.keys(obj)) {
      if (typeof obj[key] === 'object') replaceLogical(obj[key]);
    }
  }
}

export async function pushAuditEvents(opts: AuditPushOptions): Promise<AuditPushSummary> {
  const { db, remote } = opts;
  const clock = opts.clock ?? (() => new Date());
  const batchSize = opts.batchSize ?? 250;
  const ids = createIdMap(db);
  const summary: AuditPushSummary = { pushed: 0, failed: 0 };
  const rows = db
    .prepare<[string | null, string | null, number], { rid: number; content: string }>(
      `SELECT o.rid, r.content FROM audit_outbox o JOIN resource r ON r.rid = o.rid
        WHERE o.pushed_at IS NULL AND (? IS NULL OR r.project = ?) ORDER BY o.rid LIMIT ?`,
    )
    .all(opts.project ?? null, opts.project ?? null, opts.limit ?? 10_000);
  const markPushed = db.prepare<[number, number]>('UPDATE audit_outbox SET pushed_at = ? WHERE rid = ?');

  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize);
    const entries: BundleEntry[] = chunk.map(({ content }) => {
      const event = JSON.parse(content) as AuditEvent;
      return { resource: outgoingAuditEvent(event, ids), request: { method: 'POST', url: 'AuditEvent', ifNoneExist: outpostQuery('AuditEvent', event.id as string) } };
    });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'batch', entry: entries };
    const res = await remote.request('POST', '', bundle);
    const answers = res.status === 200 && (res.body as Bundle | undefined)?.resourceType === 'Bundle' ? ((res.body as Bundle).entry ?? []) : undefined;
    if (!answers) {
      // The whole request failed (after the remote's own retries): everything stays for the next run.
      summary.failed += rows.length - i;
      summary.unauthorized = res.status === 401 || undefined;
      break;
    }
    const now = clock().getTime();
    db.transaction(() => {
      chunk.forEach((row, j) => {
        const status = Number.parseInt(answers[j]?.response?.status ?? '0', 10);
        if (status >= 200 && status < 300) {
          markPushed.run(now, row.rid);
          summary.pushed++;
        } else {
          summary.failed++;
        }
      });
    })();
  }
  return summary;
}
