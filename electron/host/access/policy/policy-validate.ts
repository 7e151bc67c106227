// Validation of an AccessPolicy when it is saved: every problem is a 400 naming the entry
// (`AccessPolicy.resource[2].criteria`) and saying why. Variables are placeholders at save time, so
// criteria and FHIRPath are checked with a dummy value in place of each. The forms of the user guide
// that can be given a meaning are accepted through normalizeAccessPolicy (`hidden` = hiddenFields,
// `readonly: [paths]` = readonlyFields).
import { isResourceType } from '@medplum/core';
import type { AccessPolicy, AccessPolicyResource, OperationOutcomeIssue } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { FhirError } from '../../../../shared/errors.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { checkCriteria, VARIABLE_PLACEHOLDER_ID } from './criteria.ts';
import { isValidPathSyntax, resolveFieldPath } from './field-paths.ts';
import { ALL_INTERACTIONS, PROTECTED_TYPES } from './types.ts';
import type { VariableLookup } from './variables.ts';
import { substituteVariables } from './variables.ts';

export interface PolicyProblem {
  /** FHIRPath-like location, e.g. 'AccessPolicy.resource[2].criteria'. */
  expression: string;
  message: string;
}

/** What an entry may hold beyond the R4 fields: the guide's spellings. */
type LooseEntry = AccessPolicyResource & { hidden?: unknown; readonly?: unknown };

export interface NormalizedPolicy {
  policy: AccessPolicy;
  /** One line per guide form rewritten, e.g. 'resource[0].hidden was read as hiddenFields'. */
  notes: string[];
}

/**
 * Rewrites the guide's spellings into AccessPolicy fields: `hidden: [..]` -> hiddenFields,
 * `readonly: [..]` (a list of paths, not the legacy boolean) -> readonlyFields. Fails closed: a field
 * list is never ignored. Returns a copy; the input is not changed.
 */
export function normalizeAccessPolicy(policy: AccessPolicy): NormalizedPolicy {
  const notes: string[] = [];
  const copy = structuredClone(policy);
  copy.resource = (copy.resource ?? []).map((raw, i) => {
    const entry = { ...(raw as LooseEntry) };
    if (entry.hidden !== undefined) {
      if (Array.isArray(entry.hidden)) {
        entry.hiddenFields = [...(entry.hiddenFields ?? []), ...(entry.hidden as string[])];
        delete entry.hidden;
        notes.push(`resource[${i}].hidden was read as hiddenFields`);
      }
    }
    if (Array.isArray(entry.readonly)) {
      entry.readonlyFields = [...(entry.readonlyFields ?? []), ...(entry.readonly as string[])];
      delete entry.readonly;
      notes.push(`resource[${i}].readonly (a list of fields) was read as readonlyFields`);
    }
    return entry as AccessPolicyResource;
  });
  return { policy: copy, notes };
}

/** At save time every variable is a placeholder with a plausible value. */
const placeholderLookup: VariableLookup = (name) => ({
  known: true,
  value: name.endsWith('id') ? VARIABLE_PLACEHOLDER_ID : name === 'user.email' ? `${VARIABLE_PLACEHOLDER_ID}@example.org` : `Placeholder/${VARIABLE_PLACEHOLDER_ID}`,
});

