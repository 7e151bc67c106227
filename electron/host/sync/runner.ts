// One sync run of a project: push the outbox -> push the AuditEvents -> pull, one run at a time (in this
// process, and across processes through the lock row of run-lock.ts, so the CLI and the app never sync
// at once). Progress goes to `onProgress` listeners and to the renderer (`sync-progress` events). The
// background loop probes each configured remote (connectivity.ts) and syncs the ones that answer, on
// an interval, backing off while offline; it never blocks a request and stops with stop().
import type { EmitBridgeEvent } from '../../../shared/contract/bridge.ts';
// What one run did (SyncRunSummary) is declared once, in the contract the sync routes and the sync panel share.
import type { SyncRunSummary } from '../../../shared/contract/sync.ts';
import { FhirError, errors, outcome, outcomeText } from '../../../shared/errors.ts';
import type { Replica } from '../access/index.ts';
import type { Db } from '../db/types.ts';
import type { RemoteSettings, SyncConfig } from './config.ts';
import { offlineBackoffMs, probeRemote } from './remote/connectivity.ts';
import { tokenSourceFor, type GetToken } from './remote/credentials.ts';
import type { Outbox } from './outbox.ts';
import { createFailureLedger, failureLines, type FailureGroup } from './failures.ts';
import { createRemote, type Remote, type RemoteConfig } from './remote/remote.ts';
import { createRunLock, type RunLockOptions } from './run-lock.ts';
import { defaultSteps, type SyncProgress, type SyncSteps } from './steps.ts';

export type { SyncProgress, SyncSteps } from './steps.ts';

export interface SyncRunnerOptions {
  /** The host's raw store (pull writes through it inside outbox.remote). */
  store: Replica;
  db: Db;
  outbox: Outbox;
  config: SyncConfig;
  clock?: () => Date;
  fetch?: typeof fetch;
  emit?: EmitBridgeEvent;
  /** The push/audit/pull steps (default: push.ts, audit-push.ts, pull.ts); the bench and tests may wrap them. */
  steps?: Partial<SyncSteps>;
  /** Options of the remote client (retries, sleep) for every run. */
  remoteOptions?: Partial<Omit<RemoteConfig, 'baseUrl' | 'token' | 'getToken' | 'fetch'>>;
  lock?: RunLockOptions;
  /** Resources per pulled page, each written in one transaction (default pull.ts's 1000). */
  pullPageSize?: number;
}

export interface RunOptions {
  /** The project to sync (default: the only configured remote's project). */
  project?: string;
  pullOnly?: boolean;
  pushOnly?: boolean;
  /** Pull the whole project (tenant bootstrap of an empty workstation, resumable) instead of what changed. */
  tenant?: boolean;
  /** A remote given for this run only (the CLI's --remote/--token), instead of the configured one. */
  remote?: RemoteSettings;
  signal?: AbortSignal;
}

export type SyncRunResult = SyncRunSummary | { alreadyRunning: true; project?: string };

export interface SyncRunnerStatus {
  online: boolean;
  running: boolean;
  lastSync?: string;
  lastResult?: SyncRunSummary;
  progress?: SyncProgress;
}

export interface BackgroundOptions {
  /** Between runs while online (default 5 minutes). */
  intervalMs?: number;
  /** First retry after a failed probe, doubled up to intervalMs (default 15 s). */
  offlineRetryMs?: number;
  /** Before the first probe (default 2 s, so start-up is not slowed). */
  initialDelayMs?: number;
}

export interface SyncRunner {
  run(opts?: RunOptions): Promise<SyncRunResult>;
  status(project: string): SyncRunnerStatus;
  /** Probes the project's remote now and remembers the answer. */
  probe(project: string): Promise<boolean>;
  isRunning(): boolean;
  onProgress(listener: (p: SyncProgress & { project: string }) => void): () => void;
  startBackground(options?: BackgroundOptions): void;
  /** Stops the background loop and aborts a running run (host.close()). */
  stop(): void;
}

