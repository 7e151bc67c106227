// Push: sends the outbox to the remote in `batch` Bundles, in dependency order.
//
// Ids: Medplum assigns ids on create and refuses PUT-create (404), so a local create is POSTed carrying
// an Outpost identifier (system OUTPOST_ID_SYSTEM, value = local id; a meta.tag of the same system for
// types without `identifier`). A create sent before without an answer is first looked up by that
// identifier (push-landed.ts), so a retry after a lost answer never duplicates; a first try is a plain
// POST (no If-None-Exist: see push-landed.ts for why). The server's id is kept in sync_id_map; local
// ids never change, and every outgoing reference `Type/localId` is rewritten to `Type/remoteId`.
// A change whose referenced resources are not on the remote yet waits for them (a Patient before its
// Encounter before its Observation): each round sends every change whose dependencies are there, in
// Bundles of `batchSize` independent entries (Medplum runs a batch's entries independently and
// answers each), then the next round those unblocked. When a dependency is held, so are its dependents.
//
// Pace: Bundles are sized to the quota the remote announced (quota.ts; Medplum charges 100 points a
// write), and when it is spent the push waits for the window to reset and goes on, in the same run.
// Outcomes per entry (a batch with mixed outcomes retries only what failed):
//   2xx          done: the row goes (unless a newer local version arrived meanwhile); sync_id_map gets
//                the remote id, its versionId, and base_version = the local version pushed (merge base)
//   409/412      on an update or delete: the remote changed since we last saw it: push-conflict.ts
//                fetches it and merges three ways, or records a conflict (the remote is never
//                overwritten by default). On a create there is nothing to conflict with: a 409 is the
//                server's own contention (PostgreSQL "could not serialize access"), retried with backoff
//   404/410 on update: deleted remotely -> conflict 'deleted-remotely' (never a silent re-create)
//   400/422      'held' with the reason, and its dependents; the rest goes on
//   403          'quarantined' with the reason
//   429          sent again once the quota window resets (not a retry round)
//   0, 5xx       retried in a later round of this run, then left pending with next_attempt_at backed off
//   401          (after the remote refreshed its token once) stops the run: `unauthorized`
// Kept on this workstation, never sent (counted in `keptLocal`, not failures): AccessPolicies whose
// criteria Medplum refuses (shared/fhir/medplum-policy.ts) and resources in sync_local_only (the local
// owner's profile of a bootstrapped workstation: tenant-pull.ts).
// Every failure is counted with its reason in `failures` (failures.ts).
import type { AccessPolicy, Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { criteriaMedplumRefuses } from '../../../../shared/fhir/medplum-policy.ts';
import { createFailureLedger, entryOutcomeText as outcomeText } from '../failures.ts';
import { dueRows, type Outcome, type OutboxRow, type OutboxState } from '../outbox.ts';
import type { PlannedEntry, PushOptions, PushSummary } from './push-types.ts';
import { createIdMap, outgoingBody, outpostQuery, toRemoteReferences } from '../id-map.ts';
import { isTooLarge, MAX_BUNDLE_BYTES, parseEtag, parseLocation, splitBySize } from './batch-bundles.ts';
import { checkRemoteBeforeDelete, handlePushConflict } from '../conflicts/push-conflict.ts';
import { findLandedCreates } from './push-landed.ts';
import { parseThrottled, QUOTA_COST, sendPaced } from '../remote/quota.ts';
import { forEachReference } from '../references.ts';
import { backoffMs, isRetryable, type RemoteResponse } from '../remote/remote.ts';
import { resourceRow } from '../../db/resources.ts';

export type { PlannedEntry, PushOptions, PushSummary } from './push-types.ts';

/** Rounds of resending entries that failed transiently (5xx, 409 on a create) within one run. */
const RETRY_ROUNDS = 3;
/** Quota resets one push waits through while the remote keeps taking some of it (a quota of 50,000
 * points a minute moves 500 writes a window: 200 resets cover 100,000 changes). */
const MAX_QUOTA_WAITS = 200;

/** Why a resource is kept on this workstation, or undefined when it may be pushed. */
function keptLocalReason(resource: Resource): string | undefined {
  if (resource.resourceType !== 'AccessPolicy') return undefined;
  const refused = criteriaMedplumRefuses(resource as AccessPolicy);
  return refused.length > 0 ? `criteria a Medplum server refuses (${refused.map((r) => r.criteria).join('; ')})` : undefined;
}

export async function pushOutbox(opts: PushOptions): Promise<PushSummary> {
  const { db, remote } = opts;
  const clock = opts.clock ?? (() => new Date());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const batchSize = opts.batchSize ?? 250;
  const concurrency = opts.concurrency ?? 2;
  const maxBundleBytes = opts.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  const aborted = () => opts.signal?.aborted === true;
  const summary: PushSummary = { pushed: 0, held: 0, conflicts: 0, merged: 0, quarantined: 0, retryLater: 0, keptLocal: 0, unauthorized: false, failures: [] };
  const ledger = createFailureLedger();
  const ids = createIdMap(db);
  const sql = {
    mapped: db.prepare<[string, string], { remote_id: string; remote_version: string | null }>(
      'SELECT remote_id, remote_version FROM sync_id_map WHERE type = ? AND local_id = ?',
    ),
    map: db.prepare<[string, string, string, string | null, number | null]>(
      'INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version, base_version) VALUES (?, ?, ?, ?, ?)',
    ),
    unmap: db.prepare<[string, string]>('DELETE FROM sync_id_map WHERE type = ? AND local_id = ?'),
    attempt: db.prepare<[string, string]>('UPDATE sync_outbox SET attempts = attempts + 1 WHERE type = ? AND id = ?'),
    // Done: remove the row unless a newer local version arrived while the request was out.
    done: db.prepare<[string, string, number]>('DELETE FROM sync_outbox WHERE type = ? AND id = ? AND version = ?'),
    createdNewer: db.prepare<[string, string]>("UPDATE sync_outbox SET op = 'update', attempts = 0 WHERE type = ? AND id = ? AND op = 'create'"),
    setState: db.prepare<[OutboxState, string | null, string, string]>('UPDATE sync_outbox SET state = ?, last_error = ? WHERE type = ? AND id = ?'),
    later: db.prepare<[number, string | null, string, string]>('UPDATE sync_outbox SET next_attempt_at = ?, last_error = ? WHERE type = ? AND id = ?'),
    localOnly: db.prepare<[string, string], string>('SELECT reason FROM sync_local_only WHERE type = ? AND id = ?').pluck(),
    // Kept local: the row goes (a later edit records a new one, and push keeps that one local too).
    drop: db.prepare<[string, string]>('DELETE FROM sync_outbox WHERE type = ? AND id = ?'),
  };

  const all = dueRows(db, clock().getTime(), opts.limit ?? 10_000).filter((r) => opts.project === undefined || r.project === opts.project);
  const pendingCreate = new Set(all.filter((r) => r.op === 'create').map((r) => `${r.type}/${r.id}`));
  const failed = new Map<string, 'held' | 'later'>();
  /** Why an entry failed transiently (kept for the row when its retries run out). */
  const transientReason = new Map<PlannedEntry, string>();
  /** Creates whose last try got an answer refusing them: sent again without a lookup. */
  const refusedCreate = new Set<string>();

  function finish(row: OutboxRow, state: Outcome, reason: string | undefined, retryAfterMs?: number): void {
    const key = `${row.type}/${row.id}`;
    if (state === 'later') {
      const wait = backoffMs(row.attempts + 1, retryAfterMs, 1000, 15 * 60_000, random);
      sql.later.run(clock().getTime() + wait, reason ?? null, row.type, row.id);
      summary.retryLater++;
      failed.set(key, 'later');
      ledger.add('left for a later run', reason, key);
      return;
    }
    if (state === 'pending') return;
    sql.setState.run(state, reason ?? null, row.type, row.id);
    if (state === 'held') {
      summary.held++;
      failed.set(key, 'held');
      ledger.add('held', reason, key);
    } else if (state === 'conflict') {
      summary.conflicts++;
      failed.set(key, 'held');
    } else if (state === 'quarantined') {
      summary.quarantined++;
      failed.set(key, 'held');
      ledger.add('quarantined', reason, key);
    }
  }

  function classify(row: OutboxRow, status: number): Outcome | 'conflict-check' | 'throttled' {
    if (status === 401) {
      summary.unauthorized = true;
      return 'later';
    }
    if (status === 429) return 'throttled';
    // A create has no remote version to conflict with: a 409 is the server's own contention.
    if (status === 409 && row.op === 'create') return 'later';
    if (status === 409 || status === 412) return 'conflict-check';
    if ((status === 404 || status === 410) && row.op === 'update') return 'conflict-check';
    if (status === 403) return 'quarantined';
    if (isRetryable(status)) return 'later';
    return 'held';
  }

  const unsent = (ref: string): boolean => pendingCreate.has(ref) || failed.has(ref);

  /** A row's local content, read once per run, and the creates of this run it references. */
  interface Loaded {
    row: OutboxRow;
    resource?: Resource;
    deps: string[];
  }

  /** Keeps a row's change on this workstation (see the header). */
  function keepLocal(row: OutboxRow): void {
    sql.drop.run(row.type, row.id);
    pendingCreate.delete(`${row.type}/${row.id}`);
    summary.keptLocal++;
  }

  /** Loads a row; undefined when it needs no request (gone locally, or kept on this workstation). */
  function load(row: OutboxRow): Loaded | undefined {
    if (sql.localOnly.get(row.type, row.id) !== undefined) {
      keepLocal(row);
      return undefined;
    }
    if (row.op === 'delete') return { row, deps: [] };
    const local = resourceRow(db, row.type, row.id);
    if (!local || local.deleted) {
      sql.done.run(row.type, row.id, row.version);
      return undefined;
    }
    const resource = JSON.parse(local.content) as Resource;
    if (keptLocalReason(resource)) {
      keepLocal(row);
      return undefined;
    }
    const deps: string[] = [];
    forEachReference(resource, (ref) => {
      if (pendingCreate.has(ref) && ref !== `${row.type}/${row.id}`) deps.push(ref);
    });
    return { row, resource, deps };
  }

  /** The entry for a loaded row; 'wait' while a dependency is unsent; undefined when it was settled (held/later). */
  function plan(item: Loaded): PlannedEntry | 'wait' | undefined {
    const { row } = item;
    for (const dep of item.deps) {
      const why = failed.get(dep);
      if (why === 'held') return void finish(row, 'held', `Depends on ${dep}, which is held`);
      if (why === 'later') return void finish(row, 'later', `Waiting for ${dep}`);
    }
    if (item.deps.some((dep) => pendingCreate.has(dep))) return 'wait';
    const mapped = sql.mapped.get(row.type, row.id);
    if (row.op === 'delete') {
      if (mapped) {
        const ifMatch = mapped.remote_version ? `W/"${mapped.remote_version}"` : undefined;
        return { row, remoteId: mapped.remote_id, entry: { request: { method: 'DELETE', url: `${row.type}/${mapped.remote_id}`, ...(ifMatch ? { ifMatch } : {}) } } };
      }
      // A create that may have landed before we heard back: delete it by its Outpost identifier (no match is success).
      return { row, entry: { request: { method: 'DELETE', url: `${row.type}?${outpostQuery(row.type, row.id)}` } } };
    }
    const self = `${row.type}/${row.id}`;
    const out = toRemoteReferences(item.resource as Resource, ids, (ref) => ref !== self && unsent(ref));
    if (out.waitingOn) {
      return void finish(row, 'held', `Depends on ${out.waitingOn}, which is not on the remote`);
    }
    const authors = row.authors ?? null;
    if (row.op === 'create' || !mapped) {
      const body = outgoingBody(out.resource, row.id, undefined, authors, ids);
      return { row, entry: { resource: body, request: { method: 'POST', url: row.type } } };
    }
    const body = outgoingBody(out.resource, row.id, mapped.remote_id, authors, ids);
    const ifMatch = mapped.remote_version ? `W/"${mapped.remote_version}"` : undefined;
    return { row, remoteId: mapped.remote_id, entry: { resource: body, request: { method: 'PUT', url: `${row.type}/${mapped.remote_id}`, ...(ifMatch ? { ifMatch } : {}) } } };
  }

  /** Applies the successful answers of one Bundle in one transaction. */
  const applySuccesses = db.transaction((done: { p: PlannedEntry; res: BundleEntry }[]) => {
    for (const { p, res } of done) {
      const { row } = p;
      if (row.op === 'delete') {
        sql.unmap.run(row.type, row.id);
        sql.done.run(row.type, row.id, row.version);
      } else {
        const loc = parseLocation(res.response?.location);
        const remoteId = res.resource?.id ?? p.remoteId ?? loc.id;
        const version = res.resource?.meta?.versionId ?? parseEtag(res.response?.etag) ?? loc.versionId ?? null;
        if (!remoteId) continue;
        sql.map.run(row.type, row.id, remoteId, version, row.version);
        if (sql.done.run(row.type, row.id, row.version).changes === 0 && row.op === 'create') sql.createdNewer.run(row.type, row.id);
        pendingCreate.delete(`${row.type}/${row.id}`);
      }
      summary.pushed++;
    }
  });

  /**
   * Creates tried before without an answer: the ones the remote already holds are done (or, when the
   * local content moved on, become an update of what it holds). Returns the entries still to send.
   */
  async function settleEarlierTries(planned: PlannedEntry[]): Promise<PlannedEntry[]> {
    const tried = planned.filter((p) => p.row.op === 'create' && !p.remoteId && p.row.attempts > 0 && !refusedCreate.has(`${p.row.type}/${p.row.id}`));
    if (tried.length === 0) return planned;
    const lookup = await findLandedCreates(remote, tried);
    const settled = new Set<PlannedEntry>(lookup.landed.map(({ p }) => p));
    for (const [p, failure] of lookup.failed) {
      settled.add(p);
      if (failure.status === 401) summary.unauthorized = true;
      finish(p.row, 'later', failure.reason);
    }
    for (const p of lookup.ambiguous) {
      settled.add(p);
      const outcome = await handlePushConflict({ db, remote, store: opts.store, outbox: opts.outbox, ids, clock }, p, 412);
      if (outcome.state !== 'done') finish(p.row, outcome.state, outcome.reason);
    }
    applySuccesses(lookup.landed.map(({ p, resource }) => ({ p, res: { resource } })));
    return planned.filter((p) => !settled.has(p)).map((p) => lookup.replaced.get(p) ?? p);
  }

  /** Sends one Bundle; returns the entries to send again (transient failures, throttled ones). */
  async function sendBundle(planned: PlannedEntry[]): Promise<{ retry: PlannedEntry[]; throttled: PlannedEntry[]; retryAfterMs?: number }> {
    // The remote takes request bodies up to a size (Medplum: 1 MB): larger chunks go as several Bundles.
    const parts = splitBySize(planned, (p) => p.entry, maxBundleBytes);
    if (parts.length > 1) return sendParts(parts);
    for (const p of planned) {
      if (p.row.op === 'create' && !p.remoteId) {
        sql.attempt.run(p.row.type, p.row.id);
        p.row.attempts++;
        refusedCreate.delete(`${p.row.type}/${p.row.id}`);
      }
    }
    const bundle: Bundle = { resourceType: 'Bundle', type: 'batch', entry: planned.map((p) => p.entry) };
    // Not resent by the remote on a lost answer: creates in it may have landed (settleEarlierTries finds them).
    const res: RemoteResponse = await remote.request('POST', '', bundle, {}, { resend: false });
    const answers = res.status === 200 && (res.body as Bundle | undefined)?.resourceType === 'Bundle' ? ((res.body as Bundle).entry ?? []) : undefined;
    if (!answers && isTooLarge(res) && planned.length > 1) {
      // Refused whole for its size (nothing ran, so no create in it landed): halves.
      for (const p of planned) refusedCreate.add(`${p.row.type}/${p.row.id}`);
      const half = Math.ceil(planned.length / 2);
      return sendParts([planned.slice(0, half), planned.slice(half)]);
    }
    const retry: PlannedEntry[] = [];
    const throttled: PlannedEntry[] = [];
    const retryAfterMs = res.retryAfterMs;
    const successes: { p: PlannedEntry; res: BundleEntry }[] = [];
    const conflicts: { p: PlannedEntry; status: number }[] = [];
    planned.forEach((p, i) => {
      const answer = answers?.[i];
      const status = answers ? (answer ? Number.parseInt(answer.response?.status ?? '0', 10) || 0 : 0) : res.status;
      // A conditional delete finding nothing, or a delete of what is already gone: the remote agrees.
      if ((status >= 200 && status < 300) || (p.row.op === 'delete' && (status === 404 || status === 410))) {
        successes.push({ p, res: answer ?? {} });
        return;
      }
      // An answered refusal means the create did not land (a batch runs each entry on its own).
      if (answer && p.row.op === 'create') refusedCreate.add(`${p.row.type}/${p.row.id}`);
      const reason = answers ? outcomeText(answer) ?? `HTTP ${status}` : res.error;
      const outcome = classify(p.row, status);
      if (outcome === 'conflict-check') {
        conflicts.push({ p, status });
      } else if (outcome === 'throttled') {
        // Medplum's diagnostics say exactly when the window resets and how large it is.
        if (answer) remote.pacer.observe(undefined, parseThrottled(answer.response?.outcome));
        throttled.push(p);
        transientReason.set(p, reason ?? 'HTTP 429');
      } else if (outcome === 'later' && !summary.unauthorized) {
        // Sent again in a later round of this run (a lost answer: after looking for what landed).
        retry.push(p);
        transientReason.set(p, reason ?? `HTTP ${status}`);
      } else {
        finish(p.row, outcome, reason, retryAfterMs);
      }
    });
    applySuccesses(successes);
    for (const { p, status } of conflicts) {
      const outcome = await handlePushConflict({ db, remote, store: opts.store, outbox: opts.outbox, ids, clock }, p, status);
      if (outcome.state === 'done') {
        summary.pushed++;
        if (outcome.merged) summary.merged++;
        pendingCreate.delete(`${p.row.type}/${p.row.id}`);
      } else {
        finish(p.row, outcome.state, outcome.reason);
        if (outcome.state === 'later' && outcome.unauthorized) summary.unauthorized = true;
      }
    }
    return { retry, throttled, retryAfterMs };
  }

  async function sendParts(parts: PlannedEntry[][]): Promise<{ retry: PlannedEntry[]; throttled: PlannedEntry[]; retryAfterMs?: number }> {
    const out: { retry: PlannedEntry[]; throttled: PlannedEntry[]; retryAfterMs?: number } = { retry: [], throttled: [] };
    for (const part of parts) {
      const r = await sendBundle(part);
      out.retry.push(...r.retry);
      out.throttled.push(...r.throttled);
      if (r.retryAfterMs !== undefined) out.retryAfterMs = Math.max(out.retryAfterMs ?? 0, r.retryAfterMs);
    }
    return out;
  }

  /** Deletes of resources edited remotely since we last saw them go through the conflict path (push-conflict.ts). */
  function checkDeletes(planned: PlannedEntry[]): Promise<PlannedEntry[]> {
    return checkRemoteBeforeDelete({ db, remote, store: opts.store, outbox: opts.outbox, ids, clock }, planned, batchSize, (p, outcome) => {
      if (outcome.state === 'done') summary.pushed++;
      else finish(p.row, outcome.state, outcome.reason);
    });
  }

  /**
   * Sends planned entries in Bundles, `concurrency` at a time, each Bundle no larger than the quota
   * the remote announced leaves (waiting for the window to reset when nothing fits). Entries refused
   * for the quota go again after the reset; other transient failures get RETRY_ROUNDS rounds.
   */
  async function sendAll(planned: PlannedEntry[]): Promise<void> {
    const pacer = remote.pacer;
    let queue = planned;
    let round = 0;
    while (queue.length > 0 && !summary.unauthorized && !aborted()) {
      queue = await settleEarlierTries(queue);
      const retry: PlannedEntry[] = [];
      const throttled: PlannedEntry[] = [];
      let wait: number | undefined;
      const paced = { pacer, maxWaitMs: remote.maxQuotaWaitMs, maxWaits: MAX_QUOTA_WAITS, batchSize, concurrency, cost: QUOTA_COST.write, stopped: () => summary.unauthorized || aborted() };
      const { unsent, stalled } = await sendPaced(queue, paced, async (chunk) => {
        const r = await sendBundle(chunk);
        retry.push(...r.retry);
        throttled.push(...r.throttled);
        if (r.retryAfterMs !== undefined) wait = Math.max(wait ?? 0, r.retryAfterMs);
      });
      if (aborted()) return;
      if (stalled) {
        const resetIn = Math.ceil(pacer.exhaustedForMs() / 1000);
        const why = `The remote's quota is spent${resetIn ? ` for another ${resetIn} s` : ''}`;
        for (const p of [...unsent, ...throttled, ...retry]) finish(p.row, 'later', why, pacer.exhaustedForMs());
        return;
      }
      // Refused for the quota with no reset announced (not Medplum): a transient failure like the others.
      if (throttled.length > 0 && pacer.exhaustedForMs() === 0) retry.push(...throttled.splice(0));
      if (retry.length > 0) {
        round++;
        if (round >= RETRY_ROUNDS || summary.unauthorized) {
          for (const p of retry.splice(0)) finish(p.row, 'later', transientReason.get(p) ?? 'Transient failure', wait);
        } else if (throttled.length === 0) {
          await sleep(backoffMs(round, wait, 250, 30_000, random));
        }
      }
      // Entries the quota refused go again once its window resets (sendPaced waits for it).
      queue = [...throttled, ...retry];
    }
  }

  // Rounds: every change whose dependencies are on the remote goes now; the rest wait for the next round.
  let queue = all.map(load).filter((l): l is Loaded => l !== undefined);
  while (queue.length > 0 && !summary.unauthorized && !aborted()) {
    const ready: PlannedEntry[] = [];
    const waiting: Loaded[] = [];
    for (const item of queue) {
      const p = plan(item);
      if (p === 'wait') waiting.push(item);
      else if (p) ready.push(p);
    }
    if (ready.length === 0 && waiting.length > 0) {
      // A cycle of creates: leave them for a person (not expected from FHIR data entry).
      for (const item of waiting) finish(item.row, 'held', 'Circular references between unsent resources');
      break;
    }
    await sendAll(await checkDeletes(ready));
    queue = waiting;
  }
  summary.failures = ledger.list();
  return summary;
}
