// Pure helpers of the sync panel: a conflict as rows of fields (base, this computer, server), values in
// words, reasons and progress phases in words.
import { formatAddress, formatCodeableConcept, formatHumanName } from '@medplum/core';
import type { Address, CodeableConcept, HumanName, Resource } from '@medplum/fhirtypes';
import type { SyncChange, SyncConflict, SyncProgress } from '../stores/sync.ts';

export interface ConflictRow {
  path: string;
  differs: boolean;
  base?: string;
  local?: string;
  remote?: string;
}

const SKIPPED = new Set(['resourceType', 'id', 'meta', 'text']);

/** The values at a dotted path ('name.family'), arrays flattened; undefined when absent. */
export function valueAt(resource: Resource | null | undefined, path: string): unknown {
  let values: unknown[] = resource ? [resource] : [];
  for (const part of path.split('.')) {
    values = values.flatMap((v) => {
      const next = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      return next === undefined ? [] : Array.isArray(next) ? next : [next];
    });
  }
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

function one(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const v = value as Record<string, unknown>;
  if ('family' in v || 'given' in v) return formatHumanName(v as HumanName) || JSON.stringify(v);
  if ('line' in v || 'city' in v || 'postalCode' in v) return formatAddress(v as Address) || JSON.stringify(v);
  if ('coding' in v) return formatCodeableConcept(v as CodeableConcept) || JSON.stringify(v);
  if ('system' in v && 'value' in v) return `${String(v.value)}${v.use ? ` (${String(v.use)})` : ''}`;
  if ('reference' in v || 'display' in v) return String(v.display ?? v.reference);
  if ('value' in v && 'unit' in v) return `${String(v.value)} ${String(v.unit)}`;
  return JSON.stringify(value);
}

/** A value for a person to read: names, addresses, codes, references and quantities in words. */
export function formatValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(one).join('; ') : one(value);
}

/** Rows of the side-by-side view: the differing fields first, then the others for context. */
export function conflictRows(conflict: SyncConflict): ConflictRow[] {
  const differing = conflict.fields;
  const covered = (key: string): boolean => differing.some((f) => f === key || f.startsWith(`${key}.`) || key.startsWith(`${f}.`));
  const keys = new Set<string>();
  for (const r of [conflict.local, conflict.remote, conflict.base]) {
    Object.keys(r ?? {}).forEach((k) => keys.add(k));
  }
  const same = [...keys].filter((k) => !SKIPPED.has(k) && !covered(k));
  const row = (path: string, differs: boolean): ConflictRow => ({
    path,
    differs,
    base: conflict.base ? formatValue(valueAt(conflict.base, path)) : undefined,
    local: formatValue(valueAt(conflict.local, path)),
    remote: formatValue(valueAt(conflict.remote, path)),
  });
  return [...differing.map((p) => row(p, true)), ...same.map((p) => row(p, false))];
}

/** A FHIR element path as a label: 'address.city' -> 'Address city', 'birthDate' -> 'Birth date'. */
export function fieldLabel(path: string): string {
  const words = path
    .split('.')
    .map((p) => p.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase())
    .join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const CONFLICT_REASONS: Record<string, string> = {
  'edited-both': 'Changed on this computer and on the server since the last sync.',
  'deleted-remotely': 'Deleted on the server, but changed on this computer.',
  'deleted-locally': 'Deleted on this computer, but changed on the server.',
  'pulled-over-pending': 'The server sent a newer version while a change made here was still waiting to be sent.',
};

export function conflictReasonText(reason: string): string {
  return CONFLICT_REASONS[reason] ?? reason;
}

/** Merging by field needs both versions: a deletion can only be kept or undone. */
export function canMerge(conflict: SyncConflict): boolean {
  return Boolean(conflict.local && conflict.remote && conflict.fields.length);
}

const OPERATIONS: Record<string, string> = { create: 'New', update: 'Changed', delete: 'Deleted' };

export function operationText(operation: string): string {
  return OPERATIONS[operation] ?? operation;
}

export function heldStateText(change: SyncChange): string {
  if (change.state === 'quarantined') return 'Quarantined: the server does not allow it';
  if (change.state === 'held') return 'Held: the server refused it';
  return change.state;
}

const PHASES: Record<string, string> = {
  push: 'Sending changes',
  audit: 'Sending the audit log',
  'audit-push': 'Sending the audit log',
  pull: 'Receiving updates',
  'tenant-pull': 'Receiving the project',
  bootstrap: 'Receiving the project',
  done: 'Finishing',
};

export function progressText(progress: SyncProgress): string {
  const phase = PHASES[progress.phase] ?? progress.phase.charAt(0).toUpperCase() + progress.phase.slice(1);
  const what = progress.type ? ` (${progress.type})` : '';
  const count = progress.total !== undefined ? `${progress.done} of ${progress.total}` : `${progress.done} so far`;
  return `${phase}${what}: ${count}`;
}
