// Errors in words: every failure the stores report is the OperationOutcome's own text.
import { normalizeErrorString, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

export function errorText(err: unknown): string {
  if (err instanceof OperationOutcomeError) {
    const texts = (err.outcome.issue ?? []).map((i) => i.details?.text ?? i.diagnostics).filter((t): t is string => Boolean(t));
    if (texts.length) {
      return texts.join('; ');
    }
  }
  return normalizeErrorString(err);
}

export function outcomeOf(err: unknown): OperationOutcome | undefined {
  return err instanceof OperationOutcomeError ? err.outcome : undefined;
}

/** True when the error is a 404/410 (not found, or not visible to this role: the host answers 404 for both). */
export function isNotFound(err: unknown): boolean {
  const code = outcomeOf(err)?.issue?.[0]?.code;
  return code === 'not-found' || code === 'deleted';
}

/** The FHIR path an issue points at (expression or location), for showing server errors next to a field. */
export function issuePaths(err: unknown): string[] {
  return (outcomeOf(err)?.issue ?? []).flatMap((i) => [...(i.expression ?? []), ...(i.location ?? [])]);
}
