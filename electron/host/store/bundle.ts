// Batch and transaction Bundles. A transaction runs in the caller's single SQLite transaction: its
// entries are processed in FHIR order (DELETE, POST, PUT/PATCH, GET/HEAD) after every fullUrl has been
// given its final `Type/id` and every reference rewritten; the first failure throws and the caller
// rolls everything back. Batch entries each run in their own savepoint and fail one by one.
// The planning (parse, identities, reference rewriting, order, entry paths in errors) is one engine,
// `runTransaction` / `runBatch`, driven by an EntryExecutor: the raw store's below, and the
// enforcement point's (electron/host/access/bundle.ts), which checks and audits every entry.
import { newResourceId } from './ids.ts';
import { inTransaction } from '../db/transactions.ts';
import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import { FhirError, errors, toErrorResponse } from '../../../shared/errors.ts';
import { baseUrlOf, parseContent, projectOf, type ResourceRow, type StoreCore } from './core.ts';
import { parseEntryUrl, rewriteReferences, type EntryUrl, type ReferenceResolver } from './bundle-refs.ts';
import { history, readResource, vreadResource } from './reads.ts';
import type { CallContext, WriteResult } from './types.ts';
import { assertFhirId, assertResourceType } from './validation.ts';
import { conditionalDelete, deleteResource, insertNew, patchResource, stripQuestionMark, updateResource } from './writes.ts';

export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ORDER: Record<EntryMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const REASON: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content' };

export interface PlannedEntry {
  index: number;
  method: EntryMethod;
  url: EntryUrl;
  rawUrl: string;
  entry: BundleEntry;
  /** Resolved before processing: the id a POST or a conditional PUT will write. */
  id?: string;
  /** A conditional create (ifNoneExist) that matched this existing resource. */
  existing?: ResourceRow;
}

/** What the Bundle engine asks of whoever runs the entries (the raw store, or the enforcement point). */
export interface EntryExecutor {
  /**
   * Gives an entry its identity before any entry runs (`p.id`, `p.existing`), so references to its
   * fullUrl can be rewritten: 'transaction' for every entry of a transaction, 'batch' for each entry
   * of a batch as it comes.
   */
  identify(p: PlannedEntry, mode: 'transaction' | 'batch'): void;
  /** The one resource a conditional reference names (undefined: none; several: throw 412). */
  findOne(resourceType: string, query: string): string | undefined;
  /** Runs one entry (its references already rewritten). */
  execute(p: PlannedEntry): BundleEntry;
  /** Runs one batch entry in its own savepoint. */
  savepoint<T>(fn: () => T): T;
}

export function parseEntry(entry: BundleEntry, index: number, base: string): PlannedEntry {
  const request = entry?.request;
  const method = request?.method as EntryMethod | undefined;
  if (!method || !(method in ORDER) || typeof request?.url !== 'string') {
    throw errors.badRequest(`Bundle.entry[${index}] needs request.method and request.url`, `Bundle.entry[${index}].request`);
  }
  const url = parseEntryUrl(request.url, base);
  if (url.resourceType !== undefined) {
    assertResourceType(url.resourceType);
  }
  return { index, method, url, rawUrl: request.url, entry };
}

export function responseFor(result: WriteResult, base: string): BundleEntry {
  const r = result.resource;
  const version = r.meta?.versionId ?? '1';
  return {
    fullUrl: `${base}${r.resourceType}/${r.id}`,
    resource: r,
    response: {
      status: `${result.status} ${REASON[result.status]}`,
      location: `${r.resourceType}/${r.id}/_history/${version}`,
      etag: `W/"${version}"`,
      lastModified: r.meta?.lastUpdated,
    },
  };
}

export function bodyOf(p: PlannedEntry): Resource {
  const resource = p.entry.resource;
  if (!resource || typeof resource !== 'object') {
    throw errors.badRequest(`Bundle.entry[${p.index}] needs a resource`, `Bundle.entry[${p.index}].resource`);
  }
  return resource;
}

function singleMatch(core: StoreCore, resourceType: string, query: string, ctx: CallContext | undefined, what: string): ResourceRow | undefined {
  const rids = core.findRids(core.db, resourceType, stripQuestionMark(query), { project: projectOf(core, ctx) });
  if (rids.length > 1) {
    throw errors.preconditionFailed(`${what} matched ${rids.length} resources: ${resourceType}?${query}`);
  }
  return rids.length ? core.sql.byRid.get(rids[0]) : undefined;
}

