// Pushes the host's AuditEvents (audit_outbox, migration 30: pushed_at NULL = still to push) in
// `batch` Bundles, paced by the remote's quota (quota.ts) like push.ts. Idempotent: each is tagged with
// its local id (meta.tag system OUTPOST_ID_SYSTEM; AuditEvent has no `identifier`); an event sent
// before without an answer (sync_audit_tried) is looked up by that tag first (push-landed.ts), so a
// batch whose answer was lost never duplicates, and a first try is a plain create. pushed_at is set per
// entry that succeeded; one refused for the quota goes again after the reset, a transient failure
// (409 contention, 5xx) gets a few rounds, and what still failed stays for the next run, each with
// its reason in `failures`.
// References are translated to the remote's ids (sync_id_map); one the remote does not have (a
// resource created and deleted offline, a local user profile never pushed) becomes a logical reference
// by Outpost identifier, so the remote never holds a reference to an id it does not know.
import type { AuditEvent, Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Db } from '../../db/types.ts';
import { createFailureLedger, entryOutcomeText as outcomeText, type FailureGroup } from '../failures.ts';
import { createIdMap, type IdMap } from '../id-map.ts';
import { isTooLarge, MAX_BUNDLE_BYTES, splitBySize } from './batch-bundles.ts';
import { lookupOutpostIds } from './push-landed.ts';
import { parseThrottled, QUOTA_COST, sendPaced } from '../remote/quota.ts';
import { forEachReference, LITERAL_REFERENCE as REFERENCE, OUTPOST_ID_SYSTEM } from '../references.ts';
import { backoffMs, isRetryable, type Remote } from '../remote/remote.ts';
import { unpushedAuditEvents } from '../../db/replication.ts';

