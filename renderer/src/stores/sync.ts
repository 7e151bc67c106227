// The sync panel's store: the host's `outpost/sync/*` routes (docs: /work/notes/sync-contract.md, owned by
// the sync runner): status (online, last sync, progress, pending / held changes, conflicts), "sync now",
// conflict resolution (keep mine / keep theirs / merge by field) and, for project admins, the remote.
// Secrets go to the host and are never read back: the store keeps none of them.
import type { MedplumClient } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { SyncProgress } from '../../../shared/contract/sync.ts';
import { resolveNames } from '../api/names.ts';
import { errorText, isNotFound, outcomeOf } from '../api/outcome.ts';

export const SYNC_PATH = 'outpost/sync';

export type { SyncProgress };

/** One outbox row, as `GET outpost/sync/status` lists it under `pending` and `held`. */
export interface SyncChange {
  id: string;
  resourceType: string;
  resourceId: string;
  operation: 'create' | 'update' | 'delete' | string;
  changedAt?: string;
  state: 'pending' | 'held' | 'quarantined' | 'conflict' | string;
  reason?: string;
}

export interface SyncConflict {
  id: string;
  resourceType: string;
  resourceId: string;
  reason: 'edited-both' | 'deleted-remotely' | 'deleted-locally' | 'pulled-over-pending' | string;
  /** Paths that differ ('name', 'address.city'...); computed from local and remote when the host sends none. */
  fields: string[];
  local: Resource | null;
  remote: Resource | null;
  base: Resource | null;
  createdAt?: string;
}

/** The remote as the host describes it: never a token or a secret. */
export interface SyncRemote {
  baseUrl: string;
  auth: 'token' | 'client-credentials';
  clientId?: string;
}

export interface SyncStatus {
  online: boolean;
  running: boolean;
  lastSync?: string;
  /** The last finished run's summary (whoever started it: this window, another, the background loop). */
  lastRun?: SyncRunSummary;
  progress?: SyncProgress;
  remote?: SyncRemote;
  pending: SyncChange[];
  held: SyncChange[];
  conflicts: SyncConflict[];
  /** Complete counts when the host lists only the first rows (defaults to the lists' lengths). */
  counts: { pending: number; held: number };
}

/** What `POST outpost/sync/run` answers (the runner's summary; fields the UI does not know are kept). */
export interface SyncRunSummary {
  pushed?: number;
  pulled?: number;
  conflicts?: number;
  held?: number;
  quarantined?: number;
  /** Changes left for a later run (the server or the network failed for now). */
  retryLater?: number;
  /** The server refused the credentials. */
  unauthorized?: boolean;
  /** What went wrong, in words. */
  errors?: string[];
  /** The run failed (unreachable, credentials refused, stopped); false with errors: some resources were held. */
  failed?: boolean;
  alreadyRunning?: boolean;
  [key: string]: unknown;
}

export type Keep = 'local' | 'remote' | 'merge';
export type FieldChoices = Record<string, 'local' | 'remote'>;

/** `PUT outpost/sync/remote`: a bearer token, or a client id and secret (client credentials). */
export type RemoteInput = { baseUrl: string; token: string } | { baseUrl: string; clientId: string; clientSecret: string; tokenUrl?: string };

export interface ActionAnswer {
  ok: boolean;
  message?: string;
  error?: string;
}

export interface SyncState {
  status?: SyncStatus;
  /** The host has no sync routes at all (404 on status). */
  unavailable: boolean;
  loading: boolean;
  loaded: boolean;
  error?: string;
  /** A "Sync now" this window started is in flight. */
  starting: boolean;
  lastRun?: SyncRunSummary;
  /** "Sync now" found a sync already running (409): the panel follows it and shows its result when it ends. */
  following: boolean;
  runError?: string;
  /** Latest progress: from `sync-progress` events (Electron) or from the status while running (browser). */
  progress?: SyncProgress;
  /** Conflict id being resolved. */
  resolving?: string;
  /** Errors of a resolve, by conflict id. */
  resolveErrors: Record<string, string>;
  resolvedMessage?: string;
  /** The answer to the last remote change (kept here: the form moves once a remote exists). */
  remoteResult?: ActionAnswer;
  /** Names of the records the lists show (Type/id -> name), as the session may read them. */
  names: Record<string, string>;
  load(options?: { quiet?: boolean }): Promise<void>;
  run(options?: { pullOnly?: boolean; pushOnly?: boolean }): Promise<void>;
  resolve(conflictId: string, keep: Keep, fields?: FieldChoices): Promise<ActionAnswer>;
  saveRemote(input: RemoteInput): Promise<ActionAnswer>;
  removeRemote(): Promise<ActionAnswer>;
  setProgress(progress: SyncProgress | undefined): void;
  reset(): void;
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Top-level elements where two resources differ (meta and text excluded: they differ by nature). */
export function differingPaths(a: Resource, b: Resource): string[] {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].filter((k) => k !== 'meta' && k !== 'text');
  return keys.filter((k) => JSON.stringify(left[k]) !== JSON.stringify(right[k]));
}

