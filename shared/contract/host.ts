// The one door: every request to the host, whatever the transport (IPC, loopback HTTP, CLI, tests),
// is a HostRequest, and every answer a HostResponse. Plain serialisable data only.
import { z } from 'zod';

/**
 * Largest body of a request, in bytes of UTF-8: 1 MiB, Medplum's default (`maxJsonSize`) for a
 * resource, a patch, a search form or an auth/admin call...
 */
export const MAX_BODY_BYTES = 1024 * 1024;
/** ...and 32 MiB for a batch or transaction Bundle posted to the FHIR base and a file given to the import route. */
export const MAX_BUNDLE_BODY_BYTES = 32 * 1024 * 1024;
/** Longest path and query (the request line of HTTP is bounded by Node's 16 KiB of headers anyway). */
export const MAX_PATH_CHARS = 16 * 1024;
/** Deepest nesting of arrays and objects in a JSON body (FHIR resources need a few dozen at most). */
export const MAX_JSON_DEPTH = 100;

/** The paths whose bodies may be as large as MAX_BUNDLE_BODY_BYTES: POSTs to the FHIR base, the import route. */
const BUNDLE_PATH = /^\/(fhir\/R4\/?|outpost\/import)(\?|$)/;

/** The body limit of a request, by its method and path (each transport checks it before reading the body). */
export function bodyLimitFor(method: string, path: string, ceiling = MAX_BUNDLE_BODY_BYTES): number {
  const limit = method.toUpperCase() === 'POST' && BUNDLE_PATH.test(path) ? MAX_BUNDLE_BODY_BYTES : MAX_BODY_BYTES;
  return Math.min(limit, ceiling);
}

export const hostRequestSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
  /** Path and query relative to the host root, e.g. `/fhir/R4/Patient?name=smith`. */
  path: z.string().min(1).max(MAX_PATH_CHARS).startsWith('/'),
  /** Header names lower-cased. */
  headers: z.record(z.string(), z.string()).default({}),
  /** The raw body text (JSON is parsed by the host so malformed JSON is its 400), or absent. */
  body: z.string().max(MAX_BUNDLE_BODY_BYTES).optional(),
});

export type HostRequest = z.input<typeof hostRequestSchema>;

export interface HostResponse {
  status: number;
  headers: Record<string, string>;
  /** A FHIR resource (including OperationOutcome for errors), another JSON value, or text. */
  body?: unknown;
}
