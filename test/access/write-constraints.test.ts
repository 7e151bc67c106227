import type { Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isFhirError } from '../../shared/errors.ts';
import { compileWriteConstraints, createWriteConstraintCache } from '../../electron/host/access/policy/write-constraints.ts';

// Spec scenario 7: a final observation cannot change any more, and a final one needs a subject.
const scenario7 = compileWriteConstraints([
  { expression: "%before.exists() implies %before.status != 'final'", description: 'A final observation cannot be changed' },
  { expression: "status = 'final' implies subject.exists()", description: 'A final observation needs a subject' },
]);

const obs = (extra: Partial<Observation>): Observation => ({ resourceType: 'Observation', id: 'o1', status: 'preliminary', code: { text: 'weight' }, ...extra });

function denial(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (isFhirError(err, 403)) {
      return err.outcome.issue?.[0].details?.text ?? '';
    }
    throw err;
  }
  throw new Error('expected a 403');
}

describe('writeConstraint (scenario 7)', () => {
  it('create preliminary: allowed (no %before)', () => {
    expect(() => scenario7.check({ after: obs({}) })).not.toThrow();
  });

  it('create final without subject: 403 with the description', () => {
    expect(denial(() => scenario7.check({ after: obs({ status: 'final' }) }))).toBe('A final observation needs a subject');
  });

  it('update preliminary -> final with a subject: allowed', () => {
    expect(() => scenario7.check({ before: obs({}), after: obs({ status: 'final', subject: { reference: 'Patient/p1' } }) })).not.toThrow();
  });

  it('then final -> cancelled: 403', () => {
    const final = obs({ status: 'final', subject: { reference: 'Patient/p1' } });
    expect(denial(() => scenario7.check({ before: final, after: obs({ status: 'cancelled', subject: { reference: 'Patient/p1' } }) }))).toBe(
      'A final observation cannot be changed'
    );
    expect(scenario7.firstViolation({ before: final, after: final })?.description).toBe('A final observation cannot be changed');
  });
});

describe('exactly true', () => {
  it('an empty, non-boolean or multi-valued result fails', () => {
    const set = compileWriteConstraints([
      { expression: 'subject.reference', description: 'not a boolean' },
    ]);
    expect(set.firstViolation({ after: obs({ subject: { reference: 'Patient/p1' } }) })?.description).toBe('not a boolean');
    expect(compileWriteConstraints([{ expression: 'note.exists()', description: 'empty note' }]).firstViolation({ after: obs({}) })).toBeDefined();
    expect(compileWriteConstraints([{ expression: 'category.exists().not().not()', description: 'x' }]).firstViolation({ after: obs({}) })).toBeDefined();
    expect(compileWriteConstraints([{ expression: 'true.combine(true)', description: 'two values' }]).firstViolation({ after: obs({}) })).toBeDefined();
  });

  it('an evaluation error or an unparsable expression fails closed', () => {
    expect(compileWriteConstraints([{ expression: '%undefinedVariable.exists()', description: 'undefined' }]).firstViolation({ after: obs({}) })?.description).toBe('undefined');
    expect(compileWriteConstraints([{ expression: 'status = = 1', description: 'broken' }]).firstViolation({ after: obs({}) })?.description).toBe('broken');
  });

  it('%after is the new version and the context too; choice types resolve with the R4 model', () => {
    const set = compileWriteConstraints([
      { expression: '%after.id = id', description: 'same' },
      { expression: 'value.value < 500', description: 'plausible weight' },
    ]);
    expect(set.firstViolation({ after: obs({ valueQuantity: { value: 72 } }) })).toBeUndefined();
    expect(set.firstViolation({ after: obs({ valueQuantity: { value: 720 } }) })?.description).toBe('plausible weight');
  });

  it('no constraints: everything passes', () => {
    expect(() => compileWriteConstraints([]).check({ after: obs({}) })).not.toThrow();
  });
});

describe('createWriteConstraintCache', () => {
  it('compiles once per entry object', () => {
    const cache = createWriteConstraintCache();
    const entry = { writeConstraints: [{ expression: "status = 'final'", description: 'final only' }] };
    const first = cache.forEntry(entry);
    expect(cache.forEntry(entry)).toBe(first);
    expect(cache.forEntry({ writeConstraints: entry.writeConstraints })).not.toBe(first);
    expect(first.firstViolation({ after: obs({}) })?.description).toBe('final only');
  });
});
