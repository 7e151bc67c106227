// Small FHIR-over-HTTP conventions shared by the host, its transports and clients (pure: no Node, no DOM).

export const FHIR_JSON = 'application/fhir+json';
export const FHIR_JSON_UTF8 = 'application/fhir+json; charset=utf-8';
export const JSON_PATCH = 'application/json-patch+json';
export const FORM_URL_ENCODED = 'application/x-www-form-urlencoded';

/** The base path of the FHIR REST API on the host. */
export const FHIR_BASE_PATH = '/fhir/R4';

/** `W/"3"` for version 3: the ETag a FHIR server sends for a resource version. */
export function weakEtag(versionId: string): string {
  return `W/"${versionId}"`;
}

/** The version in an ETag/If-Match value (`W/"3"`, `"3"` or `3`), or undefined when it is not one. */
export function parseEtagVersion(value: string | undefined): string | undefined {
  if (!value) {
    return undefined;
  }
  const match = /^\s*(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?\s*$/.exec(value);
  return match?.[1];
}

/** The media type of a Content-Type header without parameters, lower-cased (`application/fhir+json`). */
export function mediaType(contentType: string | undefined): string | undefined {
  if (!contentType) {
    return undefined;
  }
  return contentType.split(';')[0].trim().toLowerCase() || undefined;
}

/** Parses a `Prefer` header's `return=` preference. */
export function preferReturn(prefer: string | undefined): 'minimal' | 'representation' | 'OperationOutcome' | undefined {
  const match = prefer ? /(?:^|[;,\s])return\s*=\s*"?(minimal|representation|OperationOutcome)"?/i.exec(prefer) : null;
  if (!match) {
    return undefined;
  }
  const value = match[1].toLowerCase();
  return value === 'minimal' ? 'minimal' : value === 'representation' ? 'representation' : 'OperationOutcome';
}

/** A FHIR resource id: 1-64 characters of letters, digits, '-' and '.'. */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function isFhirId(value: string): boolean {
  return FHIR_ID_PATTERN.test(value);
}
