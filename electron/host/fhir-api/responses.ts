// Shapes of FHIR REST answers, built on the routes kit's `respond`: the resource with ETag,
// Last-Modified and Location, `Prefer: return=...`, and OperationOutcomes for success without a resource.
import { allOk } from '@medplum/core';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { outcome } from '../../../shared/errors.ts';
import { preferReturn, weakEtag } from '../../../shared/fhir/http.ts';
import { respond } from '../routes/respond.ts';
import type { Answer } from '../routes/router.ts';

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

export function okOutcome(text: string): Answer<OperationOutcome> {
  return respond(outcome('information', 'informational', text));
}

/** A read or a write answered with the resource, honouring `Prefer: return=` for writes. */
export function resourceResponse(status: number, resource: Resource, baseUrl: string, prefer?: string, withLocation = status === 201): Answer {
  const headers = versionHeaders(resource);
  if (withLocation && resource.id) {
    const version = resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : '';
    headers.location = `${baseUrl}${resource.resourceType}/${resource.id}${version}`;
  }
  const wanted = preferReturn(prefer);
  if (wanted === 'minimal') {
    return { status, headers };
  }
  return respond(wanted === 'OperationOutcome' ? (allOk as OperationOutcome) : resource, { status, headers });
}
