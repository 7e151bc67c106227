// The FHIR REST domain under /fhir/R4/: one table of routes onto the session's Repository.
// Handlers check what the URL and headers say, then call the store, which validates resources and
// throws FhirErrors; a request rejected here or there changes nothing.
import { isResourceType } from '@medplum/core';
import type { Bundle, CapabilityStatement } from '@medplum/fhirtypes';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { errors } from '../../../shared/errors.ts';
import { isFhirId } from '../../../shared/fhir/http.ts';
import type { CallContext, Repository } from '../access/index.ts';
import { parseJson, readPatchBody, readResourceBody, readSearchForm, requireJsonContentType } from './body.ts';
import { readHistoryQuery } from './history-query.ts';
import { ok, okOutcome, resourceResponse } from './responses.ts';
import type { Route, RouteRequest, SegmentMatchers } from './router.ts';

export interface FhirRouteDeps {
  /** The access-checked store of the request's session (the one enforcement point); 401 without one. */
  storeFor(req: RouteRequest): Repository;
  /** The CapabilityStatement without its per-request `implementation.url`. */
  capability: CapabilityStatement;
  /** Per-request call context (project, access restrictions later). */
  context(req: RouteRequest): CallContext;
}

export const fhirSegmentMatchers: SegmentMatchers = {
  // Anything shaped like a type name: unknown ones get a clear 404 from the handler instead of "no route".
  type: (s) => /^[A-Z][A-Za-z]{0,63}$/.test(s),
  id: isFhirId,
  vid: isFhirId,
};

/** The URL's resource type, known to the definitions, else 404. */
function urlType(req: RouteRequest): string {
  const type = req.params.type;
  if (!isResourceType(type)) {
    throw errors.notFound(`Unknown resource type: ${type}`);
  }
  return type;
}

function requireQuery(req: RouteRequest, what: string): string {
  if (!req.query.trim()) {
    throw errors.badRequest(`${what} needs search parameters`);
  }
  return req.query;
}

