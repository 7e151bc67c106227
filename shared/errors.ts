// The one error type of Outpost: a FHIR OperationOutcome with an HTTP status.
// It extends @medplum/core's OperationOutcomeError so Medplum helpers (normalizeOperationOutcome,
// MedplumClient) understand it, and carries its status explicitly so no caller has to guess.
import { OperationOutcomeError, getStatus, normalizeOperationOutcome } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends OperationOutcomeError {
  readonly status: number;
  constructor(status: number, outcome: OperationOutcome, cause?: unknown) {
    super(outcome, cause);
    this.status = status;
  }
}

export function outcome(severity: 'error' | 'warning' | 'information', code: IssueCode, text: string, expression?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity,
        code,
        details: { text },
        ...(expression ? { expression: [expression] } : {}),
      },
    ],
  };
}

function make(status: number, code: IssueCode, text: string, expression?: string): FhirError {
  return new FhirError(status, outcome('error', code, text, expression));
}

/** Factories for every status Outpost answers with. `expression` names the offending path or parameter. */
export const errors = {
  badRequest: (text: string, expression?: string) => make(400, 'invalid', text, expression),
  unauthorized: (text = 'Unauthorized') => make(401, 'login', text),
  forbidden: (text = 'Forbidden') => make(403, 'forbidden', text),
  notFound: (text = 'Not found') => make(404, 'not-found', text),
  methodNotAllowed: (text = 'Method not allowed') => make(405, 'not-supported', text),
  conflict: (text: string) => make(409, 'conflict', text),
  gone: (text = 'Deleted') => make(410, 'deleted', text),
  preconditionFailed: (text: string) => make(412, 'conflict', text),
  tooLarge: (text = 'Request body too large') => make(413, 'too-costly', text),
  unsupportedMediaType: (text: string) => make(415, 'not-supported', text),
  headersTooLarge: (text = 'Request URL or headers too large') => make(431, 'too-costly', text),
  unprocessable: (text: string, expression?: string) => make(422, 'processing', text, expression),
  tooManyRequests: (text = 'Too many requests') => make(429, 'throttled', text),
  internal: (text = 'Internal server error') => make(500, 'exception', text),
};

/**
 * Turns anything thrown into a status and an OperationOutcome fit to send to a client:
 * unknown errors become a 500 without their message or stack (they may hold internals).
 */
export function toErrorResponse(err: unknown): { status: number; outcome: OperationOutcome } {
  if (err instanceof FhirError) {
    return { status: err.status, outcome: err.outcome };
  }
  if (err instanceof OperationOutcomeError) {
    const oo = normalizeOperationOutcome(err);
    return { status: getStatus(oo), outcome: oo };
  }
  return { status: 500, outcome: outcome('error', 'exception', 'Internal server error') };
}

/** The words of what toErrorResponse would send for `err` (its first issue), or `fallback` when it has none. */
export function outcomeText(err: unknown, fallback: string): string {
  const issue = toErrorResponse(err).outcome.issue?.[0];
  return issue?.details?.text ?? issue?.diagnostics ?? fallback;
}

export function isFhirError(err: unknown, status?: number): err is FhirError {
  return err instanceof FhirError && (status === undefined || err.status === status);
}
