// The enforcement point: a Store for one principal (a signed-in session, or the host's own system
// context). The FHIR routes, batch/transaction entries, export and sync all go through one of these;
// nothing reaches the raw store unchecked. Every interaction writes its AuditEvent.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { CallContext, HistoryQuery, Store, WriteResult } from '../store/types.ts';
import { processBundleAs } from './bundle.ts';
import { createEnforcer, type EnforceDeps } from './context.ts';
import type { Principal } from './principal.ts';

/** Marks the Stores made here, so paths that must only run enforced (export) can tell them from the raw store. */
const ENFORCED = Symbol('outpost.enforced-principal');

/** The principal of an access-checked Store, or undefined for any other Store (the raw one included). */
export function principalOf(store: Store): Principal | undefined {
  return (store as Store & { [ENFORCED]?: Principal })[ENFORCED];
}
import { historyAs, readAs, searchAs } from './reads.ts';
import { createAs, deleteAs, patchAs, updateAs, visibleMatches } from './writes.ts';

export function createAccessRepository(deps: EnforceDeps, principal: Principal): Store {
  const e = createEnforcer(deps, principal);
  const repo: Store = {
    db: deps.store.db,
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
    processBundle: (bundle: Bundle, ctx?: CallContext): Bundle => processBundleAs(e, bundle, ctx),
    close: () => undefined,
  };
  Object.defineProperty(repo, ENFORCED, { value: principal, enumerable: false });
  return repo;
}
