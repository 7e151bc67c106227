// The enforcement point: a Repository for one principal (a signed-in session, the host's own named
// system work, or a read-only preview of a membership). The FHIR routes, Bundle entries, export,
// admin, sync, import and the seed all get one of these and nothing else: a Repository has no `db`
// and no way to the raw store, so no path reaches the data unchecked. Every interaction writes its
// AuditEvent (system work that is audited as a whole, and previews without a viewer, excepted).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { typesInProject } from '../db/resources.ts';
import { inTransaction } from '../db/transactions.ts';
import type { SqlFragment } from '../db/types.ts';
import type { CallContext, HistoryQuery, Store, WriteResult } from '../store/types.ts';
import { processBundleAs } from './bundle.ts';
import { createEnforcer, type EnforceDeps } from './context.ts';
import type { RequestedInteraction } from './policy/index.ts';
import type { Principal } from './principal.ts';
import { historyAs, readAs, searchAs } from './reads.ts';
import { createAs, deleteAs, patchAs, updateAs, visibleMatches } from './writes.ts';

export type { CallContext, HistoryQuery, WriteResult } from '../store/types.ts';

/** What every domain gets: the FHIR interactions of one principal, each checked (and audited). */
export interface Repository extends Omit<Store, 'db' | 'close' | 'inCallerTransaction' | 'deferIndexing' | 'flushIndex'> {
  /** Who this repository acts as: its kind, project and (for AuditEvents of a domain's own) agent. */
  readonly principal: Pick<Principal, 'kind' | 'project' | 'agent' | 'admin'>;
  /** Types with live resources in the principal's project (what export and the policy review walk). */
  storedTypes(): string[];
  /** Runs `fn` as one unit of work: its interactions commit together or not at all (nested: a savepoint). */
  transaction<T>(fn: () => T): T;
  /**
   * For a domain that keeps rows of its own about resources (sync's outbox and conflicts): the read
   * restriction of `type` as SQL over the stored row `r` (false: none readable; null: every row of the
   * project). The domain's query joins it (db/replication.ts) so it lists only what this principal reads.
   */
  readRestriction(type: string): SqlFragment | null | false;
  /** 403 unless some entry lets this principal do `interaction` on `type` (before a domain's own work on it). */
  requireInteraction(type: string, interaction: RequestedInteraction): void;
  /**
   * A copy of a resource kept by such a domain as this principal reads the stored row `rid` (hidden
   * fields removed and marked; null: it may not read it). `rid` null (nothing stored): shown only to a
   * principal that reads every row of the type.
   */
  presentAsRead<T extends Resource>(resource: T, rid: number | null): T | null;
}

/** The principals of the Repositories made here: paths that must only run enforced (export) ask for it. */
const PRINCIPALS = new WeakMap<object, Principal>();

/** The principal of a Repository made here, or undefined for anything else (the raw store included). */
export function principalOf(repo: object): Principal | undefined {
  return PRINCIPALS.get(repo);
}

export function createAccessRepository(deps: EnforceDeps, principal: Principal): Repository {
  const e = createEnforcer(deps, principal);
  const repo: Repository = {
    principal: { kind: principal.kind, project: principal.project, agent: principal.agent, admin: principal.admin },
    storedTypes: () => typesInProject(e.db, principal.project, { live: true }),
    transaction: (fn) => inTransaction(e.db, fn),
    readRestriction: (type) => e.restrict(type, 'read'),
    requireInteraction: (type, interaction) => e.requireType(type, interaction),
    presentAsRead<T extends Resource>(resource: T, rid: number | null): T | null {
      if (rid === null) {
        return e.restrict(resource.resourceType, 'read') === null ? e.present(resource, undefined) : null;
      }
      const entry = e.governing(resource.resourceType, 'read', rid);
      return entry ? e.present(resource, entry) : null;
    },
    create: <T extends Resource>(resource: T, opts?: { ifNoneExist?: string }, ctx?: CallContext): WriteResult<T> => createAs(e, resource, opts, ctx),
    read: <T extends Resource>(type: string, id: string, ctx?: CallContext): T =>
      e.audited('read', { entity: `${type}/${id}` }, () => readAs<T>(e, 'read', type, id, undefined, ctx)),
    vread: <T extends Resource>(type: string, id: string, versionId: string, ctx?: CallContext): T =>
      e.audited('vread', { entity: `${type}/${id}/_history/${versionId}` }, () => readAs<T>(e, 'vread', type, id, versionId, ctx)),
    update: <T extends Resource>(resource: T, opts?: { ifMatch?: string }, ctx?: CallContext): WriteResult<T> => updateAs(e, resource, opts, ctx),
    conditionalUpdate<T extends Resource>(type: string, query: string, resource: T, ctx?: CallContext): WriteResult<T> {
      const ids = e.audited('search-type', { query: `${type}?${query}` }, () => visibleMatches(e, type, query, ctx));
      if (ids.length > 1) {
        throw errors.preconditionFailed(`Conditional update matched ${ids.length} resources: ${query}`);
      }
      if (ids.length === 0) {
        return resource.id ? updateAs(e, resource, undefined, ctx) : createAs(e, resource, undefined, ctx);
      }
      if (resource.id !== undefined && resource.id !== ids[0]) {
        throw errors.badRequest(`The body's id (${resource.id}) differs from the matched resource (${ids[0]})`, 'id');
      }
      return updateAs(e, { ...resource, id: ids[0] }, undefined, ctx);
    },
    conditionalPatch<T extends Resource>(type: string, query: string, patch: unknown, ctx?: CallContext): WriteResult<T> {
      const ids = e.audited('search-type', { query: `${type}?${query}` }, () => visibleMatches(e, type, query, ctx));
      if (ids.length > 1) {
        throw errors.preconditionFailed(`Conditional patch matched ${ids.length} resources: ${query}`);
      }
      if (ids.length === 0) {
        throw errors.notFound(`No ${type} matches ${query}`);
      }
      return patchAs<T>(e, type, ids[0], patch, undefined, ctx);
    },
    patch: <T extends Resource>(type: string, id: string, patch: unknown, opts?: { ifMatch?: string }, ctx?: CallContext): WriteResult<T> =>
      patchAs<T>(e, type, id, patch, opts, ctx),
    delete: (type: string, id: string): void => deleteAs(e, type, id),
    conditionalDelete(type: string, query: string, ctx?: CallContext): number {
      const ids = e.audited('search-type', { query: `${type}?${query}` }, () => visibleMatches(e, type, query, ctx));
      if (ids.length > 1) {
        throw errors.preconditionFailed(`Conditional delete matched ${ids.length} resources: ${query}`);
      }
      ids.forEach((id) => deleteAs(e, type, id));
      return ids.length;
    },
    history(query: HistoryQuery, ctx?: CallContext): Bundle {
      const level = query.id !== undefined ? 'history-instance' : query.resourceType !== undefined ? 'history-type' : 'history-system';
      const entity = query.id !== undefined ? `${query.resourceType}/${query.id}` : undefined;
      return e.audited(level, { entity, query: entity ? undefined : `${query.resourceType ?? ''}/_history` }, () => historyAs(e, query, ctx));
    },
    search: (type: string | undefined, query: string, ctx?: CallContext): Bundle =>
      e.audited(type ? 'search-type' : 'search-system', { query: `${type ?? ''}?${query}` }, () => searchAs(e, type, query, ctx)),
    processBundle: (bundle: Bundle, ctx?: CallContext, commitWith?: (response: Bundle) => void): Bundle => processBundleAs(e, bundle, ctx, commitWith),
  };
  PRINCIPALS.set(repo, principal);
  return repo;
}
