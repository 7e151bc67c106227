// The one way a handler answers: a status, headers and a JSON body. The FHIR API answers FHIR JSON; the
// host's own API answers plain JSON that no cache keeps (sessions, sync state and secrets change under it).
// A failure is answered the one way too, by the door and by every transport in front of it
// (`respondError`): its OperationOutcome with its status.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { toErrorResponse } from '../../../shared/errors.ts';
import { FHIR_JSON_UTF8 } from '../../../shared/fhir/http.ts';
import { RouteError, type Answer } from './router.ts';

export const JSON_UTF8 = 'application/json; charset=utf-8';

export interface RespondOptions {
  status?: number;
  /** 'fhir' (application/fhir+json, the default: resources and OperationOutcomes) or 'json' (never cached). */
  type?: 'fhir' | 'json';
  headers?: Record<string, string>;
}

export function respond<B>(body: B, options: RespondOptions = {}): Answer<B> {
  const type = options.type ?? 'fhir';
  const headers: Record<string, string> = type === 'fhir' ? { 'content-type': FHIR_JSON_UTF8 } : { 'content-type': JSON_UTF8, 'cache-control': 'no-store' };
  return { status: options.status ?? 200, headers: { ...headers, ...options.headers }, body };
}

/** Plain JSON, never cached: the host's own API. */
export function respondJson<B>(body: B, status = 200): Answer<B> {
  return respond(body, { status, type: 'json' });
}

/** A failure answered: its OperationOutcome and status, with a RouteError's headers (Allow, WWW-Authenticate) and `headers`. */
export function respondError(err: unknown, headers: Record<string, string> = {}): Answer<OperationOutcome> {
  const { status, outcome } = toErrorResponse(err);
  return respond(outcome, { status, headers: { ...(err instanceof RouteError ? err.headers : {}), ...headers } });
}
