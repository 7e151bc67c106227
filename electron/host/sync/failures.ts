// Why things failed, for a run's summary: failures grouped by what happened and the remote's reason,
// each group with a count and a few examples, so "22 AuditEvents failed" always comes with its why
// and a run of 10,000 refusals stays a handful of lines.
import type { BundleEntry } from '@medplum/fhirtypes';

export interface FailureGroup {
  /** What happened to them: 'held', 'quarantined', 'retry later', 'not pushed'... */
  what: string;
  /** The remote's reason (status and OperationOutcome text), or ours. */
  reason: string;
  count: number;
  /** Up to three `Type/id` of the group. */
  examples: string[];
}

const MAX_GROUPS = 20;
const MAX_EXAMPLES = 3;

export interface FailureLedger {
  add(what: string, reason: string | undefined, example?: string): void;
  list(): FailureGroup[];
}

export function createFailureLedger(): FailureLedger {
  const groups = new Map<string, FailureGroup>();
  let overflow: FailureGroup | undefined;
  return {
    add(what, reason, example) {
      const why = reason?.trim() || 'no reason given by the remote';
      const key = `${what}\u0000${why}`;
      let group = groups.get(key);
      if (!group) {
        if (groups.size >= MAX_GROUPS) {
          overflow ??= { what: 'other failures', reason: 'more reasons than shown', count: 0, examples: [] };
          group = overflow;
        } else {
          group = { what, reason: why, count: 0, examples: [] };
          groups.set(key, group);
        }
      }
      group.count++;
      if (example && group.examples.length < MAX_EXAMPLES) group.examples.push(example);
    },
    list: () => [...groups.values(), ...(overflow ? [overflow] : [])],
  };
}

/** One line per group: `3 held: 400 Invalid birthDate (Patient/a, Patient/b, Patient/c)`. */
export function failureLines(groups: FailureGroup[], noun = 'change'): string[] {
  return groups.map((g) => `${g.count} ${noun}${g.count === 1 ? '' : 's'} ${g.what}: ${g.reason}${g.examples.length ? ` (${g.examples.join(', ')}${g.count > g.examples.length ? ', ...' : ''})` : ''}`);
}

/** The status and OperationOutcome text of a batch entry's answer. */
export function entryOutcomeText(entry: BundleEntry | undefined): string | undefined {
  const oo = entry?.response?.outcome as { issue?: { details?: { text?: string }; diagnostics?: string; expression?: string[] }[] } | undefined;
  const text = oo?.issue
    ?.map((i) => {
      const what = i.details?.text ?? i.diagnostics;
      return what && i.expression?.length ? `${what} (${i.expression.join(', ')})` : what;
    })
    .filter(Boolean)
    .join('; ');
  const status = entry?.response?.status;
  return text ? `${status ? `${Number.parseInt(status, 10) || status} ` : ''}${text}` : undefined;
}
