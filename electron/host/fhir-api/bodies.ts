// The bodies of the FHIR API, read with the routes kit's one JSON reader: a resource of a known type,
// a JSON Patch or FHIRPath Patch, a search form. Every problem is a 400/415 before the store is touched.
import { isResourceType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { FORM_URL_ENCODED, JSON_PATCH, mediaType } from '../../../shared/fhir/http.ts';
import { JSON_TYPES, bodyMediaType, readJson, type BodyRequest } from '../routes/body.ts';

/** The body as a resource of a known type; with `expectedType`, the type must match (the URL's). */
export function readResourceBody(req: BodyRequest, expectedType?: string): Resource {
  const value = readJson(req);
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
export function readPatchBody(req: BodyRequest): unknown {
  const accept = [...JSON_TYPES, JSON_PATCH];
  const type = bodyMediaType(req, accept);
  const value = readJson(req, { accept });
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
export function readSearchForm(req: BodyRequest & { query: string }): string {
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
