// Reading request bodies: JSON that must be a resource of a known type, JSON Patch arrays, form bodies.
// Every problem is a 400/415 FhirError raised before the store is touched, so bad input changes nothing.
import { isResourceType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { FHIR_JSON, FORM_URL_ENCODED, JSON_PATCH, mediaType } from '../../../shared/fhir/http.ts';
import type { RouteRequest } from './router.ts';

const JSON_TYPES = new Set([FHIR_JSON, 'application/json']);

/** JSON body of a FHIR write: `application/fhir+json` or `application/json` (or no content type: IPC clients). */
export function requireJsonContentType(req: RouteRequest, also: string[] = []): string {
  const type = mediaType(req.headers['content-type']) ?? FHIR_JSON;
  if (!JSON_TYPES.has(type) && !also.includes(type)) {
    throw errors.unsupportedMediaType(`Unsupported content type: ${type}`);
  }
  return type;
}

export function parseJson(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') {
    throw errors.badRequest('Request body is empty');
  }
  try {
    return JSON.parse(body);
  } catch {
    throw errors.badRequest('Request body is not valid JSON');
  }
}

/** The body as a resource of a known type; with `expectedType`, the type must match (the URL's). */
export function readResourceBody(req: RouteRequest, expectedType?: string): Resource {
  requireJsonContentType(req);
  const value = parseJson(req.body);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw errors.badRequest('Request body must be a FHIR resource (a JSON object)');
  }
  const resourceType = (value as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || resourceType === '') {
    throw errors.badRequest('Missing resourceType', 'resourceType');
  }
  if (!isResourceType(resourceType)) {
    throw errors.badRequest(`Unknown resourceType: ${resourceType}`, 'resourceType');
  }
  if (expectedType && resourceType !== expectedType) {
    throw errors.badRequest(`resourceType ${resourceType} does not match the URL's ${expectedType}`, 'resourceType');
  }
  return value as Resource;
}

/** A PATCH body: a JSON Patch array, or a FHIRPath Patch `Parameters` resource. */
export function readPatchBody(req: RouteRequest): unknown {
  const type = requireJsonContentType(req, [JSON_PATCH]);
  const value = parseJson(req.body);
  if (type === JSON_PATCH || Array.isArray(value)) {
    if (!Array.isArray(value)) {
      throw errors.badRequest('A JSON Patch body must be an array of operations');
    }
    for (const op of value) {
      if (!op || typeof op !== 'object' || typeof op.op !== 'string' || typeof op.path !== 'string') {
        throw errors.badRequest('Each JSON Patch operation needs "op" and "path"');
      }
    }
    return value;
  }
  if ((value as { resourceType?: unknown })?.resourceType !== 'Parameters') {
    throw errors.badRequest('A PATCH body must be a JSON Patch array or a FHIRPath Patch Parameters resource');
  }
  return value;
}

/** The body of `POST Type/_search`: form-urlencoded parameters, appended to the URL's query. */
export function readSearchForm(req: RouteRequest): string {
  const body = req.body ?? '';
  if (body.trim() === '') {
    return req.query;
  }
  const type = mediaType(req.headers['content-type']);
  if (type !== FORM_URL_ENCODED) {
    throw errors.unsupportedMediaType(`POST _search needs ${FORM_URL_ENCODED}, got ${type ?? 'none'}`);
  }
  const form = body.trim();
  return req.query ? `${req.query}&${form}` : form;
}