export interface AuditPushOptions {
  db: Db;
  remote: Remote;
  /** Only this project's events (default: all). */
  project?: string;
  /** Entries per batch Bundle (default 250). */
  batchSize?: number;
  /** Largest request body, bytes (default push-body.ts's MAX_BUNDLE_BYTES). */
  maxBundleBytes?: number;
  /** Events per run (default 10,000). */
  limit?: number;
  clock?: () => Date;
  /** Waits between retry rounds (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
}

export interface AuditPushSummary {
  pushed: number;
  failed: number;
  /** The remote refused the token (after one refresh). */
  unauthorized?: boolean;
  /** Why events were not pushed, grouped (failures.ts). */
  failures: FailureGroup[];
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

const RETRY_ROUNDS = 3;
const MAX_QUOTA_WAITS = 200;

interface QueuedEvent {
  rid: number;
  event: AuditEvent;
  /** Why its last try failed transiently. */
  reason?: string;
}

export async function pushAuditEvents(opts: AuditPushOptions): Promise<AuditPushSummary> {
  const { db, remote } = opts;
  const clock = opts.clock ?? (() => new Date());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const batchSize = opts.batchSize ?? 250;
  const maxBundleBytes = opts.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  const ids = createIdMap(db);
  const ledger = createFailureLedger();
  const summary: AuditPushSummary = { pushed: 0, failed: 0, failures: [] };
  const stopped = () => summary.unauthorized === true || opts.signal?.aborted === true;
  const rows = unpushedAuditEvents(db, opts.project, opts.limit ?? 10_000);
  const sql = {
    pushed: db.prepare<[number, number]>('UPDATE audit_outbox SET pushed_at = ? WHERE rid = ?'),
    tried: db.prepare<[number]>('INSERT OR IGNORE INTO sync_audit_tried (rid) VALUES (?)'),
    untried: db.prepare<[number]>('DELETE FROM sync_audit_tried WHERE rid = ?'),
    wasTried: db.prepare<[number], number>('SELECT 1 FROM sync_audit_tried WHERE rid = ?').pluck(),
  };
  const markPushed = db.transaction((rids: number[]) => {
    const now = clock().getTime();
    for (const rid of rids) {
      sql.pushed.run(now, rid);
      sql.untried.run(rid);
    }
    summary.pushed += rids.length;
  });
  const fail = (q: QueuedEvent, reason: string | undefined) => {
    summary.failed++;
    ledger.add('not pushed (next run)', reason, `AuditEvent/${q.event.id}`);
  };

  /** Events sent before without an answer that the remote holds already: marked pushed, not sent again. */
  async function settleEarlierTries(queue: QueuedEvent[]): Promise<QueuedEvent[]> {
    const tried = queue.filter((q) => sql.wasTried.get(q.rid) !== undefined);
    if (tried.length === 0) return queue;
    const held = await lookupOutpostIds(remote, 'AuditEvent', tried.map((q) => q.event.id as string));
    if (!(held instanceof Map)) {
      if (held.status === 401) summary.unauthorized = true;
      for (const q of tried) fail(q, held.reason);
      const skip = new Set(tried);
      return queue.filter((q) => !skip.has(q));
    }
    const landed = tried.filter((q) => held.has(q.event.id as string));
    markPushed(landed.map((q) => q.rid));
    const done = new Set(landed);
    return queue.filter((q) => !done.has(q));
  }

  async function send(chunk: QueuedEvent[], retry: QueuedEvent[], throttled: QueuedEvent[]): Promise<void> {
    const entries = new Map(chunk.map((q): [QueuedEvent, BundleEntry] => [q, { resource: outgoingAuditEvent(q.event, ids), request: { method: 'POST', url: 'AuditEvent' } }]));
    // Under the remote's request size (Medplum: 1 MB), as push.ts.
    const parts = splitBySize(chunk, (q) => entries.get(q), maxBundleBytes);
    if (parts.length > 1) {
      for (const part of parts) await send(part, retry, throttled);
      return;
    }
    db.transaction(() => chunk.forEach((q) => sql.tried.run(q.rid)))();
    const bundle: Bundle = { resourceType: 'Bundle', type: 'batch', entry: chunk.map((q) => entries.get(q) as BundleEntry) };
    const res = await remote.request('POST', '', bundle, {}, { resend: false });
    const answers = res.status === 200 && (res.body as Bundle | undefined)?.resourceType === 'Bundle' ? ((res.body as Bundle).entry ?? []) : undefined;
    if (!answers && isTooLarge(res) && chunk.length > 1) {
      // Refused whole for its size: nothing landed; halves.
      chunk.forEach((q) => sql.untried.run(q.rid));
      const half = Math.ceil(chunk.length / 2);
      await send(chunk.slice(0, half), retry, throttled);
      await send(chunk.slice(half), retry, throttled);
      return;
    }
    if (!answers) {
      if (res.status === 401) summary.unauthorized = true;
      // No answer: some may have landed (tried, looked up before the next send).
      if (isRetryable(res.status)) retry.push(...chunk.map((q) => ({ ...q, reason: res.error })));
      else for (const q of chunk) fail(q, res.error);
      return;
    }
    const ok: number[] = [];
    chunk.forEach((q, j) => {
      const status = Number.parseInt(answers[j]?.response?.status ?? '0', 10);
      if (status >= 200 && status < 300) {
        ok.push(q.rid);
        return;
      }
      // Answered: it did not land, so no lookup is needed before it goes again.
      sql.untried.run(q.rid);
      const reason = outcomeText(answers[j]) ?? `HTTP ${status}`;
      if (status === 429) {
        remote.pacer.observe(undefined, parseThrottled(answers[j]?.response?.outcome));
        throttled.push({ ...q, reason });
      } else if (isRetryable(status) || status === 409) {
        retry.push({ ...q, reason });
      } else {
        fail(q, reason);
      }
    });
    markPushed(ok);
  }

  let queue: QueuedEvent[] = rows.map(({ rid, content }) => ({ rid, event: JSON.parse(content) as AuditEvent }));
  let round = 0;
  while (queue.length > 0 && !stopped()) {
    queue = await settleEarlierTries(queue);
    const retry: QueuedEvent[] = [];
    const throttled: QueuedEvent[] = [];
    const paced = { pacer: remote.pacer, maxWaitMs: remote.maxQuotaWaitMs, maxWaits: MAX_QUOTA_WAITS, batchSize, concurrency: 1, cost: QUOTA_COST.write, stopped };
    const { unsent, stalled } = await sendPaced(queue, paced, (chunk) => send(chunk, retry, throttled));
    if (opts.signal?.aborted) break;
    if (stalled || summary.unauthorized) {
      for (const q of [...unsent, ...throttled, ...retry]) fail(q, stalled ? "The remote's quota is spent" : q.reason);
      break;
    }
    if (throttled.length > 0 && remote.pacer.exhaustedForMs() === 0) retry.push(...throttled.splice(0));
    if (retry.length > 0) {
      round++;
      if (round >= RETRY_ROUNDS) {
        for (const q of retry.splice(0)) fail(q, q.reason);
      } else if (throttled.length === 0) {
        await sleep(backoffMs(round, undefined, 250, 30_000, random));
      }
    }
    queue = [...throttled, ...retry];
  }
  summary.failures = ledger.list();
  return summary;
}
