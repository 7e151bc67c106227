// AuditEvents in words for the audit log and its CSV: who (a name, never User/<uuid>), what they did,
// to which record or with which search (decoded, references named), and how it ended.
import type { AuditEvent } from '@medplum/fhirtypes';
import { formatWhen } from '../components/clinical.ts';

const OUTCOMES: Record<string, string> = { '0': 'Success', '4': 'Denied', '8': 'Failed', '12': 'Major failure' };
const OUTPOST_AUDIT = 'https://outpost.local/fhir/CodeSystem/audit-subtype';

/** What each subtype code means to a person reading the log. */
const ACTIONS: Record<string, string> = {
  read: 'Opened',
  vread: 'Opened a version',
  'search-type': 'Searched',
  'search-system': 'Searched',
  create: 'Created',
  update: 'Changed',
  patch: 'Changed',
  delete: 'Deleted',
  'history-instance': 'Viewed the history',
  'history-type': 'Viewed the history',
  'history-system': 'Viewed the history',
  batch: 'Sent a batch',
  transaction: 'Sent a transaction',
  login: 'Signed in',
  'client-login': 'Signed in (program)',
  'login-failure': 'Sign-in failed',
  'client-login-failure': 'Sign-in failed (program)',
  'mfa-failure': 'Wrong authenticator code',
  'login-refused-locked-out': 'Sign-in refused: locked out',
  lockout: 'Locked out',
  logout: 'Signed out',
  'session-ended': 'Session ended',
  'session-locked': 'Session locked',
  unlock: 'Unlocked',
  'unlock-failure': 'Unlock failed',
  'role-switch': 'Switched role',
  invite: 'Invited a person',
  'reset-password': 'Reset a password',
  'membership-activated': 'Reactivated a membership',
  'membership-deactivated': 'Deactivated a membership',
  'view-as': 'Viewed the app as',
  'view-as-end': 'Stopped viewing as',
  setup: 'Set up Outpost',
};

/** The subtypes people filter on, in words (value = the subtype code the host searches). */
export const ACTION_CHOICES: { value: string; label: string }[] = ['read', 'search-type', 'create', 'update', 'delete', 'login', 'login-failure', 'logout', 'role-switch', 'invite', 'view-as'].map((code) => ({ value: code, label: ACTIONS[code] }));

function decodeQuery(base64: string | undefined): string | undefined {
  if (!base64) return undefined;
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** Every reference an event names (agents, entities, references inside its search queries). */
export function referencesOf(event: AuditEvent): string[] {
  const refs = [...(event.agent ?? []).map((a) => a.who?.reference), ...(event.entity ?? []).map((e) => e.what?.reference)];
  for (const e of event.entity ?? []) {
    const query = decodeQuery(e.query);
    if (query) {
      refs.push(...(decodeURIComponent(query).match(/\b[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}/g) ?? []));
      // `Patient?_id=a,b`: the ids are records of the searched type.
      const [type, rest = ''] = query.split('?');
      new URLSearchParams(rest).get('_id')?.split(',').forEach((id) => refs.push(`${type}/${id}`));
    }
  }
  return refs.filter((r): r is string => Boolean(r) && !r!.includes('/_history'));
}

const nameOf = (reference: string | undefined, names: Record<string, string>, display?: string): string =>
  display ?? (reference ? (names[reference] ?? reference) : '');

/** A search in words: "Search Immunization: patient Mary Johnson" (paging and sorting left out). */
function searchWords(query: string, names: Record<string, string>): string {
  const [type, rest = ''] = query.split('?');
  const criteria = [...new URLSearchParams(rest).entries()]
    .filter(([name]) => !name.startsWith('_') || name === '_id' || name === '_tag')
    .map(([name, value]) => `${name === '_id' ? 'record' : name} ${value.split(',').map((v) => names[v] ?? names[`${type}/${v}`] ?? v).join(' or ')}`);
  return `Search ${type || 'all types'}${criteria.length ? `: ${criteria.join(', ')}` : ''}`;
}

export interface EventWords {
  when: string;
  who: string;
  action: string;
  what: string;
  outcome: string;
  reason?: string;
  failure: boolean;
}

export function describeEvent(event: AuditEvent, names: Record<string, string>): EventWords {
  const requestor = event.agent?.find((a) => a.requestor) ?? event.agent?.[0];
  // A "view as" preview: the requestor is the administrator, this agent the member being viewed as.
  const viewed = event.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'view-as'));
  const who = nameOf(requestor?.who?.reference, names, requestor?.who?.display) || requestor?.name || 'Unknown';
  const codes = (event.subtype ?? []).map((s) => s.code ?? '');
  const outpost = event.subtype?.find((s) => s.system === OUTPOST_AUDIT)?.code;
  const code = outpost ?? codes.find((c) => ACTIONS[c]) ?? codes[0] ?? event.type?.code ?? '';
  const what = (event.entity ?? [])
    .map((e) => {
      const query = decodeQuery(e.query);
      if (query) return searchWords(query, names);
      return nameOf(e.what?.reference, names, e.what?.display) || e.name || '';
    })
    .filter(Boolean)
    .join('; ');
  return {
    when: formatWhen(event.recorded),
    who: viewed ? `${who} viewing as ${nameOf(viewed.who?.reference, names, viewed.who?.display)}` : who,
    action: ACTIONS[code] ?? event.subtype?.[0]?.display ?? code,
    what,
    outcome: OUTCOMES[event.outcome ?? '0'] ?? 'Failed',
    reason: event.outcomeDesc,
    failure: event.outcome !== undefined && event.outcome !== '0',
  };
}

const csvCell = (value: string | undefined): string => {
  const text = value ?? '';
  // Quote always; a cell starting with = + - @ is prefixed so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
};

export function auditCsv(events: AuditEvent[], names: Record<string, string>): string {
  const rows = [['Recorded (UTC)', 'Who', 'Action', 'What', 'Outcome', 'Reason', 'Event id'].map(csvCell).join(',')];
  for (const e of events) {
    const w = describeEvent(e, names);
    rows.push([e.recorded, w.who, w.action, w.what, w.outcome, w.reason, e.id].map(csvCell).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
