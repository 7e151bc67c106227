// Checks of an AccessPolicy typed as JSON, run as the admin types (before the host's own validation).
import type { AccessPolicy } from '@medplum/fhirtypes';

export interface JsonCheck {
  policy?: AccessPolicy;
  /** Problems, each with the entry index it concerns when it concerns one. */
  problems: { entry?: number; message: string }[];
}

const INTERACTIONS = new Set(['create', 'read', 'update', 'delete', 'search', 'history', 'vread']);

export function checkPolicyJson(text: string): JsonCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problems: [{ message: `Not valid JSON: ${(err as Error).message}` }] };
  }
  const problems: JsonCheck['problems'] = [];
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { problems: [{ message: 'The policy must be a JSON object' }] };
  }
  const policy = parsed as AccessPolicy;
  if (policy.resourceType !== 'AccessPolicy') problems.push({ message: 'resourceType must be "AccessPolicy"' });
  if (policy.resource !== undefined && !Array.isArray(policy.resource)) problems.push({ message: '"resource" must be a list of entries' });
  (Array.isArray(policy.resource) ? policy.resource : []).forEach((entry, i) => {
    if (!entry || typeof entry !== 'object') {
      problems.push({ entry: i, message: `Entry ${i + 1} must be an object` });
      return;
    }
    if (typeof entry.resourceType !== 'string' || !/^(\*|[A-Z][A-Za-z]+)$/.test(entry.resourceType)) {
      problems.push({ entry: i, message: `Entry ${i + 1}: resourceType must be a FHIR type or "*"` });
    }
    if (entry.criteria !== undefined) {
      if (typeof entry.criteria !== 'string') problems.push({ entry: i, message: `Entry ${i + 1}: criteria must be text` });
      else if (!entry.criteria.startsWith(`${entry.resourceType}?`) && entry.resourceType !== '*') {
        problems.push({ entry: i, message: `Entry ${i + 1}: criteria must start with "${entry.resourceType}?"` });
      }
    }
    for (const key of ['hiddenFields', 'readonlyFields'] as const) {
      const v = entry[key];
      if (v !== undefined && (!Array.isArray(v) || v.some((f) => typeof f !== 'string' || !f))) {
        problems.push({ entry: i, message: `Entry ${i + 1}: ${key} must be a list of field paths` });
      }
    }
    if (entry.interaction !== undefined && (!Array.isArray(entry.interaction) || entry.interaction.some((x) => !INTERACTIONS.has(x)))) {
      problems.push({ entry: i, message: `Entry ${i + 1}: interaction must list only ${[...INTERACTIONS].join(', ')}` });
    }
    if (entry.writeConstraint !== undefined && (!Array.isArray(entry.writeConstraint) || entry.writeConstraint.some((c) => typeof c?.expression !== 'string'))) {
      problems.push({ entry: i, message: `Entry ${i + 1}: each writeConstraint needs an expression` });
    }
  });
  return { policy: problems.length ? undefined : policy, problems };
}

/** The entry index a server error names ("resource[2]" in its expression, or "entry 3" in its text). */
export function entryOfError(text: string | undefined, paths: string[] = []): number | undefined {
  for (const p of paths) {
    const m = /resource\[(\d+)\]/.exec(p);
    if (m) return Number(m[1]);
  }
  const m = text ? /resource\[(\d+)\]|entry (\d+)/i.exec(text) : null;
  if (m) return m[1] !== undefined ? Number(m[1]) : Number(m[2]) - 1;
  return undefined;
}
