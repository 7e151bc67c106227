// The FHIR REST domain under /fhir/R4/: its routes onto the caller's Repository (the one enforcement
// point). Handlers check what the URL and headers say, then call the Repository, which validates
// resources and throws FhirErrors; a request rejected here or there changes nothing. Only the
// CapabilityStatement answers without a session.
import { isResourceType } from '@medplum/core';
import type { Bundle, CapabilityStatement } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { FHIR_BASE_PATH, isFhirId } from '../../../shared/fhir/http.ts';
import type { CallContext, Repository } from '../access/index.ts';
import { readJson } from '../routes/body.ts';
import { respond } from '../routes/respond.ts';
import { open, withRepository, type Answer, type Guarded, type Method, type Route, type RouteRequest, type SegmentMatchers } from '../routes/router.ts';
import { buildCapabilityStatement } from './capability.ts';
import { readHistoryQuery } from './history-query.ts';
import { readPatchBody, readResourceBody, readSearchForm } from './bodies.ts';
import { okOutcome, resourceResponse } from './responses.ts';

const BASE = FHIR_BASE_PATH.slice(1);

const fhirSegmentMatchers: SegmentMatchers = {
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

/** The absolute base of the FHIR API for this request, e.g. 'http://127.0.0.1:8103/fhir/R4/'. */
function baseOf(req: RouteRequest): string {
  return `${req.origin}${BASE}/`;
}

const ctx = (req: RouteRequest): CallContext => ({ baseUrl: baseOf(req) });

export interface FhirRouteOptions {
  /** The server's version, named in the CapabilityStatement. */
  version: string;
}

export function fhirRoutes(options: FhirRouteOptions): Route[] {
  let capability: CapabilityStatement | undefined;
  const metadata = (req: RouteRequest): Answer => {
    capability ??= buildCapabilityStatement(options.version, new Date().toISOString());
    return respond({ ...capability, implementation: { description: 'Outpost', url: baseOf(req) } });
  };

  const read = (req: RouteRequest, repo: Repository): Answer => resourceResponse(200, repo.read(urlType(req), req.params.id, ctx(req)), baseOf(req));

  const vread = (req: RouteRequest, repo: Repository): Answer =>
    resourceResponse(200, repo.vread(urlType(req), req.params.id, req.params.vid, ctx(req)), baseOf(req));

  const create = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const resource = readResourceBody(req, type);
    // A create's id is the server's to choose (FHIR: a client-supplied id is ignored).
    const { id: _ignored, ...withoutId } = resource;
    const ifNoneExist = req.headers['if-none-exist'];
    const result = repo.create(withoutId as typeof resource, ifNoneExist ? { ifNoneExist } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, baseOf(req), req.headers.prefer);
  };

  const update = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const resource = readResourceBody(req, type);
    if (resource.id !== req.params.id) {
      throw errors.badRequest(
        resource.id === undefined ? 'The body of an update needs the id of the URL' : `Body id ${resource.id} differs from the URL id ${req.params.id}`,
        'id'
      );
    }
    const ifMatch = req.headers['if-match'];
    const result = repo.update(resource, ifMatch ? { ifMatch } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, baseOf(req), req.headers.prefer);
  };

  const conditionalUpdate = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const query = requireQuery(req, 'A conditional update');
    const resource = readResourceBody(req, type);
    const result = repo.conditionalUpdate(type, query, resource, ctx(req));
    return resourceResponse(result.status, result.resource, baseOf(req), req.headers.prefer);
  };

  const patch = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const body = readPatchBody(req);
    const ifMatch = req.headers['if-match'];
    const result = repo.patch(type, req.params.id, body, ifMatch ? { ifMatch } : undefined, ctx(req));
    return resourceResponse(result.status, result.resource, baseOf(req), req.headers.prefer);
  };

  const conditionalPatch = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const query = requireQuery(req, 'A conditional patch');
    const result = repo.conditionalPatch(type, query, readPatchBody(req), ctx(req));
    return resourceResponse(result.status, result.resource, baseOf(req), req.headers.prefer);
  };

  const remove = (req: RouteRequest, repo: Repository): Answer => {
    repo.delete(urlType(req), req.params.id, ctx(req));
    return okOutcome(`Deleted ${req.params.type}/${req.params.id}`);
  };

  const conditionalDelete = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const count = repo.conditionalDelete(type, requireQuery(req, 'A conditional delete'), ctx(req));
    return okOutcome(`Deleted ${count} ${type} resource${count === 1 ? '' : 's'}`);
  };

  const search = (req: RouteRequest, repo: Repository): Answer => respond(repo.search(urlType(req), req.query, ctx(req)));
  const searchPost = (req: RouteRequest, repo: Repository): Answer => respond(repo.search(urlType(req), readSearchForm(req), ctx(req)));
  const systemSearch = (req: RouteRequest, repo: Repository): Answer => respond(repo.search(undefined, req.query, ctx(req)));
  const systemSearchPost = (req: RouteRequest, repo: Repository): Answer => respond(repo.search(undefined, readSearchForm(req), ctx(req)));

  /** GET Patient/123/Observation = Observation search with `_compartment=Patient/123`. */
  const compartmentSearch = (req: RouteRequest, repo: Repository): Answer => {
    const type = urlType(req);
    const compartment = `_compartment=${encodeURIComponent(`Patient/${req.params.id}`)}`;
    return respond(repo.search(type, req.query ? `${compartment}&${req.query}` : compartment, ctx(req)));
  };

  const history =
    (level: 'system' | 'type' | 'instance') =>
    (req: RouteRequest, repo: Repository): Answer => {
      const query = readHistoryQuery(req.query);
      const resourceType = level === 'system' ? undefined : urlType(req);
      const id = level === 'instance' ? req.params.id : undefined;
      return respond(repo.history({ ...query, resourceType, id }, ctx(req)));
    };

  const bundle = (req: RouteRequest, repo: Repository): Answer => {
    const value = readJson(req) as Bundle;
    if (!value || typeof value !== 'object' || value.resourceType !== 'Bundle') {
      throw errors.badRequest('POST to the FHIR base needs a Bundle', 'resourceType');
    }
    if (value.type !== 'batch' && value.type !== 'transaction') {
      throw errors.badRequest(`Bundle.type must be batch or transaction, got ${String(value.type)}`, 'Bundle.type');
    }
    return respond(repo.processBundle(value, ctx(req)));
  };

  const fhir = (method: Method, pattern: string, handler: Guarded): Route => ({
    method,
    pattern: pattern ? `${BASE}/${pattern}` : BASE,
    params: fhirSegmentMatchers,
    ...handler,
  });
  const as = withRepository<unknown, unknown>;
  return [
    fhir('GET', 'metadata', open(metadata)),
    fhir('GET', '', as(systemSearch)),
    fhir('POST', '', as(bundle)),
    fhir('POST', '_search', as(systemSearchPost)),
    fhir('GET', '_history', as(history('system'))),
    fhir('GET', ':type', as(search)),
    fhir('POST', ':type', as(create)),
    fhir('PUT', ':type', as(conditionalUpdate)),
    fhir('PATCH', ':type', as(conditionalPatch)),
    fhir('DELETE', ':type', as(conditionalDelete)),
    fhir('POST', ':type/_search', as(searchPost)),
    fhir('GET', ':type/_history', as(history('type'))),
    fhir('GET', ':type/:id', as(read)),
    fhir('PUT', ':type/:id', as(update)),
    fhir('PATCH', ':type/:id', as(patch)),
    fhir('DELETE', ':type/:id', as(remove)),
    fhir('GET', ':type/:id/_history', as(history('instance'))),
    fhir('GET', ':type/:id/_history/:vid', as(vread)),
    fhir('GET', 'Patient/:id/:type', as(compartmentSearch)),
  ];
}