/** Parses FHIRPath with fhirpath.js; the error text, or undefined when it parses. */
export function fhirPathProblem(expression: string): string | undefined {
  try {
    fhirpath.parse(expression);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/**
 * Evaluates an expression once on an empty resource of the type, to catch what parses but can never
 * run: unknown functions, asynchronous ones (resolve()), undefined %variables. Data-dependent errors
 * cannot show on an empty resource, so they are not reported here (they fail closed at run time).
 */
function fhirPathDryRunProblem(expression: string, resourceType: string): string | undefined {
  const empty = { resourceType: resourceType === '*' ? 'Basic' : resourceType };
  try {
    fhirpath.evaluate(empty, expression, { before: empty, after: empty }, r4);
    return undefined;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    return /Not implemented|undefined environment variable|asynchronous function/i.test(message) ? message : undefined;
  }
}

function checkFields(problems: PolicyProblem[], at: string, type: string, fields: unknown): void {
  if (fields === undefined) {
    return;
  }
  if (!Array.isArray(fields)) {
    problems.push({ expression: at, message: 'must be a list of field paths' });
    return;
  }
  fields.forEach((field, j) => {
    if (typeof field !== 'string' || !isValidPathSyntax(field)) {
      problems.push({ expression: `${at}[${j}]`, message: `'${String(field)}' is not a field path (expected e.g. name.family)` });
      return;
    }
    if (type !== '*' && isResourceType(type)) {
      const problem = resolveFieldPath(type, field).problem;
      if (problem) {
        problems.push({ expression: `${at}[${j}]`, message: `'${field}': ${problem}` });
      }
    }
  });
}

function checkCompartment(problems: PolicyProblem[], at: string, compartment: { reference?: string } | undefined): void {
  if (!compartment) {
    return;
  }
  const ref = substituteVariables(compartment.reference ?? '', placeholderLookup, 'reference').text;
  if (!/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) {
    problems.push({ expression: `${at}.reference`, message: `'${compartment.reference ?? ''}' is not a compartment reference (expected e.g. Patient/{%patient.id})` });
  }
}

function checkEntry(problems: PolicyProblem[], raw: LooseEntry, i: number): void {
  const at = `AccessPolicy.resource[${i}]`;
  const type = raw.resourceType;
  if (typeof type !== 'string' || !type) {
    problems.push({ expression: `${at}.resourceType`, message: 'resourceType is required (a resource type or *)' });
    return;
  }
  if (type !== '*' && !isResourceType(type)) {
    problems.push({ expression: `${at}.resourceType`, message: `'${type}' is not a resource type` });
  } else if (PROTECTED_TYPES.has(type)) {
    problems.push({ expression: `${at}.resourceType`, message: `${type} is a protected type no policy can grant` });
  }
  if (raw.interaction !== undefined) {
    if (!Array.isArray(raw.interaction)) {
      problems.push({ expression: `${at}.interaction`, message: 'must be a list of interactions' });
    } else {
      raw.interaction.forEach((code, j) => {
        if (!ALL_INTERACTIONS.includes(code)) {
          problems.push({
            expression: `${at}.interaction[${j}]`,
            message: `'${String(code)}' is not an interaction (expected one of ${ALL_INTERACTIONS.join(', ')}; patch counts as update)`,
          });
        }
      });
    }
  }
  if (raw.hidden !== undefined) {
    problems.push({ expression: `${at}.hidden`, message: 'hidden must be a list of field paths (it is read as hiddenFields)' });
  }
  if (raw.readonly !== undefined && typeof raw.readonly !== 'boolean') {
    problems.push({ expression: `${at}.readonly`, message: 'readonly must be true/false (or a list of field paths)' });
  }
  if (raw.criteria !== undefined) {
    const criteria = substituteVariables(String(raw.criteria), placeholderLookup, 'criteria').text;
    const check = checkCriteria(type, criteria);
    if (!check.ok) {
      problems.push({ expression: `${at}.criteria`, message: check.reason });
    }
  }
  checkCompartment(problems, `${at}.compartment`, raw.compartment);
  checkFields(problems, `${at}.hiddenFields`, type, raw.hiddenFields);
  checkFields(problems, `${at}.readonlyFields`, type, raw.readonlyFields);
  (raw.writeConstraint ?? []).forEach((wc, j) => {
    const wat = `${at}.writeConstraint[${j}]`;
    if (wc.language && wc.language !== 'text/fhirpath') {
      problems.push({ expression: `${wat}.language`, message: `only text/fhirpath constraints are supported, not ${wc.language}` });
    }
    if (!wc.expression) {
      problems.push({ expression: `${wat}.expression`, message: 'a write constraint needs a FHIRPath expression' });
      return;
    }
    const expression = substituteVariables(wc.expression, placeholderLookup, 'fhirpath').text;
    const problem = fhirPathProblem(expression);
    if (problem) {
      problems.push({ expression: `${wat}.expression`, message: `FHIRPath cannot be parsed: ${problem}` });
      return;
    }
    const runProblem = fhirPathDryRunProblem(expression, type);
    if (runProblem) {
      problems.push({ expression: `${wat}.expression`, message: `FHIRPath cannot be evaluated: ${runProblem}` });
    }
  });
}

/** Every problem of a policy (after normalization of the guide's forms); empty when it can be saved. */
export function findPolicyProblems(policy: AccessPolicy): PolicyProblem[] {
  loadFhirDefinitions();
  const problems: PolicyProblem[] = [];
  if (!Array.isArray(policy.resource ?? [])) {
    return [{ expression: 'AccessPolicy.resource', message: 'resource must be a list of entries' }];
  }
  const { policy: normalized } = normalizeAccessPolicy(policy);
  normalized.resource?.forEach((entry, i) => checkEntry(problems, entry as LooseEntry, i));
  checkCompartment(problems, 'AccessPolicy.compartment', policy.compartment);
  return problems;
}

/** Throws a 400 FhirError, one issue per problem (each naming its entry), when the policy cannot be saved. */
export function validateAccessPolicy(policy: AccessPolicy): void {
  const problems = findPolicyProblems(policy);
  if (problems.length === 0) {
    return;
  }
  const issue: OperationOutcomeIssue[] = problems.map((p) => ({
    severity: 'error',
    code: 'invalid',
    details: { text: `${p.expression}: ${p.message}` },
    expression: [p.expression],
  }));
  throw new FhirError(400, { resourceType: 'OperationOutcome', issue });
}
