// The sync panel's pure pieces: a conflict as side-by-side rows with values in words, reasons and
// progress in words, and the run summary. (The status itself is checked against its contract by the
// typed client: test/contract.)
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { canMerge, conflictReasonText, conflictRows, fieldLabel, formatValue, heldStateText, progressText, valueAt } from '../../renderer/src/components/sync-view.ts';
import { syncSummaryText, type SyncConflict } from '../../renderer/src/stores/sync.ts';

const base: Patient = { resourceType: 'Patient', id: 'p1', meta: { versionId: '1' }, name: [{ given: ['Ana'], family: 'Silva' }], birthDate: '1970-01-01', gender: 'female' };
const local: Patient = { ...base, meta: { versionId: '2' }, name: [{ given: ['Ana'], family: 'Silva-Costa' }], telecom: [{ system: 'phone', value: '555-0101' }] };
const remote: Patient = { ...base, meta: { versionId: '7' }, name: [{ given: ['Anna'], family: 'Silva' }], birthDate: '1970-01-02' };

describe('a conflict side by side', () => {
  const conflict: SyncConflict = { id: 'c1', resourceType: 'Patient', resourceId: 'p1', reason: 'edited-both', fields: ['name', 'birthDate', 'telecom'], local, remote, base, createdAt: '2026-03-01T09:00:00Z' };

  it('lists the differing fields first with base, mine and theirs in words, then the unchanged ones', () => {
    const rows = conflictRows(conflict);
    expect(rows.map((r) => [r.path, r.differs])).toEqual([
      ['name', true],
      ['birthDate', true],
      ['telecom', true],
      ['gender', false],
    ]);
    expect(rows[0]).toMatchObject({ base: 'Ana Silva', local: 'Ana Silva-Costa', remote: 'Anna Silva' });
    expect(rows[2]).toMatchObject({ base: undefined, local: '555-0101', remote: undefined });
    expect(rows[3]).toMatchObject({ local: 'female', remote: 'female' });
    expect(canMerge(conflict)).toBe(true);
    // A deletion on one side has no fields to pick from.
    expect(canMerge({ ...conflict, reason: 'deleted-remotely', remote: null, base: null, fields: [] })).toBe(false);
  });

  it('reads nested paths and says values in words', () => {
    expect(valueAt(local, 'name.family')).toBe('Silva-Costa');
    expect(valueAt(local, 'address.city')).toBeUndefined();
    expect(formatValue({ coding: [{ display: 'Hypertension' }] })).toBe('Hypertension');
    expect(formatValue({ reference: 'Patient/1', display: 'Mary Johnson' })).toBe('Mary Johnson');
    expect(formatValue({ value: 72, unit: '/min' })).toBe('72 /min');
    expect(formatValue([{ line: ['1 Main St'], city: 'Springfield' }])).toContain('Springfield');
    expect(fieldLabel('address.postalCode')).toBe('Address postal code');
  });

  it('explains reasons, held changes and progress in words', () => {
    expect(conflictReasonText('deleted-remotely')).toMatch(/Deleted on the server/);
    expect(conflictReasonText('something-new')).toBe('something-new');
    expect(heldStateText({ id: '1', resourceType: 'Patient', resourceId: 'p', operation: 'update', changedAt: '2026-03-01T09:00:00Z', state: 'quarantined', reason: 'Forbidden' })).toMatch(/Quarantined/);
    expect(progressText({ phase: 'push', done: 3, total: 10 })).toBe('Sending changes: 3 of 10');
    expect(progressText({ phase: 'pull', done: 40, type: 'Observation' })).toBe('Receiving updates (Observation): 40 so far');
    expect(syncSummaryText({ pushed: 2, pulled: 5, conflicts: 1 })).toBe('Sync finished: 2 sent, 5 received, 1 conflict.');
    expect(syncSummaryText({ alreadyRunning: true })).toMatch(/already running/);
  });
});