/** Executes one entry (its references already rewritten). */
function execute(core: StoreCore, p: PlannedEntry, ctx: CallContext | undefined, base: string): BundleEntry {
  const { url } = p;
  const type = url.resourceType;
  switch (p.method) {
    case 'POST': {
      if (p.existing) {
        return responseFor({ status: 200, resource: parseContent(p.existing.content) }, base);
      }
      const resource = bodyOf(p);
      if (type === undefined || url.id !== undefined || resource.resourceType !== type) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: POST needs url "${resource.resourceType}"`, `Bundle.entry[${p.index}].request.url`);
      }
      return responseFor(insertNew(core, resource, 'POST', ctx, p.id ?? newResourceId()), base);
    }
    case 'PUT': {
      const resource = bodyOf(p);
      if (type === undefined || resource.resourceType !== type) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: resourceType differs from the URL`, `Bundle.entry[${p.index}].resource`);
      }
      const id = url.id ?? p.id;
      if (url.id !== undefined && resource.id !== undefined && resource.id !== url.id) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: body id ${resource.id} differs from the URL id ${url.id}`, 'id');
      }
      if (id === undefined) {
        const match = singleMatch(core, type, url.query ?? '', ctx, 'Conditional update');
        return responseFor(match ? updateResource(core, { ...resource, id: match.id }, undefined, ctx) : insertNew(core, resource, 'PUT', ctx), base);
      }
      assertFhirId(id);
      return responseFor(updateResource(core, { ...resource, id }, { ifMatch: p.entry.request?.ifMatch }, ctx), base);
    }
    case 'PATCH': {
      if (type === undefined || url.id === undefined) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: PATCH needs Type/id`, `Bundle.entry[${p.index}].request.url`);
      }
      const body = bodyOf(p) as Resource & { data?: string; contentType?: string };
      // A JSON Patch travels as a Binary (base64 data); a FHIRPath Patch as a Parameters resource.
      const patch = body.resourceType === 'Binary' ? JSON.parse(Buffer.from(body.data ?? '', 'base64').toString('utf8')) : body;
      return responseFor(patchResource(core, type, url.id, patch, { ifMatch: p.entry.request?.ifMatch }, ctx), base);
    }
    case 'DELETE': {
      if (type === undefined) {
        throw errors.badRequest(`Bundle.entry[${p.index}]: DELETE needs a resource type`);
      }
      if (url.id !== undefined) {
        deleteResource(core, type, url.id, ctx);
      } else {
        conditionalDelete(core, type, url.query ?? '', ctx);
      }
      return { response: { status: '204 No Content' } };
    }
    case 'GET':
    case 'HEAD':
      return { ...read(core, p, ctx), ...(p.method === 'HEAD' ? { resource: undefined } : {}) };
  }
}

function read(core: StoreCore, p: PlannedEntry, ctx: CallContext | undefined): BundleEntry {
  const { url } = p;
  const ok = (resource: Resource): BundleEntry => ({
    resource,
    response: { status: '200 OK', ...(resource.meta?.versionId ? { etag: `W/"${resource.meta.versionId}"`, lastModified: resource.meta.lastUpdated } : {}) },
  });
  const qs = new URLSearchParams(url.query ?? '');
  if (url.history) {
    const count = qs.get('_count');
    const offset = qs.get('_offset');
    return ok(
      history(core, {
        resourceType: url.resourceType,
        id: url.id,
        since: qs.get('_since') ?? undefined,
        count: count ? Number(count) : undefined,
        offset: offset ? Number(offset) : undefined,
      }, ctx),
    );
  }
  if (url.resourceType !== undefined && url.id !== undefined) {
    return ok(url.versionId !== undefined ? vreadResource(core, url.resourceType, url.id, url.versionId, ctx) : readResource(core, url.resourceType, url.id, ctx));
  }
  return ok(
    core.search(core.db, url.resourceType, url.query ?? '', {
      project: projectOf(core, ctx),
      baseUrl: baseUrlOf(core, ctx),
      ...ctx?.search,
    }),
  );
}

export function withEntryPath(err: unknown, index: number): unknown {
  if (err instanceof FhirError) {
    const outcome = structuredClone(err.outcome);
    for (const issue of outcome.issue ?? []) {
      const text = issue.details?.text ?? issue.diagnostics ?? '';
      issue.details = { ...issue.details, text: `Bundle.entry[${index}]: ${text}` };
    }
    return new FhirError(err.status, outcome, err);
  }
  return err;
}

