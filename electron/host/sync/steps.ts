// The three steps of a sync run, each a function of the run's context returning its counts (or
// undefined when this build has no such step). Defaults call push.ts, audit-push.ts and pull.ts.
import type { SyncProgress } from '../../../shared/contract/sync.ts';
import type { Replica } from '../access/index.ts';
import type { Db } from '../db/types.ts';
import type { Outbox } from './outbox.ts';
import { pushAuditEvents } from './push/audit-push.ts';
import { pullProject } from './pull/pull.ts';
import { pushOutbox } from './push/push.ts';
import { tenantPull } from './pull/tenant-pull.ts';
import type { Remote } from './remote/remote.ts';
import { projectScope, remoteProjectOf } from './remote/remote-project.ts';

export type { SyncProgress };

export interface StepContext {
  db: Db;
  store: Replica;
  outbox: Outbox;
  remote: Remote;
  project: string;
  clock: () => Date;
  signal: AbortSignal;
  onProgress: (p: SyncProgress) => void;
  /** Bootstrap the whole project (tenant pull, for administrators) instead of an incremental pull. */
  tenant?: boolean;
  /** Resources per pulled page (one write transaction each); default pull.ts's. */
  pullPageSize?: number;
}

/** Counts a step reports; numbers are added to the run summary by name, `unauthorized` stops the run. */
export type StepResult = Record<string, unknown> | undefined;

export interface SyncSteps {
  push(ctx: StepContext): Promise<StepResult>;
  auditPush(ctx: StepContext): Promise<StepResult>;
  pull(ctx: StepContext): Promise<StepResult>;
}

/** Outbox rows per pushOutbox call (it sends them as batch Bundles). */
const PUSH_BATCH = 10_000;

function dueCount(db: Db, project: string, now: number): number {
  return db
    .prepare<[string, number], number>("SELECT count(*) FROM sync_outbox WHERE project = ? AND state = 'pending' AND next_attempt_at <= ?")
    .pluck()
    .get(project, now) ?? 0;
}

/** Pushes until nothing due is left (each pushOutbox call takes up to PUSH_BATCH rows). */
export async function pushAll(ctx: StepContext): Promise<StepResult> {
  const total = dueCount(ctx.db, ctx.project, ctx.clock().getTime());
  const sum: Record<string, number | boolean | unknown[]> = {};
  let done = 0;
  ctx.onProgress({ phase: 'push', done, total });
  while (!ctx.signal.aborted) {
    const before = dueCount(ctx.db, ctx.project, ctx.clock().getTime());
    if (before === 0) {
      break;
    }
    const result = (await pushOutbox({
      db: ctx.db,
      remote: ctx.remote,
      clock: ctx.clock,
      limit: PUSH_BATCH,
      project: ctx.project,
      store: ctx.store,
      outbox: ctx.outbox,
      signal: ctx.signal,
    })) as unknown as Record<string, number | boolean | unknown[]>;
    for (const [key, value] of Object.entries(result)) {
      if (Array.isArray(value)) sum[key] = [...((sum[key] as unknown[] | undefined) ?? []), ...value];
      else sum[key] = typeof value === 'number' ? ((sum[key] as number | undefined) ?? 0) + value : value || sum[key] === true;
    }
    const after = dueCount(ctx.db, ctx.project, ctx.clock().getTime());
    done += before - after;
    ctx.onProgress({ phase: 'push', done, total });
    if (result.unauthorized === true || after >= before) {
      break;
    }
  }
  return sum;
}

export const defaultSteps: SyncSteps = {
  push: pushAll,
  async auditPush(ctx) {
    ctx.onProgress({ phase: 'audit', done: 0 });
    const result = await pushAuditEvents({ db: ctx.db, remote: ctx.remote, project: ctx.project, clock: ctx.clock, signal: ctx.signal });
    ctx.onProgress({ phase: 'audit', done: result.pushed });
    return { ...result };
  },
  async pull(ctx) {
    const options = {
      db: ctx.db, store: ctx.store, outbox: ctx.outbox, remote: ctx.remote, project: ctx.project, clock: ctx.clock, signal: ctx.signal, onProgress: ctx.onProgress,
      ...(ctx.pullPageSize ? { pageSize: ctx.pullPageSize } : {}),
    };
    if (ctx.tenant) {
      return { ...(await tenantPull(options)) };
    }
    // The tenant's own resources only (remote-project.ts). The remote project is mapped to the local one
    // by a tenant bootstrap only: a workstation set up here keeps its own Project.
    const remoteProject = await remoteProjectOf(ctx.remote, { onlyProject: false });
    return { ...(await pullProject({ ...options, scope: projectScope(remoteProject) })) };
  },
};
