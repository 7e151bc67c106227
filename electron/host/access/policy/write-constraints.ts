// writeConstraint enforcement: every FHIRPath expression of the governing entry must evaluate to
// exactly `true`, with %before (the stored version; empty on create) and %after (the new version),
// and the new resource as context. Anything else (false, empty, several values, an evaluation error)
// is a 403 carrying the constraint's description. Expressions are compiled once per policy entry.
import type { Resource } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { errors } from '../../../../shared/errors.ts';
import type { WriteConstraint } from './types.ts';

type Compiled = (resource: unknown, environment: Record<string, unknown>) => unknown[];

export interface CompiledConstraint {
  constraint: WriteConstraint;
  /** undefined when the expression could not be compiled: then the constraint always fails. */
  evaluate?: Compiled;
}

export interface WriteCheckInput {
  /** The stored version; undefined on create. */
  before?: Resource;
  after: Resource;
}

export interface WriteConstraintSet {
  readonly constraints: readonly CompiledConstraint[];
  /** The first constraint not satisfied, or undefined when all are exactly true. */
  firstViolation(input: WriteCheckInput): WriteConstraint | undefined;
  /** Throws a 403 FhirError with the description of the first constraint not satisfied. */
  check(input: WriteCheckInput): void;
}

function compileOne(constraint: WriteConstraint): CompiledConstraint {
  try {
    return { constraint, evaluate: fhirpath.compile(constraint.expression, r4) as unknown as Compiled };
  } catch {
    return { constraint };
  }
}

function satisfied(c: CompiledConstraint, input: WriteCheckInput): boolean {
  if (!c.evaluate) {
    return false;
  }
  try {
    const result = c.evaluate(input.after, { before: input.before ?? [], after: input.after });
    return result.length === 1 && result[0] === true;
  } catch {
    return false; // an expression that fails to evaluate grants nothing
  }
}

/** Compiles the constraints of one policy entry (do it once when the session's policy is built). */
export function compileWriteConstraints(constraints: readonly WriteConstraint[]): WriteConstraintSet {
  const compiled = constraints.map(compileOne);
  const firstViolation = (input: WriteCheckInput): WriteConstraint | undefined => compiled.find((c) => !satisfied(c, input))?.constraint;
  return {
    constraints: compiled,
    firstViolation,
    check(input) {
      const violated = firstViolation(input);
      if (violated) {
        throw errors.forbidden(violated.description);
      }
    },
  };
}

/**
 * A bounded cache of compiled constraint sets keyed by the entry object (WeakMap: a rebuilt policy
 * gets fresh entries, old ones are collected). One per host or per session.
 */
export function createWriteConstraintCache(): { forEntry(entry: { writeConstraints: WriteConstraint[] }): WriteConstraintSet } {
  const cache = new WeakMap<object, WriteConstraintSet>();
  return {
    forEntry(entry) {
      let set = cache.get(entry);
      if (!set) {
        set = compileWriteConstraints(entry.writeConstraints);
        cache.set(entry, set);
      }
      return set;
    },
  };
}