/** Must be called inside one SQLite transaction (the caller's); throws on the first failing entry. */
export function runTransaction(bundle: Bundle, base: string, x: EntryExecutor): Bundle {
  const planned = (bundle.entry ?? []).map((e, i) => parseEntry(e, i, base));
  const fullUrls = new Map<string, string>();

  // 1. Every entry that writes gets its final identity, so references to it can be rewritten.
  for (const p of planned) {
    try {
      x.identify(p, 'transaction');
    } catch (err) {
      throw withEntryPath(err, p.index);
    }
    if (p.entry.fullUrl && p.id !== undefined && p.url.resourceType !== undefined) {
      fullUrls.set(p.entry.fullUrl, `${p.url.resourceType}/${p.id}`);
    }
  }

  // 2. References: fullUrls and conditional references, resolved against the store as it was.
  const resolver = createResolver(x, fullUrls);
  for (const p of planned) {
    if (p.entry.resource) {
      try {
        p.entry = { ...p.entry, resource: rewriteReferences(p.entry.resource, resolver) as Resource };
      } catch (err) {
        throw withEntryPath(err, p.index);
      }
    }
  }

  // 3. Execute in FHIR order; answer in Bundle order.
  const responses = new Array<BundleEntry>(planned.length);
  for (const p of [...planned].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
    try {
      responses[p.index] = x.execute(p);
    } catch (err) {
      throw withEntryPath(err, p.index);
    }
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

/**
 * Resolves a Bundle's references: fullUrls from `fullUrls`, conditional references (`Patient?identifier=x|y`)
 * through the executor, each query looked up once per Bundle.
 */
function createResolver(x: EntryExecutor, fullUrls: Map<string, string>): ReferenceResolver {
  const conditionalCache = new Map<string, string>();
  return {
    fullUrls,
    conditional(reference, resourceType, query) {
      let resolved = conditionalCache.get(reference);
      if (resolved === undefined) {
        assertResourceType(resourceType);
        const id = x.findOne(resourceType, query);
        if (id === undefined) {
          throw errors.badRequest(`Conditional reference ${reference} matches no resource`, 'reference');
        }
        resolved = `${resourceType}/${id}`;
        conditionalCache.set(reference, resolved);
      }
      return resolved;
    },
  };
}

/** Each entry in its own savepoint: a failure is that entry's OperationOutcome, the rest go on. */
export function runBatch(bundle: Bundle, base: string, x: EntryExecutor): Bundle {
  const resolver = createResolver(x, new Map());
  const entries = (bundle.entry ?? []).map((entry, index): BundleEntry => {
    try {
      return x.savepoint(() => {
        const p = parseEntry(entry, index, base);
        if (p.entry.resource) {
          p.entry = { ...p.entry, resource: rewriteReferences(p.entry.resource, resolver) as Resource };
        }
        x.identify(p, 'batch');
        return x.execute(p);
      });
    } catch (err) {
      const { status, outcome } = toErrorResponse(err);
      const response: BundleEntryResponse = { status: String(status), outcome };
      return { response };
    }
  });
  return { resourceType: 'Bundle', type: 'batch-response', entry: entries };
}

/** The raw store's executor: entries written as they are, in the call context's project. */
function storeExecutor(core: StoreCore, ctx: CallContext | undefined, base: string): EntryExecutor {
  return {
    identify(p, mode) {
      const type = p.url.resourceType;
      if (type === undefined) {
        return;
      }
      const ifNoneExist = p.entry.request?.ifNoneExist;
      if (p.method === 'POST' && (ifNoneExist || mode === 'transaction')) {
        p.existing = ifNoneExist ? singleMatch(core, type, ifNoneExist, ctx, 'If-None-Exist') : undefined;
        p.id = p.existing?.id ?? (mode === 'transaction' ? newResourceId() : undefined);
      } else if (mode === 'transaction' && p.method === 'PUT' && p.url.id === undefined) {
        p.id = singleMatch(core, type, p.url.query ?? '', ctx, 'Conditional update')?.id ?? newResourceId();
      } else if (mode === 'transaction' && p.method === 'PUT' && p.url.id !== undefined) {
        p.id = p.url.id;
      }
    },
    findOne: (resourceType, query) => singleMatch(core, resourceType, query, ctx, 'Conditional reference')?.id,
    execute: (p) => execute(core, p, ctx, base),
    savepoint: (fn) => inTransaction(core.db, fn),
  };
}

export function processTransaction(core: StoreCore, bundle: Bundle, ctx: CallContext | undefined): Bundle {
  const base = baseUrlOf(core, ctx);
  return runTransaction(bundle, base, storeExecutor(core, ctx, base));
}

export function processBatch(core: StoreCore, bundle: Bundle, ctx: CallContext | undefined): Bundle {
  const base = baseUrlOf(core, ctx);
  return runBatch(bundle, base, storeExecutor(core, ctx, base));
}

export function processBundle(core: StoreCore, bundle: Bundle, ctx: CallContext | undefined, commitWith?: (response: Bundle) => void): Bundle {
  if (bundle?.resourceType !== 'Bundle') {
    throw errors.badRequest('Expected a Bundle', 'resourceType');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) {
    throw errors.badRequest('Bundle.entry must be an array', 'Bundle.entry');
  }
  if (bundle.type === 'transaction') {
    // The whole Bundle's index rows are written sorted, once, at its end (see SearchIndexer.deferred).
    return inTransaction(core.db, () => {
      const response = core.indexer.deferred(core.db, () => processTransaction(core, bundle, ctx));
      commitWith?.(response);
      return response;
    });
  }
  if (bundle.type === 'batch') {
    assertNoCommitWith(commitWith);
    return processBatch(core, bundle, ctx);
  }
  throw errors.badRequest(`Bundle.type must be batch or transaction, not ${String(bundle.type)}`, 'Bundle.type');
}

/** A batch has no transaction of its own to commit the caller's rows with (each entry is its own). */
export function assertNoCommitWith(commitWith: unknown): void {
  if (commitWith !== undefined) {
    throw errors.badRequest('Only a transaction Bundle commits as one: a batch cannot carry rows of the caller\'s');
  }
}
