// Three-way merge by element path: what merges, what overlaps, what is ignored.
import type { Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { mergeByField, threeWayMerge } from '../../electron/host/sync/conflicts/merge.ts';
import { OUTPOST_ID_SYSTEM } from '../../electron/host/sync/references.ts';

const obs = (extra: Partial<Observation>): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'pulse', coding: [{ code: '8867-4' }] }, ...extra });

describe('three-way merge', () => {
  it('edits of different paths inside one object merge; the same path edited differently overlaps', () => {
    const base = obs({});
    const local = obs({ code: { text: 'heart rate', coding: [{ code: '8867-4' }] } });
    const remote = obs({ code: { text: 'pulse', coding: [{ code: '8867-4', system: 'http://loinc.org' }] }, status: 'amended' });
    const merged = threeWayMerge(base, local, remote);
    expect(merged.conflicts).toEqual([]);
    expect(merged.merged).toMatchObject({ status: 'amended', code: { text: 'heart rate', coding: [{ code: '8867-4', system: 'http://loinc.org' }] } });
    const clash = threeWayMerge(base, obs({ status: 'cancelled' }), obs({ status: 'amended' }));
    expect(clash.conflicts).toEqual(['status']);
  });

  it('the same change on both sides is no conflict; meta, id and the Outpost identifier are ignored', () => {
    const base = obs({ id: 'local-1', meta: { versionId: '1' } });
    const local = obs({ id: 'local-1', meta: { versionId: '2' }, status: 'amended' });
    const remote = obs({ id: 'remote-9', meta: { versionId: 'x' }, status: 'amended', identifier: [{ system: OUTPOST_ID_SYSTEM, value: 'local-1' }] });
    expect(threeWayMerge(base, local, remote).conflicts).toEqual([]);
  });

  it('a removed element on one side and an edit inside it on the other overlap', () => {
    const base = obs({ valueQuantity: { value: 70, unit: 'bpm' } });
    const local = obs({});
    const remote = obs({ valueQuantity: { value: 72, unit: 'bpm' } });
    expect(threeWayMerge(base, local, remote).conflicts).toEqual(['valueQuantity']);
    expect(mergeByField(base, local, remote, { valueQuantity: 'remote' })).toMatchObject({ valueQuantity: { value: 72 } });
    expect(() => mergeByField(base, local, remote, {})).toThrow(/valueQuantity/);
  });
});