function normalizeConflict(raw: Partial<SyncConflict>): SyncConflict {
  const local = (raw.local ?? null) as Resource | null;
  const remote = (raw.remote ?? null) as Resource | null;
  const fields = list<string>(raw.fields);
  return {
    id: String(raw.id),
    resourceType: String(raw.resourceType ?? local?.resourceType ?? remote?.resourceType ?? ''),
    resourceId: String(raw.resourceId ?? local?.id ?? remote?.id ?? ''),
    reason: String(raw.reason ?? 'edited-both'),
    fields: fields.length || !local || !remote ? fields : differingPaths(local, remote),
    local,
    remote,
    base: (raw.base ?? null) as Resource | null,
    createdAt: raw.createdAt,
  };
}

/** The host's answer, with every list present (an older or partial host may leave some out). */
export function normalizeStatus(raw: Partial<Omit<SyncStatus, 'counts'>> & { counts?: Partial<SyncStatus['counts']> } | undefined): SyncStatus {
  const pending = list<SyncChange>(raw?.pending);
  const held = list<SyncChange>(raw?.held);
  const count = (n: unknown, fallback: number): number => (typeof n === 'number' && n >= fallback ? n : fallback);
  return {
    online: Boolean(raw?.online),
    running: Boolean(raw?.running),
    lastSync: raw?.lastSync,
    lastRun: raw?.lastRun && typeof raw.lastRun === 'object' ? raw.lastRun : undefined,
    progress: raw?.progress,
    remote: raw?.remote?.baseUrl ? raw.remote : undefined,
    pending,
    held,
    conflicts: list<Partial<SyncConflict>>(raw?.conflicts).map(normalizeConflict),
    counts: { pending: count(raw?.counts?.pending, pending.length), held: count(raw?.counts?.held, held.length) },
  };
}

export function syncSummaryText(summary: SyncRunSummary): string {
  if (summary.alreadyRunning) {
    return 'A sync was already running; its result will show here when it ends.';
  }
  const parts = [
    `${summary.pushed ?? 0} sent`,
    `${summary.pulled ?? 0} received`,
    summary.conflicts ? `${summary.conflicts} conflict${summary.conflicts === 1 ? '' : 's'}` : '',
    summary.held ? `${summary.held} held` : '',
    summary.quarantined ? `${summary.quarantined} quarantined` : '',
    summary.retryLater ? `${summary.retryLater} to retry later` : '',
  ].filter(Boolean);
  return `Sync finished: ${parts.join(', ')}.`;
}

/** What went wrong in a run that still finished: refused credentials, a step's error. */
export function syncRunProblems(summary: SyncRunSummary | undefined): string[] {
  if (!summary) return [];
  const problems = Array.isArray(summary.errors) ? summary.errors.filter((e): e is string => typeof e === 'string' && e.length > 0) : [];
  if (summary.unauthorized && !problems.some((p) => /credential|token|unauthori[sz]ed|401/i.test(p))) {
    problems.unshift('The server refused the credentials: an administrator should check the access token or client secret.');
  }
  return problems;
}

