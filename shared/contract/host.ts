// The one door: every request to the host, whatever the transport (IPC, loopback HTTP, CLI, tests),
// is a HostRequest, and every answer a HostResponse. Plain serialisable data only.
import { z } from 'zod';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const hostRequestSchema = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
  /** Path and query relative to the host root, e.g. `/fhir/R4/Patient?name=smith`. */
  path: z.string().min(1).max(16 * 1024).startsWith('/'),
  /** Header names lower-cased. */
  headers: z.record(z.string(), z.string()).default({}),
  /** The raw body text (JSON is parsed by the host so malformed JSON is its 400), or absent. */
  body: z.string().max(MAX_BODY_BYTES).optional(),
});

export type HostRequest = z.input<typeof hostRequestSchema>;

export interface HostResponse {
  status: number;
  headers: Record<string, string>;
  /** A FHIR resource (including OperationOutcome for errors), another JSON value, or text. */
  body?: unknown;
}
