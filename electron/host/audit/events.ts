// AuditEvent resources as Medplum writes them: type `audit-event-type|rest` with the restful
// interaction as subtype for FHIR calls, DICOM 110114 (User Authentication) with login / logout
// subtypes for the auth flow. They name resources by reference and searches by their query, never
// by content, so no hidden field value or secret can be carried into one. They are valid by
// construction: every text that comes from a request or an error (a reason, a typed identity, an id
// from a URL) goes through safeText, and a reference that is not `Type/id` becomes a display.
import type { AuditEvent, Reference } from '@medplum/fhirtypes';
import { safeText } from '../../../shared/safe-text.ts';

export const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
export const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
export const OUTPOST_AUDIT = 'https://outpost.local/fhir/CodeSystem/audit-subtype';

export type AuditOutcome = 'success' | 'denied' | 'error';
export type Action = 'C' | 'R' | 'U' | 'D' | 'E';

export interface Agent {
  who: Reference;
  user?: Reference;
  name?: string;
  /** A "view as" preview: `who` (the administrator) is viewing the app as this profile. */
  viewing?: Reference;
}

/** AuditEvent.agent.type of the profile a "view as" preview shows. */
export const VIEW_AS_AGENT_TYPE = { coding: [{ system: 'https://outpost.local/fhir/CodeSystem/audit-agent', code: 'view-as', display: 'Viewed as' }] };

export interface RestAuditInput {
  project: string;
  agent: Agent;
  /** Restful interaction code: read, vread, update, patch, delete, history-instance, history-type, create, search-type, ... */
  interaction: string;
  outcome: AuditOutcome;
  /** Why it was denied or failed (the OperationOutcome text, which never carries hidden values). */
  reason?: string;
  /** 'Patient/123' */
  entity?: string;
  /** A search's query ('Patient?name=...'). */
  query?: string;
  recorded: string;
}

const ACTION: Record<string, Action> = {
  create: 'C',
  read: 'R',
  vread: 'R',
  search: 'R',
  'search-type': 'R',
  'search-system': 'R',
  'history-instance': 'R',
  'history-type': 'R',
  'history-system': 'R',
  update: 'U',
  patch: 'U',
  delete: 'D',
};

export function outcomeCode(outcome: AuditOutcome): '0' | '4' | '8' {
  return outcome === 'success' ? '0' : outcome === 'denied' ? '4' : '8';
}

/** Longest outcomeDesc kept (the rest of an error's words add nothing to an audit line). */
export const MAX_AUDIT_TEXT = 500;

const LITERAL_REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** A reference as stored: `Type/id[/_history/v]` as it is; anything else (an id typed into a URL) only as a safe display. */
export function safeReference(reference: string): Reference {
  return LITERAL_REFERENCE.test(reference) ? { reference } : { display: safeText(reference, 200) ?? 'invalid reference' };
}

function safeAgentReference(ref: Reference): Reference {
  const display = ref.display === undefined ? undefined : safeText(ref.display, 200);
  if (ref.reference !== undefined) {
    const safe = safeReference(ref.reference);
    return safe.reference !== undefined && display ? { ...safe, display } : safe;
  }
  return { display: display ?? 'unknown' };
}

function agents(agent: Agent): AuditEvent['agent'] {
  // A User or ClientApplication is a legitimate agent (Medplum writes them); the fhirtypes narrow `who`.
  const name = agent.name === undefined ? undefined : safeText(agent.name, 200);
  const list: AuditEvent['agent'] = [{ who: safeAgentReference(agent.who) as never, requestor: true, ...(name ? { name } : {}) }];
  if (agent.user?.reference && agent.user.reference !== agent.who.reference) {
    list.push({ who: safeAgentReference(agent.user) as never, requestor: false });
  }
  if (agent.viewing) {
    list.push({ who: agent.viewing as never, requestor: false, type: VIEW_AS_AGENT_TYPE });
  }
  return list;
}

function outcomeDesc(reason: string | undefined): { outcomeDesc?: string } {
  const text = reason === undefined ? undefined : safeText(reason, MAX_AUDIT_TEXT);
  return text ? { outcomeDesc: text } : {};
}

export function restAuditEvent(input: RestAuditInput): AuditEvent {
  const entity: AuditEvent['entity'] = [];
  if (input.entity) {
    entity.push({ what: safeReference(input.entity) });
  }
  if (input.query !== undefined) {
    entity.push({ query: Buffer.from(input.query, 'utf8').toString('base64'), description: 'search query (base64)' });
  }
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: RESTFUL_INTERACTION, code: input.interaction, display: input.interaction }],
    action: ACTION[input.interaction] ?? 'E',
    recorded: input.recorded,
    outcome: outcomeCode(input.outcome),
    ...outcomeDesc(input.reason),
    agent: agents(input.agent),
    source: { observer: { display: 'Outpost' } },
    ...(entity.length ? { entity } : {}),
  };
}

/**
 * An Outpost operation a person takes outside FHIR's interactions (invite, reset a password, set the
 * sync remote, resolve a sync conflict...): a REST `operation` event with the action as a second subtype
 * (OUTPOST_AUDIT|<action>), so the audit log can filter on it.
 */
export function operationAuditEvent(input: Omit<RestAuditInput, 'interaction' | 'query'> & { action: string }): AuditEvent {
  const { action, ...rest } = input;
  const event = restAuditEvent({ ...rest, interaction: 'operation' });
  event.subtype = [...(event.subtype ?? []), { system: OUTPOST_AUDIT, code: action, display: action }];
  return event;
}

export interface AuthAuditInput {
  project: string;
  agent: Agent;
  /** login, login-failure, lockout, logout, role-switch, ... (the auth service's event types). */
  event: string;
  outcome: AuditOutcome;
  reason?: string;
  entity?: string;
  recorded: string;
}

const DICOM_SUBTYPE: Record<string, { code: string; display: string }> = {
  login: { code: '110122', display: 'Login' },
  'client-login': { code: '110122', display: 'Login' },
  'login-failure': { code: '110122', display: 'Login' },
  'client-login-failure': { code: '110122', display: 'Login' },
  'mfa-failure': { code: '110122', display: 'Login' },
  'login-refused-locked-out': { code: '110122', display: 'Login' },
  unlock: { code: '110122', display: 'Login' },
  'unlock-failure': { code: '110122', display: 'Login' },
  logout: { code: '110123', display: 'Logout' },
  'session-ended': { code: '110123', display: 'Logout' },
  'session-locked': { code: '110123', display: 'Logout' },
};

export function authAuditEvent(input: AuthAuditInput): AuditEvent {
  const dicom = DICOM_SUBTYPE[input.event];
  const subtype = [
    ...(dicom ? [{ system: DICOM, ...dicom }] : []),
    { system: OUTPOST_AUDIT, code: input.event, display: input.event },
  ];
  return {
    resourceType: 'AuditEvent',
    type: { system: DICOM, code: '110114', display: 'User Authentication' },
    subtype,
    action: 'E',
    recorded: input.recorded,
    outcome: outcomeCode(input.outcome),
    ...outcomeDesc(input.reason),
    agent: agents(input.agent),
    source: { observer: { display: 'Outpost' } },
    ...(input.entity ? { entity: [{ what: safeReference(input.entity) }] } : {}),
  };
}