export function createSyncStore(medplum: MedplumClient): StoreApi<SyncState> {
  // Each load has a number; an older answer arriving late (a poll overtaken by the final load) is dropped.
  let issued = 0;
  let generation = 0;
  return createStore<SyncState>((set, get) => ({
    unavailable: false,
    loading: false,
    loaded: false,
    starting: false,
    following: false,
    resolveErrors: {},
    names: {},

    async load(options) {
      const mine = ++issued;
      const gen = generation;
      if (!options?.quiet) {
        set({ loading: true, error: undefined });
      }
      try {
        const status = normalizeStatus((await medplum.get(`${SYNC_PATH}/status`, { cache: 'no-cache' })) as Parameters<typeof normalizeStatus>[0]);
        if (mine !== issued || gen !== generation) return;
        // Progress from the status only while a run is on; events (Electron) may be fresher.
        const progress = status.running ? (status.progress ?? get().progress) : undefined;
        const followed = get().following && !status.running ? { following: false, lastRun: status.lastRun ?? {} } : {};
        set({ status, progress, loading: false, loaded: true, unavailable: false, error: undefined, ...followed });
        const refs = [...status.pending, ...status.held].map((c) => `${c.resourceType}/${c.resourceId}`);
        const names = await resolveNames(medplum, refs, get().names);
        if (Object.keys(names).length && gen === generation) set({ names: { ...get().names, ...names } });
      } catch (err) {
        if (mine !== issued || gen !== generation) return;
        set({ loading: false, loaded: true, unavailable: isNotFound(err), error: isNotFound(err) ? undefined : errorText(err) });
      }
    },

    async run(options) {
      const gen = generation;
      set({ starting: true, runError: undefined, lastRun: undefined, resolvedMessage: undefined });
      // Shows "running" at once; the page polls the status while it runs.
      const status = get().status;
      if (status) set({ status: { ...status, running: true } });
      try {
        const summary = (await medplum.post(`${SYNC_PATH}/run`, options ?? {})) as SyncRunSummary;
        if (gen !== generation) return;
        set({ starting: false, lastRun: summary ?? {} });
      } catch (err) {
        if (gen !== generation) return;
        if (outcomeOf(err)?.issue?.[0]?.code === 'conflict') {
          // Another sync is on (the background loop's, another window's): it does what this one would; follow it.
          set({ starting: false, following: true, lastRun: { alreadyRunning: true } });
        } else {
          set({ starting: false, runError: errorText(err) });
        }
      }
      await get().load({ quiet: true });
    },

    async resolve(conflictId, keep, fields) {
      const gen = generation;
      set({ resolving: conflictId, resolvedMessage: undefined, resolveErrors: { ...get().resolveErrors, [conflictId]: '' } });
      try {
        await medplum.post(`${SYNC_PATH}/conflicts/${encodeURIComponent(conflictId)}/resolve`, keep === 'merge' ? { keep, fields: fields ?? {} } : { keep });
        if (gen !== generation) return { ok: false };
        const words = keep === 'local' ? 'kept the version on this computer' : keep === 'remote' ? "kept the server's version" : 'merged field by field';
        const message = `Conflict resolved: ${words}. It goes to the server with the next sync.`;
        const { [conflictId]: _done, ...rest } = get().resolveErrors;
        set({ resolving: undefined, resolvedMessage: message, resolveErrors: rest });
        await get().load({ quiet: true });
        return { ok: true, message };
      } catch (err) {
        if (gen !== generation) return { ok: false };
        const error = errorText(err);
        set({ resolving: undefined, resolveErrors: { ...get().resolveErrors, [conflictId]: error } });
        return { ok: false, error };
      }
    },

    async saveRemote(input) {
      let answer: ActionAnswer;
      try {
        await medplum.put(`${SYNC_PATH}/remote`, input);
        answer = { ok: true, message: `Remote saved: ${input.baseUrl}` };
      } catch (err) {
        answer = { ok: false, error: errorText(err) };
      }
      set({ remoteResult: answer });
      if (answer.ok) await get().load({ quiet: true });
      return answer;
    },

    async removeRemote() {
      let answer: ActionAnswer;
      try {
        await medplum.delete(`${SYNC_PATH}/remote`);
        answer = { ok: true, message: 'Remote removed: changes stay on this computer.' };
      } catch (err) {
        answer = { ok: false, error: errorText(err) };
      }
      set({ remoteResult: answer });
      if (answer.ok) await get().load({ quiet: true });
      return answer;
    },

    setProgress(progress) {
      // An event means a run is on (perhaps the background loop's): mark it, so the panel follows it
      // until the status says it ended.
      const status = get().status;
      set({ progress, ...(progress && status && !status.running ? { status: { ...status, running: true } } : {}) });
    },

    reset() {
      generation++;
      issued++;
      set({
        status: undefined,
        unavailable: false,
        loading: false,
        loaded: false,
        error: undefined,
        starting: false,
        following: false,
        lastRun: undefined,
        runError: undefined,
        progress: undefined,
        resolving: undefined,
        resolveErrors: {},
        resolvedMessage: undefined,
        remoteResult: undefined,
        names: {},
      });
    },
  }));
}
