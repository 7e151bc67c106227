// Read-type interactions through the enforcement point: read / vread (404 when invisible, 410 when
// deleted), search (filtered in SQL by the search module's `restrict` hook, so totals, paging, sort
// and includes stay exact; hidden-field parameters refused) and history (the same restriction).
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { CallContext, HistoryQuery } from '../store/types.ts';
import type { Enforcer } from './context.ts';

export function readAs<T extends Resource>(e: Enforcer, interaction: 'read' | 'vread', type: string, id: string, versionId?: string, callCtx?: CallContext): T {
  e.requireType(type, interaction);
  const row = e.row(type, id);
  if (!row) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  if (row.deleted && interaction === 'read') {
    throw errors.gone(`${type}/${id} was deleted`);
  }
  // Visibility is decided on the current version (a deleted resource has no index rows: invisible).
  const entry = e.governing(type, interaction, row.rid);
  if (!entry) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  const resource =
    interaction === 'read'
      ? (JSON.parse(row.content) as T)
      : e.deps.store.vread<T>(type, id, versionId ?? '', { ...e.ctx(callCtx), project: row.project });
  return e.present(resource, entry);
}

/**
 * The search module's `present` hook for a read-type interaction: each resource masked by the entry
 * governing its stored row (when every entry of its type hides the same fields, the first one, with
 * no row lookup). A row no entry governs is left out (fail closed: the SQL restriction let it through).
 */
export function presenter(e: Enforcer, interaction: 'search' | 'history') {
  const sameMasks = new Map<string, boolean>();
  return (resource: Resource, rid: number): Resource | undefined => {
    const type = resource.resourceType;
    const candidates = e.entries(type, interaction);
    let same = sameMasks.get(type);
    if (same === undefined) {
      const first = candidates[0]?.hiddenFields.join('\u0000');
      same = candidates.every((c) => c.hiddenFields.join('\u0000') === first);
      sameMasks.set(type, same);
    }
    const entry = same ? candidates[0] : e.governing(type, interaction, rid);
    return entry ? e.present(resource, entry) : undefined;
  };
}

export function searchAs(e: Enforcer, type: string | undefined, query: string, callCtx?: CallContext): Bundle {
  const pairs = [...new URLSearchParams(query)];
  if (type !== undefined) {
    e.requireType(type, 'search');
    e.p.guard.assertAllowed(type, pairs);
  } else {
    for (const t of (pairs.find(([k]) => k === '_type')?.[1] ?? '').split(',').filter(Boolean)) {
      e.requireType(t, 'search');
      e.p.guard.assertAllowed(t, pairs.filter(([k]) => k.startsWith('_')));
    }
  }
  // A project's Project resource belongs to itself (Medplum: Project.meta.project is its own id); one
  // written into another project (older data folders, the default project) is searched where it lives.
  // Either way e.restrict('Project') keeps the search to that one resource.
  const project = type === 'Project' ? (e.storedProject('Project', e.p.project) ?? e.p.project) : e.p.project;
  return e.deps.store.search(type, query, {
    ...e.ctx(callCtx),
    project,
    search: { restrict: (t) => e.restrict(t, 'search'), present: presenter(e, 'search') },
  });
}

/**
 * History at every level is the store's one history with the enforcement point's hooks: type and
 * system history restricted as the role's search is, every version masked. An instance's history
 * needs the resource visible now (404 otherwise) and is masked by the entry governing it.
 */
export function historyAs(e: Enforcer, query: HistoryQuery, callCtx?: CallContext): Bundle {
  const { resourceType: type, id } = query;
  if (type !== undefined) {
    e.requireType(type, 'history');
  }
  if (type !== undefined && id !== undefined) {
    const row = e.row(type, id);
    const entry = row ? e.governing(type, 'history', row.rid) : undefined;
    if (!row || !entry) {
      throw errors.notFound(`${type}/${id} not found`);
    }
    return e.deps.store.history(query, { ...e.ctx(callCtx), project: row.project, search: { present: (r) => e.present(r, entry) } });
  }
  return e.deps.store.history(query, {
    ...e.ctx(callCtx),
    search: { restrict: (t) => e.restrict(t, 'history'), present: presenter(e, 'history') },
  });
}
