// Batch and transaction Bundles through the enforcement point: the store's Bundle engine (planning,
// identities, reference rewriting, FHIR order) with this executor, so every entry is its own
// interaction, checked and audited on its own. A transaction runs in one SQLite transaction (the
// first failure rolls everything back); its POST entries get their ids first so `urn:uuid:` references
// resolve; conditional references resolve through the session's own search (only what it may see).
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { assertNoCommitWith, bodyOf, responseFor, runBatch, runTransaction, type EntryExecutor, type PlannedEntry } from '../store/bundle.ts';
import { inTransaction } from '../db/transactions.ts';
import { newResourceId } from '../store/index.ts';
import type { CallContext } from '../store/types.ts';
import type { Enforcer } from './context.ts';
import { historyAs, readAs, searchAs } from './reads.ts';
import { createAs, deleteAs, patchAs, updateAs, visibleMatches } from './writes.ts';

function execute(e: Enforcer, p: PlannedEntry, callCtx: CallContext | undefined, base: string): BundleEntry {
  const { url } = p;
  const type = url.resourceType;
  const body = (): Resource => bodyOf(p);
  switch (p.method) {
    case 'POST': {
      const r = body();
      if (type === undefined || url.id !== undefined || r.resourceType !== type) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: POST needs url "${r.resourceType}"`);
      }
      return responseFor(createAs(e, r, { ifNoneExist: p.entry.request?.ifNoneExist }, callCtx, p.id), base);
    }
    case 'PUT': {
      const r = body();
      if (type === undefined || r.resourceType !== type) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: resourceType differs from the URL`);
      }
      let id = url.id ?? p.id;
      if (id === undefined) {
        const ids = visibleMatches(e, type, url.query ?? '', callCtx);
        if (ids.length > 1) {
          throw errors.preconditionFailed('Conditional update matched several resources');
        }
        id = ids[0];
      }
      if (id === undefined) {
        return responseFor(createAs(e, r, undefined, callCtx), base);
      }
      return responseFor(updateAs(e, { ...r, id }, p.entry.request?.ifMatch ? { ifMatch: p.entry.request.ifMatch } : undefined, callCtx), base);
    }
    case 'PATCH': {
      if (type === undefined || (url.id === undefined && !url.query)) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: PATCH needs Type/id or Type?query`);
      }
      const b = body() as Resource & { data?: string };
      const patch = b.resourceType === 'Binary' ? JSON.parse(Buffer.from(b.data ?? '', 'base64').toString('utf8')) : b;
      let id = url.id;
      if (id === undefined) {
        const ids = visibleMatches(e, type, url.query ?? '', callCtx);
        if (ids.length !== 1) {
          throw ids.length ? errors.preconditionFailed('Conditional patch matched several resources') : errors.notFound(`No ${type} matches ${url.query}`);
        }
        id = ids[0];
      }
      return responseFor(patchAs(e, type, id, patch, p.entry.request?.ifMatch ? { ifMatch: p.entry.request.ifMatch } : undefined, callCtx), base);
    }
    case 'DELETE': {
      if (type === undefined) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: DELETE needs a resource type`);
      }
      const ids = url.id !== undefined ? [url.id] : visibleMatches(e, type, url.query ?? '', callCtx);
      if (ids.length > 1) {
        throw errors.preconditionFailed('Conditional delete matched several resources');
      }
      ids.forEach((id) => deleteAs(e, type, id));
      return { response: { status: '204 No Content' } };
    }
    case 'GET':
    case 'HEAD': {
      const ok = (resource: Resource): BundleEntry => ({ resource: p.method === 'HEAD' ? undefined : resource, response: { status: '200 OK' } });
      const qs = new URLSearchParams(url.query ?? '');
      if (url.history) {
        return ok(historyAs(e, { resourceType: type, id: url.id, since: qs.get('_since') ?? undefined, count: qs.get('_count') ? Number(qs.get('_count')) : undefined }, callCtx));
      }
      if (type !== undefined && url.id !== undefined) {
        return ok(e.audited(url.versionId ? 'vread' : 'read', { entity: `${type}/${url.id}` }, () => readAs(e, url.versionId ? 'vread' : 'read', type, url.id ?? '', url.versionId, callCtx)));
      }
      return ok(e.audited(type ? 'search-type' : 'search-system', { query: `${type ?? ''}?${url.query ?? ''}` }, () => searchAs(e, type, url.query ?? '', callCtx)));
    }
  }
}

function executor(e: Enforcer, callCtx: CallContext | undefined, base: string): EntryExecutor {
  return {
    identify(p, mode) {
      // A conditional create or update is decided when it runs, through the session's own search.
      if (mode === 'transaction' && p.method === 'POST' && p.url.resourceType !== undefined && !p.entry.request?.ifNoneExist) {
        p.id = newResourceId(); // the store's id scheme (UUIDv7), as a create outside a Bundle gets
        e.minted.add(`${p.url.resourceType}/${p.id}`);
      } else if (mode === 'transaction' && p.method === 'PUT' && p.url.id !== undefined) {
        p.id = p.url.id;
      }
    },
    findOne(resourceType, query) {
      const ids = visibleMatches(e, resourceType, query, callCtx);
      if (ids.length > 1) {
        throw errors.preconditionFailed(`Conditional reference matched several resources: ${resourceType}?${query}`);
      }
      return ids[0];
    },
    execute: (p) => execute(e, p, callCtx, base),
    savepoint: (fn) => inTransaction(e.db, fn),
  };
}

export function processBundleAs(e: Enforcer, bundle: Bundle, callCtx?: CallContext, commitWith?: (response: Bundle) => void): Bundle {
  if (bundle?.resourceType !== 'Bundle' || (bundle.entry !== undefined && !Array.isArray(bundle.entry))) {
    throw errors.badRequest('Expected a Bundle with an entry array');
  }
  const base = (callCtx?.baseUrl ?? 'http://localhost/fhir/R4/').replace(/\/?$/, '/');
  const x = executor(e, callCtx, base);
  if (bundle.type === 'batch') {
    assertNoCommitWith(commitWith);
    const run = () => e.bundleEntries(() => runBatch(bundle, base, x));
    return e.p.kind === 'system' ? e.audited('batch', {}, run) : run();
  }
  if (bundle.type !== 'transaction') {
    throw errors.badRequest(`Bundle.type must be batch or transaction, not ${String(bundle.type)}`);
  }
  // Index rows written sorted once, at the end, as the store's own transactions do (reads of the index
  // inside write what is buffered first: the store's search, and the enforcer's own row checks).
  try {
    return e.audited('transaction', {}, () => {
      const response = e.bundleEntries(() => e.deps.store.deferIndexing(() => runTransaction(bundle, base, x)));
      commitWith?.(response);
      return response;
    }, true);
  } finally {
    e.minted.clear();
  }
}
