// Checks an AccessPolicy criteria string (FHIR search syntax) the way the search module will read it:
// @medplum/core's parseSearchRequest, then every parameter against the R4 + Medplum SearchParameters
// and the engine's one grammar (search/grammar.ts: result and unsupported parameters, modifiers per
// type), chains (`a.b.c`) and reverse chains (`_has:Type:ref:param`) hop by hop, and last the engine
// compiles them. Used on save (a 400) and when a session's policy is built (the entry then matches
// nothing: fail closed).
import { getSearchParameters, isResourceType, parseSearchRequest } from '@medplum/core';
import type { SearchRequest } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { outcomeText } from '../../../../shared/errors.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { modifierProblem, RESULT_PARAMS, splitParamKey, UNSUPPORTED_PARAMS } from '../../search/grammar.ts';
import { buildFilters, newBuildContext } from '../../search/query.ts';

/** What a policy variable stands for when criteria are checked on save (its value is only known per session). */
export const VARIABLE_PLACEHOLDER_ID = 'outpost-variable-placeholder';

export type CriteriaCheck = { ok: true; request: SearchRequest; resourceType: string } | { ok: false; reason: string };

function paramsOf(resourceType: string): Record<string, SearchParameter> {
  return getSearchParameters(resourceType === '*' ? 'Resource' : resourceType) ?? {};
}

function describeTypes(types: string[]): string {
  if (types.length === 1) {
    return types[0] === '*' ? 'a * entry (only parameters every type has: _id, _lastUpdated, _tag, _profile, _security, _source, _compartment)' : types[0];
  }
  return `none of ${types.join(', ')}`;
}

/** The first type among `types` having the parameter, and the parameter. */
function findParam(types: string[], code: string): { type: string; param: SearchParameter } | undefined {
  for (const type of types) {
    const param = paramsOf(type)[code];
    if (param) {
      return { type, param };
    }
  }
  return undefined;
}

/** One parameter key (code, code:modifier, chain or _has) on a set of possible types. */
function checkKey(types: string[], key: string): string | undefined {
  if (key.startsWith('_has:')) {
    const [, hasType, refCode, ...rest] = key.split(':');
    if (!hasType || !refCode || rest.length === 0) {
      return `'${key}' is not a valid _has parameter (expected _has:Type:reference:parameter)`;
    }
    if (!isResourceType(hasType)) {
      return `'${hasType}' in '${key}' is not a resource type`;
    }
    const ref = paramsOf(hasType)[refCode];
    if (!ref) {
      return `${hasType} has no search parameter '${refCode}' (in '${key}')`;
    }
    if (ref.type !== 'reference') {
      return `'${refCode}' of ${hasType} is not a reference parameter (in '${key}')`;
    }
    if (!types.includes('*') && ref.target?.length && !types.some((t) => (ref.target as string[]).includes(t))) {
      return `'${refCode}' of ${hasType} cannot refer to ${types.join(' or ')} (in '${key}')`;
    }
    return checkKey([hasType], rest.join(':'));
  }
  const hops = key.split('.');
  let current = types;
  for (let i = 0; i < hops.length; i++) {
    const { code, modifier } = splitParamKey(hops[i]);
    if (UNSUPPORTED_PARAMS.has(code) || RESULT_PARAMS.has(code)) {
      return `parameter '${code}' is not supported in criteria`;
    }
    const found = findParam(current, code);
    if (!found) {
      return `${describeTypes(current)} has no search parameter '${code}'${hops.length > 1 ? ` (in '${key}')` : ''}`;
    }
    const last = i === hops.length - 1;
    if (last) {
      return modifierProblem(code, found.param.type, modifier, (found.param.target as string[] | undefined) ?? []);
    }
    if (found.param.type !== 'reference') {
      return `'${code}' is not a reference parameter and cannot be chained (in '${key}')`;
    }
    const targets = current
      .flatMap((t) => (paramsOf(t)[code]?.target as string[] | undefined) ?? [])
      .filter((t, j, all) => all.indexOf(t) === j);
    if (modifier) {
      if (!targets.includes(modifier)) {
        return `'${code}' cannot refer to ${modifier} (in '${key}')`;
      }
      current = [modifier];
    } else {
      if (targets.length === 0) {
        return `'${code}' has no target type to chain through (in '${key}')`;
      }
      current = targets;
    }
  }
  return undefined;
}

/** The raw parameter keys of a criteria string, as a query string parser sees them. */
function rawKeys(query: string): string[] {
  return [...new URLSearchParams(query).keys()];
}

/**
 * Checks criteria for an entry of `entryType` ('*' or a type). Accepted: `Type?...` with Type equal
 * to the entry's type, or `*?...`. Criteria may only filter (no _sort, _count, _include...).
 */
export function checkCriteria(entryType: string, criteria: string): CriteriaCheck {
  loadFhirDefinitions();
  const q = criteria.indexOf('?');
  const type = q >= 0 ? criteria.slice(0, q) : criteria;
  const query = q >= 0 ? criteria.slice(q + 1) : '';
  if (type !== '*' && !isResourceType(type)) {
    return { ok: false, reason: `'${type}' is not a resource type` };
  }
  if (type !== '*' && type !== entryType) {
    return { ok: false, reason: `criteria are for ${type} but the entry is for ${entryType}` };
  }
  let request: SearchRequest;
  try {
    request = parseSearchRequest(`${type === '*' ? 'Resource' : type}?${query}`);
  } catch (err) {
    return { ok: false, reason: `criteria cannot be parsed: ${(err as Error).message}` };
  }
  const extras = (['sortRules', 'include', 'revInclude', 'count', 'offset', 'total', 'fields', 'types', 'cursor', 'summary'] as const).filter(
    (k) => request[k] !== undefined
  );
  if (extras.length > 0) {
    return { ok: false, reason: `criteria may only filter; remove ${extras.join(', ')}` };
  }
  const types = [type === '*' ? (entryType === '*' ? '*' : entryType) : type];
  for (const key of rawKeys(query)) {
    if (!key) {
      return { ok: false, reason: 'criteria contain an empty parameter name' };
    }
    const problem = checkKey(types, key);
    if (problem) {
      return { ok: false, reason: problem };
    }
  }
  // Then the engine itself compiles them, values included (a date it cannot read, a token it cannot
  // split): criteria that saved must be criteria the enforcement point can turn into SQL. A value that
  // holds a variable's placeholder (on save) is left to run time, where the real value is compiled and
  // an entry that cannot be matches nothing.
  try {
    const compileType = types[0] === '*' ? undefined : types[0];
    const literal = [...new URLSearchParams(query).entries()].filter(([, value]) => !value.includes(VARIABLE_PLACEHOLDER_ID));
    buildFilters(newBuildContext({ project: 'criteria-check' }), compileType, literal, 'r');
  } catch (err) {
    return { ok: false, reason: outcomeText(err, 'the search engine cannot compile these criteria') };
  }
  return { ok: true, request, resourceType: type };
}
