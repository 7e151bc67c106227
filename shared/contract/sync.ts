// Sync's routes (outpost/sync/...), and what sync reports while it runs: `progress` in the status and,
// without `type`, the bridge's `sync-progress` event. One shape for the runner, the host's routes and
// the sync panel.
import { z } from 'zod';
import { anyResource, defineRoute, operationOutcome } from './route.ts';

export const syncProgressSchema = z.object({
  /** push, audit, pull, tenant... */
  phase: z.string(),
  done: z.number(),
  total: z.number().optional(),
  /** The resource type being pulled, when the phase has one. */
  type: z.string().optional(),
  message: z.string().optional(),
});
export type SyncProgress = z.output<typeof syncProgressSchema>;

/** What one sync run did (the runner's summary), as `POST outpost/sync/run` answers it. */
export const syncRunSummarySchema = z.object({
  project: z.string(),
  pushed: z.number(),
  /** Of those pushed, changes merged with a remote edit (three-way, no overlapping field). */
  merged: z.number(),
  pulled: z.number(),
  deleted: z.number(),
  purged: z.number(),
  /** Open conflicts of the project after the run (a person resolves them). */
  conflicts: z.number(),
  /** Outbox rows held (400/422 and their dependents) after the run. */
  held: z.number(),
  /** Outbox rows quarantined (403) after the run. */
  quarantined: z.number(),
  /** Changes left for a later run (transient failures). */
  retryLater: z.number(),
  /** Changes that stay on this workstation by design: AccessPolicies Medplum refuses, the local owner's profile. */
  keptLocal: z.number(),
  auditPushed: z.number(),
  auditFailed: z.number(),
  /** Time spent waiting for the remote's quota windows to reset (its RateLimit header), ms. */
  quotaWaitMs: z.number(),
  /** The remote refused the credentials. */
  unauthorized: z.boolean(),
  /** What went wrong, in words (no secrets), every failure counted with its reason; empty when all went through. */
  errors: z.array(z.string()),
  /**
   * The run failed: the remote unreachable or refusing the credentials, a step that threw, a stop. Not
   * "Last sync". false with errors: the run went through and the remote refused some resources (held).
   */
  failed: z.boolean(),
  /** Steps that do not exist in this build. */
  skipped: z.array(z.string()),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type SyncRunSummary = z.output<typeof syncRunSummarySchema>;

/** One outbox row, as the status lists it under `pending` and `held`. */
export const syncChangeSchema = z.object({
  id: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  operation: z.enum(['create', 'update', 'delete']),
  changedAt: z.string(),
  state: z.enum(['pending', 'held', 'quarantined']),
  reason: z.string().optional(),
});
export type SyncChange = z.output<typeof syncChangeSchema>;

/** A conflict, each version as the session may read it (null: deleted on that side, or not readable). */
export const syncConflictSchema = z.object({
  id: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  reason: z.string(),
  /** Paths that differ ('name', 'address.city'...). */
  fields: z.array(z.string()),
  local: anyResource.nullable(),
  remote: anyResource.nullable(),
  base: anyResource.nullable(),
  createdAt: z.string(),
});
export type SyncConflictView = z.output<typeof syncConflictSchema>;

/** The project's remote as the host describes it: never a token or a secret. */
export const syncRemoteSchema = z.object({
  project: z.string(),
  baseUrl: z.string(),
  auth: z.enum(['token', 'client-credentials']),
  clientId: z.string().optional(),
  tokenUrl: z.string().optional(),
  updatedAt: z.string(),
});
export type SyncRemoteView = z.output<typeof syncRemoteSchema>;

export const syncStatusSchema = z.object({
  online: z.boolean(),
  running: z.boolean(),
  lastSync: z.string().optional(),
  /**
   * The last finished run's summary (whoever started it: a window, the background loop), as it was
   * stored: a run of an earlier version of Outpost may lack newer fields.
   */
  lastRun: syncRunSummarySchema.partial().optional(),
  progress: syncProgressSchema.optional(),
  remote: syncRemoteSchema.pick({ baseUrl: true, auth: true, clientId: true }).optional(),
  pending: z.array(syncChangeSchema),
  held: z.array(syncChangeSchema),
  conflicts: z.array(syncConflictSchema),
  /** The lists stop at 500 rows per type; these are the complete numbers the session may see. */
  counts: z.object({ pending: z.number(), held: z.number() }),
});
export type SyncStatus = z.output<typeof syncStatusSchema>;

export const resolveChoiceSchema = z.strictObject({
  keep: z.enum(['local', 'remote', 'merge']),
  fields: z.record(z.string().min(1).max(512), z.enum(['local', 'remote'])).optional(),
});
export type ResolveChoice = z.output<typeof resolveChoiceSchema>;

/** `PUT outpost/sync/remote`: a bearer token, or a client id and secret (OAuth2 client credentials). */
export const remoteInputSchema = z.union([
  z.strictObject({ baseUrl: z.string().min(1).max(2048), token: z.string().min(1).max(8192) }),
  z.strictObject({ baseUrl: z.string().min(1).max(2048), clientId: z.string().min(1).max(256), clientSecret: z.string().min(1).max(8192), tokenUrl: z.string().max(2048).optional() }),
]);
export type RemoteInput = z.input<typeof remoteInputSchema>;

export const syncContract = {
  /** Online/running, the last sync, progress, and the pending / held changes and conflicts the session may read. */
  status: defineRoute({ method: 'GET', path: 'outpost/sync/status', auth: 'session', response: syncStatusSchema }),
  /** One run now (409 while one runs); `tenant` (admins) pulls the whole project. */
  run: defineRoute({
    method: 'POST',
    path: 'outpost/sync/run',
    auth: 'session',
    body: z.strictObject({ pullOnly: z.boolean().optional(), pushOnly: z.boolean().optional(), tenant: z.boolean().optional() }),
    response: syncRunSummarySchema,
  }),
  /** The resolved resource as the session may read it, or an OperationOutcome when the choice deleted it. */
  resolve: defineRoute({
    method: 'POST',
    path: 'outpost/sync/conflicts/:conflictId/resolve',
    auth: 'session',
    params: { conflictId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) },
    body: resolveChoiceSchema,
    response: anyResource,
  }),
  /** The project's remote (project admins only; never a secret). */
  remote: defineRoute({ method: 'GET', path: 'outpost/sync/remote', auth: 'session', response: syncRemoteSchema }),
  setRemote: defineRoute({ method: 'PUT', path: 'outpost/sync/remote', auth: 'session', body: remoteInputSchema, response: syncRemoteSchema }),
  removeRemote: defineRoute({ method: 'DELETE', path: 'outpost/sync/remote', auth: 'session', response: operationOutcome }),
};
