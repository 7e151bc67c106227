// The errors of authentication. Each is a FhirError; some carry a machine-readable code in
// issue[0].details.coding so clients can tell them apart (a locked session from an expired one) and the
// token endpoint can answer in OAuth's `{error, error_description}` form.
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, outcome, type IssueCode } from '../../../shared/errors.ts';

/** Outpost's codes for auth outcomes (issue.details.coding.system). */
export const AUTH_OUTCOME_SYSTEM = 'https://outpost.local/fhir/CodeSystem/auth-outcome';
/** RFC 6749 §5.2 error codes (issue.details.coding.system). */
export const OAUTH_ERROR_SYSTEM = 'urn:ietf:rfc:6749';

export const SESSION_LOCKED = 'session-locked';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type';

function coded(status: number, code: IssueCode, text: string, system: string, value: string): FhirError {
  const oo = outcome('error', code, text);
  oo.issue[0].details = { text, coding: [{ system, code: value }] };
  return new FhirError(status, oo);
}

/** Medplum's exact wording, for an unknown email and a wrong password alike. */
export function invalidCredentials(): FhirError {
  return new FhirError(400, outcome('error', 'invalid', 'Email or password is invalid'));
}

export function sessionLocked(): FhirError {
  return coded(401, 'login', 'Session locked: enter your password to unlock it', AUTH_OUTCOME_SYSTEM, SESSION_LOCKED);
}

export function oauthError(error: OAuthErrorCode, description: string): FhirError {
  return coded(error === 'invalid_client' ? 401 : 400, error === 'invalid_client' ? 'login' : 'invalid', description, OAUTH_ERROR_SYSTEM, error);
}

/** The auth code of an outcome (`session-locked`, an OAuth error...), if it carries one. */
export function authOutcomeCode(oo: OperationOutcome, system = AUTH_OUTCOME_SYSTEM): string | undefined {
  return oo.issue?.[0]?.details?.coding?.find((c) => c.system === system)?.code;
}

export function isSessionLockedOutcome(oo: OperationOutcome): boolean {
  return authOutcomeCode(oo) === SESSION_LOCKED;
}