export function fhirRoutes(deps: FhirRouteDeps): Route[] {
  const ctx = (req: RouteRequest): CallContext => deps.context(req);

  const metadata = (req: RouteRequest): HostResponse =>
    ok({ ...deps.capability, implementation: { description: 'Outpost', url: req.baseUrl } });

  const read = (req: RouteRequest): HostResponse =>
    resourceResponse(200, deps.storeFor(req).read(urlType(req), req.params.id, ctx(req)), req.baseUrl);

  const vread = (req: RouteRequest): HostResponse =>
    resourceResponse(200, deps.storeFor(req).vread(urlType(req), req.params.id, req.params.vid, ctx(req)), req.baseUrl);

  const create = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const resource = readResourceBody(req, type);
    // A create's id is the server's to choose (FHIR: a client-supplied id is ignored).
    const { id: _ignored, ...withoutId } = resource;
    const ifNoneExist = req.headers['if-none-exist'];
    const result = deps.storeFor(req).create(withoutId as typeof resource, ifNoneExist ? { ifNoneExist } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, req.baseUrl, req.headers.prefer);
  };

  const update = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const resource = readResourceBody(req, type);
    if (resource.id !== req.params.id) {
      throw errors.badRequest(
        resource.id === undefined ? 'The body of an update needs the id of the URL' : `Body id ${resource.id} differs from the URL id ${req.params.id}`,
        'id'
      );
    }
    const ifMatch = req.headers['if-match'];
    const result = deps.storeFor(req).update(resource, ifMatch ? { ifMatch } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, req.baseUrl, req.headers.prefer);
  };

  const conditionalUpdate = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const query = requireQuery(req, 'A conditional update');
    const resource = readResourceBody(req, type);
    const result = deps.storeFor(req).conditionalUpdate(type, query, resource, ctx(req));
    return resourceResponse(result.status, result.resource, req.baseUrl, req.headers.prefer);
  };

  const patch = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const body = readPatchBody(req);
    const ifMatch = req.headers['if-match'];
    const result = deps.storeFor(req).patch(type, req.params.id, body, ifMatch ? { ifMatch } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, req.baseUrl, req.headers.prefer);
  };

  const conditionalPatch = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const query = requireQuery(req, 'A conditional patch');
    const result = deps.storeFor(req).conditionalPatch(type, query, readPatchBody(req), ctx(req));
    return resourceResponse(result.status, result.resource, req.baseUrl, req.headers.prefer);
  };

  const remove = (req: RouteRequest): HostResponse => {
    deps.storeFor(req).delete(urlType(req), req.params.id, ctx(req));
    return okOutcome(`Deleted ${req.params.type}/${req.params.id}`);
  };

  const conditionalDelete = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const count = deps.storeFor(req).conditionalDelete(type, requireQuery(req, 'A conditional delete'), ctx(req));
    return okOutcome(`Deleted ${count} ${type} resource${count === 1 ? '' : 's'}`);
  };

  const search = (req: RouteRequest): HostResponse => ok(deps.storeFor(req).search(urlType(req), req.query, ctx(req)));
  const searchPost = (req: RouteRequest): HostResponse => ok(deps.storeFor(req).search(urlType(req), readSearchForm(req), ctx(req)));
  const systemSearch = (req: RouteRequest): HostResponse => ok(deps.storeFor(req).search(undefined, req.query, ctx(req)));
  const systemSearchPost = (req: RouteRequest): HostResponse => ok(deps.storeFor(req).search(undefined, readSearchForm(req), ctx(req)));

  /** GET Patient/123/Observation = Observation search with `_compartment=Patient/123`. */
  const compartmentSearch = (req: RouteRequest): HostResponse => {
    const type = urlType(req);
    const compartment = `_compartment=${encodeURIComponent(`Patient/${req.params.id}`)}`;
    return ok(deps.storeFor(req).search(type, req.query ? `${compartment}&${req.query}` : compartment, ctx(req)));
  };

  const history =
    (level: 'system' | 'type' | 'instance') =>
    (req: RouteRequest): HostResponse => {
      const query = readHistoryQuery(req.query);
      const resourceType = level === 'system' ? undefined : urlType(req);
      const id = level === 'instance' ? req.params.id : undefined;
      return ok(deps.storeFor(req).history({ ...query, resourceType, id }, ctx(req)));
    };

  const bundle = (req: RouteRequest): HostResponse => {
    requireJsonContentType(req);
    const value = parseJson(req.body) as Bundle;
    if (!value || typeof value !== 'object' || value.resourceType !== 'Bundle') {
      throw errors.badRequest('POST to the FHIR base needs a Bundle', 'resourceType');
    }
    if (value.type !== 'batch' && value.type !== 'transaction') {
      throw errors.badRequest(`Bundle.type must be batch or transaction, got ${String(value.type)}`, 'Bundle.type');
    }
    return ok(deps.storeFor(req).processBundle(value, ctx(req)));
  };

  return [
    { method: 'GET', pattern: 'metadata', handler: metadata },
    { method: 'GET', pattern: '', handler: systemSearch },
    { method: 'POST', pattern: '', handler: bundle },
    { method: 'POST', pattern: '_search', handler: systemSearchPost },
    { method: 'GET', pattern: '_history', handler: history('system') },
    { method: 'GET', pattern: ':type', handler: search },
    { method: 'POST', pattern: ':type', handler: create },
    { method: 'PUT', pattern: ':type', handler: conditionalUpdate },
    { method: 'PATCH', pattern: ':type', handler: conditionalPatch },
    { method: 'DELETE', pattern: ':type', handler: conditionalDelete },
    { method: 'POST', pattern: ':type/_search', handler: searchPost },
    { method: 'GET', pattern: ':type/_history', handler: history('type') },
    { method: 'GET', pattern: ':type/:id', handler: read },
    { method: 'PUT', pattern: ':type/:id', handler: update },
    { method: 'PATCH', pattern: ':type/:id', handler: patch },
    { method: 'DELETE', pattern: ':type/:id', handler: remove },
    { method: 'GET', pattern: ':type/:id/_history', handler: history('instance') },
    { method: 'GET', pattern: ':type/:id/_history/:vid', handler: vread },
    { method: 'GET', pattern: 'Patient/:id/:type', handler: compartmentSearch },
  ];
}
