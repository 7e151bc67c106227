// Batch and transaction Bundles through the enforcement point: every entry is its own interaction,
// checked and audited on its own. A transaction runs in one SQLite transaction (the first failure
// rolls everything back); its POST entries get their ids first so `urn:uuid:` references resolve.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { errors, FhirError, toErrorResponse } from '../../../shared/errors.ts';
import { parseEntryUrl, rewriteReferences, type EntryUrl, type ReferenceResolver } from '../store/bundle-refs.ts';
import type { CallContext, WriteResult } from '../store/types.ts';
import type { Enforcer } from './context.ts';
import { historyAs, readAs, searchAs } from './reads.ts';
import { createAs, deleteAs, patchAs, updateAs, visibleMatches } from './writes.ts';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

interface Planned {
  index: number;
  method: Method;
  url: EntryUrl;
  entry: BundleEntry;
  id?: string;
}

function responseFor(result: WriteResult, base: string): BundleEntry {
  const r = result.resource;
  const version = r.meta?.versionId ?? '1';
  return {
    fullUrl: `${base}${r.resourceType}/${r.id}`,
    resource: r,
    response: { status: result.status === 201 ? '201 Created' : '200 OK', location: `${r.resourceType}/${r.id}/_history/${version}`, etag: `W/"${version}"`, lastModified: r.meta?.lastUpdated },
  };
}

function execute(e: Enforcer, p: Planned, callCtx: CallContext | undefined, base: string): BundleEntry {
  const { url } = p;
  const type = url.resourceType;
  const body = (): Resource => {
    const r = p.entry.resource;
    if (!r || typeof r !== 'object') {
      throw errors.badRequest(`Bundle.entry[${p.index}] needs a resource`);
    }
    return r;
  };
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
      if (type === undefined || url.id === undefined) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: PATCH needs Type/id`);
      }
      const b = body() as Resource & { data?: string };
      const patch = b.resourceType === 'Binary' ? JSON.parse(Buffer.from(b.data ?? '', 'base64').toString('utf8')) : b;
      return responseFor(patchAs(e, type, url.id, patch, p.entry.request?.ifMatch ? { ifMatch: p.entry.request.ifMatch } : undefined, callCtx), base);
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

function plan(bundle: Bundle, base: string): Planned[] {
  return (bundle.entry ?? []).map((entry, index) => {
    const method = entry?.request?.method as Method | undefined;
    if (!method || !(method in ORDER) || typeof entry.request?.url !== 'string') {
      throw errors.badRequest(`Bundle.entry[${index}] needs request.method and request.url`);
    }
    return { index, method, url: parseEntryUrl(entry.request.url, base), entry };
  });
}

function withIndex(err: unknown, index: number): unknown {
  if (!(err instanceof FhirError)) {
    return err;
  }
  const outcome = structuredClone(err.outcome);
  for (const issue of outcome.issue ?? []) {
    issue.details = { ...issue.details, text: `Bundle.entry[${index}]: ${issue.details?.text ?? issue.diagnostics ?? ''}` };
  }
  return new FhirError(err.status, outcome, err);
}

export function processBundleAs(e: Enforcer, bundle: Bundle, callCtx?: CallContext): Bundle {
  if (bundle?.resourceType !== 'Bundle' || (bundle.entry !== undefined && !Array.isArray(bundle.entry))) {
    throw errors.badRequest('Expected a Bundle with an entry array');
  }
  const base = (callCtx?.baseUrl ?? 'http://localhost/fhir/R4/').replace(/\/?$/, '/');
  if (bundle.type === 'batch') {
    const runEntry = e.db.transaction((p: Planned) => execute(e, p, callCtx, base));
    const run = () => (bundle.entry ?? []).map((raw, index): BundleEntry => {
      try {
        const [p] = plan({ resourceType: 'Bundle', type: 'batch', entry: [raw] }, base);
        return runEntry({ ...p, index });
      } catch (err) {
        const { status, outcome } = toErrorResponse(err);
        return { response: { status: String(status), outcome } };
      }
    });
    const entry = e.p.kind === 'system' ? e.audited('batch', {}, () => e.bundleEntries(run)) : run();
    return { resourceType: 'Bundle', type: 'batch-response', entry };
  }
  if (bundle.type !== 'transaction') {
    throw errors.badRequest(`Bundle.type must be batch or transaction, not ${String(bundle.type)}`);
  }
  return e.audited('transaction', {}, () => {
    const planned = plan(bundle, base);
    const fullUrls = new Map<string, string>();
    for (const p of planned) {
      if (p.method === 'POST' && p.url.resourceType !== undefined && !p.entry.request?.ifNoneExist) {
        p.id = randomUUID();
      } else if (p.method === 'PUT' && p.url.id !== undefined) {
        p.id = p.url.id;
      }
      if (p.entry.fullUrl && p.id !== undefined && p.url.resourceType !== undefined) {
        fullUrls.set(p.entry.fullUrl, `${p.url.resourceType}/${p.id}`);
      }
    }
    const resolver: ReferenceResolver = {
      fullUrls,
      conditional(reference, type, query) {
        const ids = visibleMatches(e, type, query, callCtx);
        if (ids.length !== 1) {
          throw errors.badRequest(`Conditional reference ${reference} must match exactly one resource`, 'reference');
        }
        return `${type}/${ids[0]}`;
      },
    };
    const responses = new Array<BundleEntry>(planned.length);
    for (const p of planned) {
      if (p.entry.resource) {
        p.entry = { ...p.entry, resource: rewriteReferences(p.entry.resource, resolver) as Resource };
      }
    }
    e.bundleEntries(() => {
      for (const p of [...planned].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
        try {
          responses[p.index] = execute(e, p, callCtx, base);
        } catch (err) {
          throw withIndex(err, p.index);
        }
      }
    });
    return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
  }, true);
}