function emptySummary(project: string, now: Date): SyncRunSummary {
  return {
    project, pushed: 0, merged: 0, pulled: 0, deleted: 0, purged: 0, conflicts: 0, held: 0, quarantined: 0, retryLater: 0, keptLocal: 0,
    auditPushed: 0, auditFailed: 0, quotaWaitMs: 0, unauthorized: false, errors: [], failed: false, skipped: [], startedAt: now.toISOString(), finishedAt: now.toISOString(),
  };
}

/** A step's failures in words: push/audit groups (failures.ts), or pull's resources the store refused. */
function failureText(phase: keyof SyncSteps, value: unknown[]): string[] {
  if (phase === 'pull') {
    const ledger = createFailureLedger();
    for (const f of value as { type: string; id: string; message: string }[]) ledger.add('not stored here', f.message, `${f.type}/${f.id}`);
    return failureLines(ledger.list(), 'resource');
  }
  return failureLines(value as FailureGroup[], phase === 'auditPush' ? 'AuditEvent' : 'change');
}

function describe(err: unknown): string {
  if (err instanceof FhirError) {
    return outcomeText(err, err.message);
  }
  return (err as Error)?.message ?? String(err);
}

export function createSyncRunner(options: SyncRunnerOptions): SyncRunner {
  const { db, store, outbox, config } = options;
  const clock = options.clock ?? (() => new Date());
  const steps: SyncSteps = { ...defaultSteps, ...options.steps };
  const lock = createRunLock(db, options.lock);
  const online = new Map<string, boolean>();
  const listeners = new Set<(p: SyncProgress & { project: string }) => void>();
  const sql = {
    state: db.prepare<[string], { last_sync: string | null; last_result: string | null }>('SELECT last_sync, last_result FROM sync_state WHERE project = ?'),
    saveState: db.prepare<[string, string, string]>('INSERT OR REPLACE INTO sync_state (project, last_sync, last_result) VALUES (?, ?, ?)'),
    // A run that failed records its result, never a new "last sync".
    saveFailedResult: db.prepare<[string, string]>(
      'INSERT INTO sync_state (project, last_sync, last_result) VALUES (?, NULL, ?) ON CONFLICT(project) DO UPDATE SET last_result = excluded.last_result',
    ),
    outboxStates: db.prepare<[string], { state: string; n: number }>('SELECT state, count(*) AS n FROM sync_outbox WHERE project = ? GROUP BY state'),
    conflicts: db.prepare<[string], number>('SELECT count(*) FROM sync_conflict WHERE project = ?').pluck(),
  };
  let current: { project: string; abort: AbortController; progress?: SyncProgress } | undefined;
  let background: { timer?: ReturnType<typeof setTimeout>; stopped: boolean } | undefined;

  function report(project: string, progress: SyncProgress): void {
    if (current) {
      current.progress = progress;
    }
    for (const listener of listeners) {
      listener({ ...progress, project });
    }
    options.emit?.('sync-progress', { phase: progress.phase, done: progress.done, total: progress.total, message: progress.message });
  }

  function projectOf(opts: RunOptions): string {
    if (opts.project) {
      return opts.project;
    }
    const remotes = config.list();
    if (remotes.length !== 1) {
      throw errors.badRequest(remotes.length ? 'Several projects have a remote: name the project' : 'No remote is configured');
    }
    return remotes[0].project;
  }

  // Token sources outlive runs, so a client-credentials token is fetched once and reused until it
  // expires (or the remote refuses it); a changed remote gets a new one.
  const tokenSources = new Map<string, { settings: string; getToken: GetToken }>();

  function remoteFor(project: string, settings: RemoteSettings, signal?: AbortSignal): Remote {
    const key = JSON.stringify(settings);
    let source = tokenSources.get(project);
    if (source?.settings !== key) {
      source = { settings: key, getToken: tokenSourceFor(settings, { fetch: options.fetch, clock }) };
      tokenSources.set(project, source);
    }
    const getToken = source.getToken;
    return createRemote({ ...options.remoteOptions, baseUrl: settings.baseUrl, getToken, fetch: options.fetch, signal });
  }

  function finishCounts(summary: SyncRunSummary): void {
    for (const { state, n } of sql.outboxStates.all(summary.project)) {
      if (state === 'held') summary.held = n;
      if (state === 'quarantined') summary.quarantined = n;
    }
    summary.conflicts = sql.conflicts.get(summary.project) ?? 0;
  }

  async function execute(project: string, settings: RemoteSettings, opts: RunOptions, abort: AbortController): Promise<SyncRunSummary> {
    const summary = emptySummary(project, clock());
    const remote = remoteFor(project, settings, abort.signal);
    const ctx = { db, store, outbox, remote, project, clock, signal: abort.signal, tenant: opts.tenant, pullPageSize: options.pullPageSize, onProgress: (p: SyncProgress) => report(project, p) };
    const phases: (keyof SyncSteps)[] = opts.pullOnly ? ['pull'] : opts.pushOnly ? ['push', 'auditPush'] : ['push', 'auditPush', 'pull'];
    // One cheap request first: offline, the run says so instead of leaving every change to back off.
    const reachable = await probeRemote(settings.baseUrl, { fetch: options.fetch });
    online.set(project, reachable);
    // The run failed (no new "last sync"): the remote unreachable or refusing the credentials, a phase
    // that threw, a stop. Resources the remote refused one by one (held, with reasons) do not fail it.
    let failed = !reachable;
    if (!reachable) {
      summary.errors.push(`Cannot reach the remote ${settings.baseUrl} (offline?)`);
      phases.length = 0;
    }
    for (const phase of phases) {
      if (abort.signal.aborted || summary.unauthorized) {
        break;
      }
      try {
        const result = await steps[phase](ctx);
        if (result === undefined) {
          summary.skipped.push(phase);
          continue;
        }
        for (const [key, value] of Object.entries(result)) {
          const target = phase === 'auditPush' ? ({ pushed: 'auditPushed', failed: 'auditFailed' } as Record<string, string>)[key] : key;
          if (typeof value === 'number' && target && target in summary && !['conflicts', 'held', 'quarantined'].includes(target)) {
            (summary as unknown as Record<string, number>)[target] += value;
          }
          if ((key === 'errors' || key === 'failures') && Array.isArray(value)) {
            const lines = key === 'errors' ? value.map(String) : failureText(phase, value);
            summary.errors.push(...lines.map((text) => `${phase}: ${text}`));
          }
          if (key === 'unauthorized' && value === true) {
            summary.unauthorized = true;
            summary.errors.push(`${phase}: the remote refused the credentials`);
          }
        }
      } catch (err) {
        failed = true;
        summary.errors.push(`${phase}: ${describe(err)}`);
        if (err instanceof FhirError && err.status === 401) {
          summary.unauthorized = true;
        }
        if (err instanceof FhirError && err.status === 503) {
          online.set(project, false);
          break;
        }
      }
    }
    if (abort.signal.aborted) {
      failed = true;
      summary.errors.push('Stopped before the end');
    }
    failed ||= summary.unauthorized;
    summary.failed = failed;
    summary.quotaWaitMs = remote.pacer.snapshot().waitedMs;
    summary.finishedAt = clock().toISOString();
    if (summary.errors.length === 0) {
      online.set(project, true);
    }
    try {
      finishCounts(summary);
      if (!failed) {
        sql.saveState.run(project, summary.finishedAt, JSON.stringify(summary));
      } else {
        sql.saveFailedResult.run(project, JSON.stringify(summary));
      }
    } catch (err) {
      // Stopped by host.close(): the database may be gone; the summary still says what happened.
      if (!abort.signal.aborted) throw err;
    }
    return summary;
  }

  const runner: SyncRunner = {
    async run(opts = {}) {
      if (current) {
        return { alreadyRunning: true, project: current.project };
      }
      const project = projectOf(opts);
      const settings = opts.remote ?? config.settings(project);
      if (!settings) {
        throw errors.badRequest(`No remote is configured for project ${project}`);
      }
      if (opts.pullOnly && opts.pushOnly) {
        throw errors.badRequest('pullOnly and pushOnly exclude each other');
      }
      const abort = new AbortController();
      const state = { project, abort };
      current = state;
      let heartbeat: ReturnType<typeof setInterval> | undefined;
      try {
        if (!lock.acquire().ok) {
          return { alreadyRunning: true, project };
        }
        // Renewed while running; losing it (another process took it over after expiry) stops this run.
        heartbeat = setInterval(() => {
          try {
            if (!lock.renew()) abort.abort();
          } catch {
            abort.abort();
          }
        }, Math.max(1_000, (options.lock?.ttlMs ?? 60_000) / 3));
        heartbeat.unref?.();
        opts.signal?.addEventListener('abort', () => abort.abort(), { once: true });
        report(project, { phase: 'start', done: 0 });
        const summary = await execute(project, settings, opts, abort);
        report(project, { phase: 'done', done: summary.pushed + summary.pulled });
        return summary;
      } finally {
        clearInterval(heartbeat);
        try {
          lock.release();
        } catch {
          // The database was closed under a stopped run: the lock row expires on its own.
        }
        current = undefined;
      }
    },
    status(project) {
      const row = sql.state.get(project);
      return {
        online: online.get(project) ?? false,
        running: current !== undefined || lock.holder() !== undefined,
        ...(row?.last_sync ? { lastSync: row.last_sync } : {}),
        ...(row?.last_result ? { lastResult: JSON.parse(row.last_result) as SyncRunSummary } : {}),
        ...(current?.project === project && current.progress ? { progress: current.progress } : {}),
      };
    },
    async probe(project) {
      const remote = config.get(project);
      const up = remote ? await probeRemote(remote.baseUrl, { fetch: options.fetch }) : false;
      online.set(project, up);
      return up;
    },
    isRunning: () => current !== undefined,
    onProgress(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    startBackground(bg = {}) {
      if (background && !background.stopped) {
        return;
      }
      const interval = bg.intervalMs ?? 5 * 60_000;
      const firstRetry = bg.offlineRetryMs ?? 15_000;
      const loop: { timer?: ReturnType<typeof setTimeout>; stopped: boolean } = { stopped: false };
      background = loop;
      let failures = 0;
      const schedule = (ms: number) => {
        if (!loop.stopped) {
          loop.timer = setTimeout(() => void tick(), ms);
          loop.timer.unref?.();
        }
      };
      const tick = async () => {
        let allOnline = true;
        const remotes = config.list();
        for (const remote of remotes) {
          if (loop.stopped) return;
          const up = await runner.probe(remote.project);
          allOnline &&= up;
          if (up && !current && !loop.stopped) {
            try {
              await runner.run({ project: remote.project });
            } catch {
              // Reported in the run's state; the loop goes on.
            }
          }
        }
        failures = allOnline ? 0 : failures + 1;
        // No remote yet: look again soon, so one configured meanwhile syncs without waiting an interval.
        schedule(remotes.length === 0 ? Math.min(interval, 30_000) : allOnline ? interval : offlineBackoffMs(failures, firstRetry, interval));
      };
      schedule(bg.initialDelayMs ?? 2_000);
    },
    stop() {
      if (background) {
        background.stopped = true;
        clearTimeout(background.timer);
      }
      current?.abort.abort();
    },
  };
  return runner;
}

/** 409 OperationOutcome for a run refused because another is going on. */
export function alreadyRunningError(): FhirError {
  return new FhirError(409, outcome('error', 'conflict', 'A sync is already running'));
}
