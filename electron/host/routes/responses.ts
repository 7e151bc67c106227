// Shapes of FHIR REST answers: the resource with ETag/Last-Modified/Location, `Prefer: return=...`,
// and OperationOutcome bodies for success without a resource.
import { allOk } from '@medplum/core';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { outcome } from '../../../shared/errors.ts';
import { FHIR_JSON_UTF8, preferReturn, weakEtag } from '../../../shared/fhir/http.ts';

export function fhirHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': FHIR_JSON_UTF8, ...extra };
}

/** ETag and Last-Modified of a stored resource version. */
export function versionHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) {
    headers.etag = weakEtag(resource.meta.versionId);
  }
  if (resource.meta?.lastUpdated) {
    const date = new Date(resource.meta.lastUpdated);
    if (!Number.isNaN(date.getTime())) {
      headers['last-modified'] = date.toUTCString();
    }
  }
  return headers;
}

export function ok(body: unknown, headers: Record<string, string> = {}): HostResponse {
  return { status: 200, headers: fhirHeaders(headers), body };
}

export function okOutcome(text: string): HostResponse {
  return ok(outcome('information', 'informational', text));
}

/** A read or a write answered with the resource, honouring `Prefer: return=` for writes. */
export function resourceResponse(
  status: number,
  resource: Resource,
  baseUrl: string,
  prefer?: string,
  withLocation = status === 201
): HostResponse {
  const headers = fhirHeaders(versionHeaders(resource));
  if (withLocation && resource.id) {
    const version = resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : '';
    headers.location = `${baseUrl}${resource.resourceType}/${resource.id}${version}`;
  }
  const wanted = preferReturn(prefer);
  if (wanted === 'minimal') {
    delete headers['content-type'];
    return { status, headers };
  }
  if (wanted === 'OperationOutcome') {
    return { status, headers, body: allOk as OperationOutcome };
  }
  return { status, headers, body: resource };
}
