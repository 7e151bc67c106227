// Writes one page of remote resources into the local store, in ONE SQLite transaction together with
// the page's watermark and resume link (pull-state.ts): a page is wholly applied or not at all.
//
// Per resource:
//   - dedupe: a remote version already held (sync_id_map.remote_version, or seen earlier in this run)
//     is skipped without a write (the overlap window and resumed pages re-read some);
//   - ids: remote id -> local id by sync_id_map's reverse lookup; an unknown remote id is stored under
//     the same id and mapped to itself. References `Type/remoteId` are rewritten to local ids;
//   - secrets: a User never takes passwordHash or MFA secrets from the remote, a ClientApplication never
//     its secret (Medplum does not send the former; a foreign server might); a User keeps the local
//     ones it has (the verifier remote login keeps, so sign-ins keep working offline);
//   - a resource with a local outbox row (pending, held, quarantined or in conflict) is never
//     overwritten: it becomes a conflict ('pulled-over-pending') recorded through conflicts.ts, and
//     sync_id_map keeps the older remote version so the local change's push still If-Matches it;
//   - otherwise written through the store (structural validation, as the bulk importer does: the
//     remote validated it already) inside outbox.remote(), so it is not recorded as a local change,
//     then sync_id_map gets the remote versionId (push's If-Match) and the local base version.
// One resource the store refuses is counted and reported, the rest of the page still lands. A page is
// first applied without a savepoint per write (SQLite journals each savepoint's pages and walks them at
// its release: a savepoint per resource cost a pull a fifth of its time); when a write is refused, that
// attempt is rolled back, the resources get back what it changed in them, and the page is applied
// again with a savepoint around each write. References are looked up once per pull (rememberedLocalRef).
import type { Resource } from '@medplum/fhirtypes';
import { outcomeText } from '../../../../shared/errors.ts';
import type { Replica } from '../../access/index.ts';
import type { Db } from '../../db/types.ts';
import { conflictOf, recordConflict } from '../conflicts/conflicts.ts';
import type { Outbox } from '../outbox.ts';
import { prepareWatermarkStatements } from './pull-state.ts';
import { forEachReference, LITERAL_REFERENCE as REFERENCE } from '../references.ts';
import { resourceRow } from '../../db/resources.ts';

export interface PageResult {
  /** Resources written locally. */
  written: number;
  /** Skipped: this remote version is already held. */
  deduped: number;
  conflicts: number;
  failed: { type: string; id: string; message: string }[];
}

export interface PageCursor {
  /** Newest remote lastUpdated of the page (ISO), moves the watermark. */
  watermark: string | null;
  /** The `next` link to resume from, or null when this was the last page. */
  resume: string | null;
}

/** Elements that are secrets: never stored from a remote (Medplum does not send them; another server might). */
const SECRETS: Record<string, string[]> = {
  User: ['passwordHash', 'mfaSecret'],
  ClientApplication: ['secret', 'retiringSecret'],
};

export interface PageWriterOptions {
  db: Db;
  store: Replica;
  outbox: Outbox;
  /** The local project written into. */
  project: string;
  clock: () => Date;
}

export type PageWriter = ReturnType<typeof createPageWriter>;

/** A store write refused during a page's first attempt (no savepoints): the page is applied again, carefully. */
class WriteRefused extends Error {}

/** One application of a page: with a savepoint per write or not, and how to give the resources back what it changed. */
interface Attempt {
  careful: boolean;
  undo: (() => void)[];
}

/** References one writer (one pull) remembers before it clears the memory: ~100 bytes each. */
const MAX_REMEMBERED_REFERENCES = 100_000;

