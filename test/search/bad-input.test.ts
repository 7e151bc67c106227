// Bad search input at the search layer: every malformed or hostile value is a 400 OperationOutcome
// naming the parameter, or simply matches nothing; never an SQL error, never a change to the data.
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { findRids } from '../../electron/host/search/index.ts';
import { BASE_URL } from './helpers.ts';

let store: Store;

function counts(): unknown {
  return store.db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM resource) AS resources, (SELECT COUNT(*) FROM idx_token) AS tokens,
              (SELECT COUNT(*) FROM idx_string) AS strings, (SELECT COUNT(*) FROM idx_ref) AS refs`,
    )
    .get();
}

beforeAll(() => {
  store = createStore({ path: ':memory:', baseUrl: BASE_URL });
  const p = store.create<Resource>({ resourceType: 'Patient', name: [{ family: 'Doe' }], birthDate: '1990-01-01' }).resource;
  store.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p.id}` }, valueQuantity: { value: 1 } });
});

afterAll(() => store.close());

/** The outcome of a search: 'ok' (any result), or the FhirError status; anything else is re-thrown. */
function outcome(type: string | undefined, query: string): 'ok' | number {
  try {
    store.search(type, query);
    return 'ok';
  } catch (err) {
    if (isFhirError(err)) {
      return err.status;
    }
    throw err;
  }
}

const HOSTILE = [
  "'",
  "';DROP TABLE resource;--",
  '" OR 1=1 --',
  '%',
  '_',
  '\\',
  '%25%27',
  ')',
  '(SELECT 1)',
  '\u0000',
  'é\u0301',
  '1; DELETE FROM idx_token',
  '|',
  '||',
  '$',
  '*',
  'a'.repeat(5000),
];

describe('hostile values in every parameter type', () => {
  const params: [string, string][] = [
    ['Patient', 'name'],
    ['Patient', 'name:exact'],
    ['Patient', 'name:contains'],
    ['Patient', 'identifier'],
    ['Patient', 'gender:not'],
    ['Patient', 'organization'],
    ['Observation', 'subject:Patient'],
    ['Observation', 'subject:identifier'],
    ['Observation', 'code:text'],
    ['Patient', 'birthdate'],
    ['Observation', 'value-quantity'],
    ['RiskAssessment', 'probability'],
    ['Observation', 'component-code-value-quantity'],
    ['ValueSet', 'url'],
    ['ValueSet', 'url:below'],
    ['Patient', '_id'],
    ['Patient', '_lastUpdated'],
    ['Patient', '_compartment'],
    ['Patient', '_tag'],
    ['Observation', 'subject:Patient.name'],
    ['Patient', '_has:Observation:subject:code'],
  ];
  for (const [type, param] of params) {
    it(`${type}?${param}=...`, () => {
      const before = counts();
      for (const value of HOSTILE) {
        const result = outcome(type, `${param}=${encodeURIComponent(value)}`);
        expect([`ok`, 400], `${param}=${value.slice(0, 20)}`).toContain(result);
      }
      expect(counts()).toEqual(before);
    });
  }
});

describe('bad values are 400s naming the parameter', () => {
  const cases: [string | undefined, string, string][] = [
    ['Patient', 'birthdate=1990-13-01', 'birthdate'],
    ['Patient', 'birthdate=yesterday', 'birthdate'],
    ['Patient', 'birthdate=xx1990', 'birthdate'],
    ['Patient', 'birthdate=1990-02-30T25:00', 'birthdate'],
    ['Observation', 'value-quantity=abc', 'value-quantity'],
    ['Observation', 'value-quantity=gt', 'value-quantity'],
    ['Observation', 'value-quantity=1|a|b|c', 'value-quantity'],
    ['RiskAssessment', 'probability=1e', 'probability'],
    ['Observation', 'component-code-value-quantity=8480-6', 'component-code-value-quantity'],
    ['Patient', 'nonsense=1', 'nonsense'],
    ['Patient', 'name:bogus=x', 'name'],
    ['Patient', 'gender:above=x', 'gender'],
    ['Patient', 'gender:missing=maybe', 'gender'],
    ['Patient', 'name=', 'name'],
    ['Patient', 'name=%20', 'name'],
    ['Patient', '_count=-1', '_count'],
    ['Patient', '_count=ten', '_count'],
    ['Patient', '_offset=-5', '_offset'],
    ['Patient', '_sort=nonsense', '_sort'],
    ['Patient', '_total=maybe', '_total'],
    ['Patient', '_include=Nope:subject', '_include'],
    ['Patient', '_include=Observation:nope', '_include'],
    ['Patient', '_has:Nope:subject:code=1', '_has'],
    ['Patient', '_has:Observation', '_has'],
    ['Observation', 'subject:Patient.nope=1', 'nope'],
    ['Observation', 'subject.nope=1', 'subject'],
    ['Observation', 'code.name=1', 'code'],
    ['Patient', '_text=x', '_text'],
    [undefined, '_type=Nope', '_type'],
  ];
  for (const [type, query, param] of cases) {
    it(`${type ?? '(system)'}?${query}`, () => {
      try {
        store.search(type, query);
        expect.fail('expected a 400');
      } catch (err) {
        expect(isFhirError(err, 400), String(err)).toBe(true);
        const issue = isFhirError(err) ? err.outcome.issue?.[0] : undefined;
        expect(issue?.expression?.[0] ?? issue?.details?.text).toContain(param);
      }
    });
  }

  it('oversized OR lists and parameter counts are 400s, not SQL errors', () => {
    expect(outcome('Patient', `_id=${Array.from({ length: 5000 }, (_, i) => `id${i}`).join(',')}`)).toBe(400);
    expect(outcome('Patient', Array.from({ length: 500 }, () => 'gender=male').join('&'))).toBe(400);
    expect(outcome('Patient', `_id=${Array.from({ length: 900 }, (_, i) => `id${i}`).join(',')}`)).toBe('ok');
  });

  it('an unknown resource type is a 400', () => {
    expect(outcome('Nope', '')).toBe(400);
    expect(() => findRids(store.db, 'Nope', 'x=1', { project: 'p' })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('findRids rejects unknown parameters too (conditional writes must not match everything)', () => {
    expect(() => findRids(store.db, 'Patient', 'nonsense=1', { project: 'p' })).toThrow(expect.objectContaining({ status: 400 }));
  });
});
