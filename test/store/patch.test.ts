// PATCH: JSON Patch (RFC 6902, including `test`) and FHIRPath Patch; the result is validated and
// versioned like any update.
import type { Parameters, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { FhirError } from '../../shared/errors.ts';
import { rowCounts } from './helpers.ts';

let store: Store;
let patient: Patient;
beforeEach(() => {
  store = createStore({ path: ':memory:' });
  patient = store.create<Patient>({
    resourceType: 'Patient',
    name: [{ family: 'Smith', given: ['Ann', 'Beth'] }],
    identifier: [
      { system: 'urn:a', value: '1' },
      { system: 'urn:b', value: '2' },
    ],
    gender: 'female',
  }).resource;
});
afterEach(() => store.close());

function failsWith(status: number, fn: () => unknown): void {
  const before = rowCounts(store.db);
  try {
    fn();
    expect.fail(`expected ${status}`);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(status);
  }
  expect(rowCounts(store.db)).toEqual(before);
}

describe('JSON Patch', () => {
  it('applies add, remove, replace, move, copy and test, making version 2', () => {
    const { resource } = store.patch<Patient>('Patient', patient.id!, [
      { op: 'test', path: '/gender', value: 'female' },
      { op: 'replace', path: '/gender', value: 'other' },
      { op: 'add', path: '/name/0/given/-', value: 'Cara' },
      { op: 'remove', path: '/name/0/given/0' },
      { op: 'add', path: '/birthDate', value: '1990-02-03' },
      { op: 'move', from: '/identifier/0', path: '/identifier/1' },
      { op: 'copy', from: '/name/0', path: '/name/1' },
    ]);
    expect(resource.meta?.versionId).toBe('2');
    expect(resource.gender).toBe('other');
    expect(resource.birthDate).toBe('1990-02-03');
    expect(resource.name).toEqual([
      { family: 'Smith', given: ['Beth', 'Cara'] },
      { family: 'Smith', given: ['Beth', 'Cara'] },
    ]);
    expect(resource.identifier?.map((i) => i.system)).toEqual(['urn:b', 'urn:a']);
    expect(store.read('Patient', patient.id!)).toEqual(resource);
  });

  it('fails a whole patch with 400 (as Medplum) when a test op fails, on bad ops and on invalid results', () => {
    failsWith(400, () =>
      store.patch('Patient', patient.id!, [
        { op: 'replace', path: '/gender', value: 'male' },
        { op: 'test', path: '/gender', value: 'female' },
      ]),
    );
    failsWith(400, () => store.patch('Patient', patient.id!, [{ op: 'remove', path: '/nothing/here' }]));
    failsWith(400, () => store.patch('Patient', patient.id!, [{ op: 'frobnicate', path: '/gender' }]));
    failsWith(400, () => store.patch('Patient', patient.id!, [{ op: 'replace', path: '/gender', value: 42 }]));
    failsWith(400, () => store.patch('Patient', patient.id!, [{ op: 'replace', path: '/id', value: 'another' }]));
    failsWith(400, () => store.patch('Patient', patient.id!, { not: 'a patch' }));
    expect(store.read<Patient>('Patient', patient.id!).gender).toBe('female');
  });

  it('honours If-Match, and answers 404/410 for missing and deleted resources', () => {
    failsWith(412, () => store.patch('Patient', patient.id!, [{ op: 'replace', path: '/gender', value: 'male' }], { ifMatch: 'W/"7"' }));
    expect(store.patch('Patient', patient.id!, [{ op: 'replace', path: '/gender', value: 'male' }], { ifMatch: 'W/"1"' }).status).toBe(200);
    failsWith(404, () => store.patch('Patient', 'missing', []));
    store.delete('Patient', patient.id!);
    failsWith(410, () => store.patch('Patient', patient.id!, []));
  });

  it('makes no version when the patch changes nothing', () => {
    const r = store.patch('Patient', patient.id!, [{ op: 'test', path: '/gender', value: 'female' }]);
    expect(r.unchanged).toBe(true);
    expect(r.resource.meta?.versionId).toBe('1');
  });
});

describe('FHIRPath Patch', () => {
  const op = (parts: NonNullable<Parameters['parameter']>[number]['part']) => ({ name: 'operation', part: parts });
  const patchOf = (...ops: ReturnType<typeof op>[]): Parameters => ({ resourceType: 'Parameters', parameter: ops });

  it('applies add, insert, delete, replace and move', () => {
    const { resource } = store.patch<Patient>(
      'Patient',
      patient.id!,
      patchOf(
        op([{ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'birthDate' }, { name: 'value', valueDate: '2001-01-01' }]),
        op([{ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'telecom' }, { name: 'value', valueContactPoint: { system: 'phone', value: '555' } }]),
        op([{ name: 'type', valueCode: 'insert' }, { name: 'path', valueString: 'Patient.identifier' }, { name: 'index', valueInteger: 0 }, { name: 'value', valueIdentifier: { system: 'urn:z', value: '0' } }]),
        op([{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: "Patient.identifier.where(system='urn:a')" }]),
        op([{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'male' }]),
        op([{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.name[0].given[1]' }, { name: 'value', valueString: 'Bea' }]),
        op([{ name: 'type', valueCode: 'move' }, { name: 'path', valueString: 'Patient.identifier' }, { name: 'source', valueInteger: 0 }, { name: 'destination', valueInteger: 1 }]),
        op([{ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'deceased' }, { name: 'value', valueBoolean: false }]),
      ),
    );
    expect(resource.meta?.versionId).toBe('2');
    expect(resource.birthDate).toBe('2001-01-01');
    expect(resource.telecom).toEqual([{ system: 'phone', value: '555' }]);
    expect(resource.gender).toBe('male');
    expect(resource.name?.[0].given).toEqual(['Ann', 'Bea']);
    expect(resource.identifier?.map((i) => i.system)).toEqual(['urn:b', 'urn:z']);
    expect(resource.deceasedBoolean).toBe(false);
  });

  it('rejects bad operations with 400 and changes nothing', () => {
    failsWith(400, () => store.patch('Patient', patient.id!, patchOf(op([{ name: 'type', valueCode: 'explode' }, { name: 'path', valueString: 'Patient' }]))));
    failsWith(400, () => store.patch('Patient', patient.id!, patchOf(op([{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.identifier' }, { name: 'value', valueString: 'x' }]))));
    failsWith(400, () => store.patch('Patient', patient.id!, patchOf(op([{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueInteger: 3 }]))));
    failsWith(400, () => store.patch('Patient', patient.id!, patchOf(op([{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.(((' }]))));
  });
});