export function createPageWriter(opts: PageWriterOptions) {
  const { db, store, outbox, project, clock } = opts;
  const ctx = { project, validation: 'structure' as const };
  const sql = {
    byRemote: db.prepare<[string, string], { local_id: string; remote_version: string | null }>(
      'SELECT local_id, remote_version FROM sync_id_map_by_remote WHERE type = ? AND remote_id = ?',
    ),
    pending: db.prepare<[string, string], { op: string; state: string }>('SELECT op, state FROM sync_outbox WHERE type = ? AND id = ?'),
    baseVersion: db.prepare<[string, string], { base_version: number | null }>('SELECT base_version FROM sync_id_map WHERE type = ? AND local_id = ?'),
    map: db.prepare<[string, string, string, string | null, number | null]>(
      'INSERT OR REPLACE INTO sync_id_map (type, local_id, remote_id, remote_version, base_version) VALUES (?, ?, ?, ?, ?)',
    ),
    ...prepareWatermarkStatements(db),
  };
  /** `type/id@version` applied by committed pages of this pull (dedupe across overlapping pages). */
  const seen = new Set<string>();

  function localRef(ref: string): string | undefined {
    const m = REFERENCE.exec(ref);
    if (!m) return undefined;
    const row = sql.byRemote.get(m[1], m[2]);
    return row && row.local_id !== m[2] ? `${m[1]}/${row.local_id}` : undefined;
  }

  /**
   * References this pull found kept as they are (the remote id is the local one, or unknown here),
   * remembered: a patient is referenced from every page of its records. That answer holds for the whole
   * pull: the only maps written meanwhile are this writer's, of a new remote id to itself, and the
   * removals of reconciliation, and neither changes it. A reference to a resource known by another id
   * here is looked up each time (a removal changes that answer).
   */
  const keptRefs = new Set<string>();
  function rememberedLocalRef(ref: string): string | undefined {
    if (keptRefs.has(ref)) return undefined;
    const local = localRef(ref);
    if (local === undefined) {
      if (keptRefs.size >= MAX_REMEMBERED_REFERENCES) keptRefs.clear();
      keptRefs.add(ref);
    }
    return local;
  }

  function readLocal(type: string, id: string): Resource | null {
    const row = resourceRow(db, type, id);
    return row && !row.deleted ? (JSON.parse(row.content) as Resource) : null;
  }

  function readBase(type: string, id: string): Resource | null {
    const base = sql.baseVersion.get(type, id)?.base_version;
    if (base === null || base === undefined) return null;
    try {
      return store.vread(type, id, String(base), { project });
    } catch {
      return null;
    }
  }

  function applyOne(remote: Resource, remoteId: string, result: PageResult, pageSeen: Set<string>, attempt: Attempt): void {
    const type = remote.resourceType;
    const version = remote.meta?.versionId ?? null;
    const key = `${type}/${remoteId}@${version}`;
    const mapped = sql.byRemote.get(type, remoteId);
    if (seen.has(key) || pageSeen.has(key) || (version !== null && mapped?.remote_version === version)) {
      result.deduped++;
      return;
    }
    pageSeen.add(key);
    const localId = mapped?.local_id ?? remoteId;
    const pending = sql.pending.get(type, localId);
    if (pending) {
      // Already recorded for this very remote version: nothing new (the conflict id stays stable).
      if (conflictOf(db, type, localId)?.remoteVersion === version && pending.state === 'conflict') {
        result.deduped++;
        return;
      }
      recordConflict(db, { type, id: localId, project, reason: 'pulled-over-pending', local: readLocal(type, localId), remote, base: readBase(type, localId) }, clock().getTime());
      result.conflicts++;
      return;
    }
    // The page's resources are ours (parsed from the response): adjusted in place, no copy; what is
    // changed is noted, for a page applied again.
    const incoming = remote as Resource & Record<string, unknown>;
    const { undo } = attempt;
    incoming.id = localId;
    undo.push(() => (incoming.id = remoteId));
    const kept = SECRETS[type] && type === 'User' ? (readLocal(type, localId) as Record<string, unknown> | null) : null;
    for (const k of SECRETS[type] ?? []) {
      const before = incoming[k];
      undo.push(() => (before === undefined ? delete incoming[k] : (incoming[k] = before)));
      if (kept?.[k] !== undefined) incoming[k] = kept[k];
      else delete incoming[k];
    }
    forEachReference(incoming, (ref, set) => {
      const local = rememberedLocalRef(ref);
      if (local !== undefined) {
        set(local);
        undo.push(() => set(ref));
      }
    });
    const update = attempt.careful ? store.update : store.inCallerTransaction.update;
    let written;
    try {
      written = outbox.remote(() => update(incoming, undefined, ctx));
    } catch (err) {
      if (!attempt.careful) throw new WriteRefused();
      result.failed.push({ type, id: remoteId, message: outcomeText(err, String(err)) });
      return;
    }
    sql.map.run(type, localId, remoteId, version, Number(written.resource.meta?.versionId));
    result.written++;
  }

  /** Applies the page in one transaction (see the top of this file); returns what it did and the versions it applied. */
  function apply(type: string, resources: Resource[], remoteIds: string[], cursor: PageCursor | undefined, attempt: Attempt): { result: PageResult; pageSeen: Set<string> } {
    const result: PageResult = { written: 0, deduped: 0, conflicts: 0, failed: [] };
    const pageSeen = new Set<string>();
    db.transaction(() => {
      // The page's index rows written once, sorted, at its end (a refused resource's are dropped with its savepoint).
      store.deferIndexing(() => {
        resources.forEach((r, i) => applyOne(r, remoteIds[i], result, pageSeen, attempt));
      });
      if (cursor) {
        sql.page.run({ project, type, watermark: cursor.watermark, resume: cursor.resume, pulled: result.written, now: clock().getTime() });
      }
    })();
    return { result, pageSeen };
  }

  return {
    /**
     * Applies `resources` and moves the type's watermark/resume link (when a cursor is given: a repair
     * of gaps moves neither), atomically. Throws (and changes nothing) when the transaction fails.
     */
    writePage(type: string, resources: Resource[], cursor?: PageCursor): PageResult {
      const remoteIds = resources.map((r) => r.id as string);
      const fast: Attempt = { careful: false, undo: [] };
      let applied;
      try {
        applied = apply(type, resources, remoteIds, cursor, fast);
      } catch (err) {
        if (!(err instanceof WriteRefused)) throw err;
        for (let i = fast.undo.length - 1; i >= 0; i--) fast.undo[i]();
        applied = apply(type, resources, remoteIds, cursor, { careful: true, undo: [] });
      }
      // Only after the commit: a page that rolled back must be read again in full.
      for (const k of applied.pageSeen) seen.add(k);
      return applied.result;
    },
    startRun(type: string): void {
      sql.startRun.run(project, type, clock().getTime());
    },
    markBootstrapped(type: string): void {
      sql.bootstrapped.run(clock().getTime(), project, type);
    },
  };
}
