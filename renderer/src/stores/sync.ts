// The sync panel's store: the host's `outpost/sync/*` routes (shared/contract/sync.ts): status (online,
// last sync, progress, pending / held changes, conflicts), "sync now", conflict resolution (keep mine / keep theirs / merge by field) and, for project admins, the remote.
// Secrets go to the host and are never read back: the store keeps none of them.
import type { MedplumClient } from '@medplum/core';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { contract } from '../../../shared/contract/index.ts';
import type { RemoteInput, SyncChange, SyncConflictView, SyncProgress, SyncRunSummary, SyncStatus } from '../../../shared/contract/index.ts';
import type { HostApi } from '../api/host-api.ts';
import { resolveNames } from '../api/names.ts';
import { errorText, isNotFound, outcomeOf } from '../api/outcome.ts';

export type { RemoteInput, SyncChange, SyncProgress, SyncStatus };
export type SyncConflict = SyncConflictView;
/** The remote as the status describes it: never a token or a secret. */
export type SyncRemote = NonNullable<SyncStatus['remote']>;

/** What the panel shows of the last run: its summary (a stored one may lack newer fields), or that one was already running. */
export type RunOutcome = Partial<SyncRunSummary> & { alreadyRunning?: boolean };

export type Keep = 'local' | 'remote' | 'merge';
export type FieldChoices = Record<string, 'local' | 'remote'>;

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
  lastRun?: RunOutcome;
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

export function syncSummaryText(summary: RunOutcome): string {
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
export function syncRunProblems(summary: RunOutcome | undefined): string[] {
  if (!summary) return [];
  const problems = Array.isArray(summary.errors) ? summary.errors.filter((e): e is string => typeof e === 'string' && e.length > 0) : [];
  if (summary.unauthorized && !problems.some((p) => /credential|token|unauthori[sz]ed|401/i.test(p))) {
    problems.unshift('The server refused the credentials: an administrator should check the access token or client secret.');
  }
  return problems;
}

export function createSyncStore(medplum: MedplumClient, api: HostApi): StoreApi<SyncState> {
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
        const status = await api.call(contract.sync.status);
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
        const summary = await api.call(contract.sync.run, { body: options ?? {} });
        if (gen !== generation) return;
        set({ starting: false, lastRun: summary });
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
        await api.call(contract.sync.resolve, { params: { conflictId }, body: keep === 'merge' ? { keep, fields: fields ?? {} } : { keep } });
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
        await api.call(contract.sync.setRemote, { body: input });
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
        await api.call(contract.sync.removeRemote);
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
