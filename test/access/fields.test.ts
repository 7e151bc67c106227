import type { Observation, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { hiddenSearchParams, masksOf, protectOnWrite, removeHiddenFields } from '../../electron/host/access/policy/fields.ts';

const mary: Patient = {
  resourceType: 'Patient',
  id: 'mary',
  meta: { versionId: '1', tag: [{ code: 'study-cohort-2024' }] },
  identifier: [{ system: 'http://hospital.com/patient-id', value: 'MRN-789' }],
  name: [
    { use: 'official', family: 'Johnson', given: ['Mary', 'Elizabeth'] },
    { use: 'maiden', family: 'Smith', given: ['Mary'] },
  ],
  telecom: [{ system: 'email', value: 'mary.johnson@email.com' }],
  birthDate: '1950-02-03',
  _birthDate: { extension: [{ url: 'http://example.org/precision', valueString: 'day' }] },
  deceasedBoolean: false,
  contact: [{ name: { family: 'Johnson', given: ['Robert'] }, telecom: [{ system: 'phone', value: '555' }] }],
} as Patient;

const obs: Observation = {
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  code: { text: 'weight' },
  valueQuantity: { value: 72, unit: 'kg' },
  component: [
    { code: { text: 'a' }, valueQuantity: { value: 1, unit: 'x' } },
    { code: { text: 'b' }, valueString: 'two' },
  ],
};

describe('removeHiddenFields', () => {
  it('removes a nested path in every element of an array (scenario 5: name.family)', () => {
    const out = removeHiddenFields(mary, ['name.family']);
    expect(out.name).toEqual([
      { use: 'official', given: ['Mary', 'Elizabeth'] },
      { use: 'maiden', given: ['Mary'] },
    ]);
    expect(JSON.stringify(out.name)).not.toMatch(/Johnson|Smith/);
  });

  it('returns a deep copy and leaves the input untouched', () => {
    const before = JSON.stringify(mary);
    const out = removeHiddenFields(mary, ['name', 'telecom']);
    expect(JSON.stringify(mary)).toBe(before);
    out.identifier![0].value = 'changed';
    expect(mary.identifier![0].value).toBe('MRN-789');
  });

  it('removes whole fields and their primitive companions (_birthDate)', () => {
    const out = removeHiddenFields(mary, ['name', 'telecom', 'address', 'identifier', 'birthDate']);
    expect(Object.keys(out).sort()).toEqual(['contact', 'deceasedBoolean', 'id', 'meta', 'resourceType']);
  });

  it('handles choice types as FHIR paths: value hides every value[x], valueQuantity.value only that part', () => {
    expect(removeHiddenFields(obs, ['valueQuantity.value']).valueQuantity).toEqual({ unit: 'kg' });
    const noValue = removeHiddenFields(obs, ['value']);
    expect(noValue.valueQuantity).toBeUndefined();
    expect(removeHiddenFields(obs, ['value[x]']).valueQuantity).toBeUndefined();
    expect(removeHiddenFields(obs, ['valueString']).valueQuantity).toEqual({ value: 72, unit: 'kg' });
    expect(removeHiddenFields(obs, ['component.value']).component).toEqual([{ code: { text: 'a' } }, { code: { text: 'b' } }]);
    expect(removeHiddenFields(mary, ['deceased']).deceasedBoolean).toBeUndefined();
  });

  it('does not take a longer element for a choice: hiding status keeps statusReason', () => {
    const req = { resourceType: 'MedicationRequest', status: 'active', statusReason: { text: 'why' }, intent: 'order', subject: { reference: 'Patient/x' } } as const;
    expect(removeHiddenFields(req as never, ['status'])).toMatchObject({ statusReason: { text: 'why' } });
    expect((removeHiddenFields(req as never, ['status']) as Record<string, unknown>).status).toBeUndefined();
  });

  it('goes through backbone elements and prunes what becomes empty', () => {
    const out = removeHiddenFields(mary, ['contact.name', 'contact.telecom']);
    expect(out.contact).toBeUndefined();
    expect(removeHiddenFields(mary, ['meta']).meta).toBeUndefined();
    expect(removeHiddenFields(mary, ['meta.tag']).meta).toEqual({ versionId: '1' });
  });

  it('masksOf takes the masks of the governing entry', () => {
    expect(masksOf({ hiddenFields: ['name'], readonlyFields: ['id'] })).toEqual({ hidden: ['name'], readonly: ['id'] });
    expect(masksOf(undefined)).toEqual({ hidden: [], readonly: [] });
  });
});

describe('protectOnWrite: readonly fields (scenario 6)', () => {
  it('drops readonly fields on create', () => {
    const out = protectOnWrite({ after: mary, hidden: [], readonly: ['identifier'], isCreate: true });
    expect(out.identifier).toBeUndefined();
    expect(out.name).toEqual(mary.name);
  });

  it('keeps hidden fields sent on create (the review warns about such roles)', () => {
    expect(protectOnWrite({ after: mary, hidden: ['telecom'], readonly: [], isCreate: true }).telecom).toEqual(mary.telecom);
  });

  it('on update, adding, changing or removing a readonly field has no effect', () => {
    const withoutId = { ...mary, identifier: undefined };
    expect(protectOnWrite({ before: withoutId, after: mary, hidden: [], readonly: ['identifier'], isCreate: false }).identifier).toBeUndefined();
    const changed = { ...mary, identifier: [{ value: 'MRN-000' }] };
    expect(protectOnWrite({ before: mary, after: changed, hidden: [], readonly: ['identifier'], isCreate: false }).identifier).toEqual(mary.identifier);
    const removed = { ...mary, identifier: undefined };
    expect(protectOnWrite({ before: mary, after: removed, hidden: [], readonly: ['identifier'], isCreate: false }).identifier).toEqual(mary.identifier);
  });

  it('keeps a readonly choice whatever variant the client sends', () => {
    const after = { ...obs, valueQuantity: undefined, valueString: 'hacked' };
    const out = protectOnWrite({ before: obs, after, hidden: [], readonly: ['value'], isCreate: false });
    expect(out.valueQuantity).toEqual(obs.valueQuantity);
    expect((out as unknown as Record<string, unknown>).valueString).toBeUndefined();
  });

  it('does not mutate its inputs', () => {
    const before = JSON.stringify(mary);
    const after = structuredClone(mary);
    after.name![0].family = 'X';
    protectOnWrite({ before: mary, after, hidden: ['name.family'], readonly: ['identifier'], isCreate: false });
    expect(JSON.stringify(mary)).toBe(before);
    expect(after.name![0].family).toBe('X');
  });
});

describe('protectOnWrite: nested hidden data is never erased (Outpost goes further)', () => {
  const hidden = ['name.family'];
  const seen = removeHiddenFields(mary, hidden);

  it('a user who cannot see name.family saves what they read: every family is kept', () => {
    const out = protectOnWrite({ before: mary, after: seen, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual(mary.name);
  });

  it('an edit of a visible part of one name keeps the hidden family of that same name', () => {
    const edited = structuredClone(seen);
    edited.name![1].given = ['Maria'];
    const out = protectOnWrite({ before: mary, after: edited, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual([mary.name![0], { use: 'maiden', family: 'Smith', given: ['Maria'] }]);
  });

  it('the client cannot overwrite a hidden value it sends blindly', () => {
    const forged = structuredClone(seen);
    forged.name![0].family = 'Forged';
    const out = protectOnWrite({ before: mary, after: forged, hidden, readonly: [], isCreate: false });
    expect(out.name![0].family).toBe('Johnson');
  });

  it('reordered names keep their own family (matched by visible content, not position)', () => {
    const reordered = structuredClone(seen);
    reordered.name!.reverse();
    const out = protectOnWrite({ before: mary, after: reordered, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual([mary.name![1], mary.name![0]]);
  });

  it('a removed name goes with its hidden family; a new one gets none', () => {
    const changed = structuredClone(seen);
    changed.name = [changed.name![1], { use: 'nickname', given: ['Molly'], family: 'Sneaky' }];
    const out = protectOnWrite({ before: mary, after: changed, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual([mary.name![1], { use: 'nickname', given: ['Molly'] }]);
  });

  it('elements the role could not see at all are kept at their place', () => {
    const before: Patient = { resourceType: 'Patient', id: 'x', name: [{ family: 'OnlyHidden' }, { given: ['Ann'], family: 'Lee' }] };
    const read = removeHiddenFields(before, hidden);
    expect(read.name).toEqual([{ given: ['Ann'] }]);
    const out = protectOnWrite({ before, after: read, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual(before.name);
    // Even when the client drops the whole visible array, the invisible element survives.
    const dropped = protectOnWrite({ before, after: { ...read, name: undefined }, hidden, readonly: [], isCreate: false });
    expect(dropped.name).toEqual([{ family: 'OnlyHidden' }]);
  });

  it('nested readonly values inside arrays keep their stored value and their elements cannot be removed', () => {
    const readonly = ['identifier.value'];
    const after = structuredClone(mary);
    after.identifier = [{ system: 'http://hospital.com/patient-id', value: 'MRN-HACK' }];
    expect(protectOnWrite({ before: mary, after, hidden: [], readonly, isCreate: false }).identifier).toEqual(mary.identifier);
    const removed = { ...structuredClone(mary), identifier: [] };
    expect(protectOnWrite({ before: mary, after: removed, hidden: [], readonly, isCreate: false }).identifier).toEqual(mary.identifier);
  });

  it('hidden parts of backbone elements and choice variants inside arrays are kept', () => {
    const h = ['contact.telecom', 'component.value'];
    const patientSeen = removeHiddenFields(mary, h);
    expect(protectOnWrite({ before: mary, after: patientSeen, hidden: h, readonly: [], isCreate: false }).contact).toEqual(mary.contact);
    const obsSeen = removeHiddenFields(obs, h);
    obsSeen.component![1].code = { text: 'b2' };
    const out = protectOnWrite({ before: obs, after: obsSeen, hidden: h, readonly: [], isCreate: false });
    expect(out.component).toEqual([obs.component![0], { code: { text: 'b2' }, valueString: 'two' }]);
  });

  it('elements with an id are matched by id', () => {
    const before: Patient = { resourceType: 'Patient', id: 'x', name: [{ id: 'n1', given: ['A'], family: 'F1' }, { id: 'n2', given: ['B'], family: 'F2' }] };
    const after: Patient = { resourceType: 'Patient', id: 'x', name: [{ id: 'n2', given: ['B2'] }, { id: 'n1', given: ['A2'] }] };
    const out = protectOnWrite({ before, after, hidden, readonly: [], isCreate: false });
    expect(out.name).toEqual([{ id: 'n2', given: ['B2'], family: 'F2' }, { id: 'n1', given: ['A2'], family: 'F1' }]);
  });
});

describe('hiddenSearchParams (the existence-oracle rule)', () => {
  it('refuses parameters inside or containing a hidden field', () => {
    expect([...hiddenSearchParams('Patient', ['name.family'])].sort()).toEqual(['family', 'name', 'phonetic']);
    expect([...hiddenSearchParams('Patient', ['telecom'])].sort()).toEqual(['email', 'phone', 'telecom']);
    expect(hiddenSearchParams('Patient', ['address'])).toEqual(new Set(['address', 'address-city', 'address-country', 'address-postalcode', 'address-state', 'address-use']));
  });

  it('understands meta and choice types', () => {
    expect(hiddenSearchParams('Patient', ['meta'])).toEqual(new Set(['_lastUpdated', '_compartment', '_profile', '_security', '_source', '_tag']));
    expect(hiddenSearchParams('Observation', ['valueQuantity.value'])).toEqual(new Set(['value-quantity', 'combo-value-quantity', 'code-value-quantity', 'combo-code-value-quantity']));
    const strings = hiddenSearchParams('Observation', ['valueString']);
    expect(strings.has('value-string')).toBe(true);
    expect(strings.has('value-quantity')).toBe(false);
    expect(hiddenSearchParams('Patient', ['deceased'])).toEqual(new Set(['death-date', 'deceased']));
  });

  it('leaves other parameters searchable', () => {
    const refused = hiddenSearchParams('Patient', ['name', 'telecom', 'address', 'identifier']);
    for (const code of ['_id', '_tag', 'birthdate', 'gender', 'general-practitioner', 'organization']) {
      expect(refused.has(code)).toBe(false);
    }
    expect(hiddenSearchParams('Patient', []).size).toBe(0);
  });
});
