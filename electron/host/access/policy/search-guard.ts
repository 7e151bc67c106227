// What the search module needs from a session's policy, as plain data:
// - restrictionFor: the OR of the applicable entries' filters, as the same [name, value] pairs a
//   search query has, so the search compiler turns them into SQL with its own filter code (criteria
//   `Patient?general-practitioner=Practitioner/1` -> [['general-practitioner', 'Practitioner/1']],
//   compartment 'Patient/abc' -> [['_compartment', 'Patient/abc']]);
// - assertSearchAllowed: the existence-oracle rule, refusing a search, sort, chain, _has or include
//   on a parameter that reads a hidden field of the role.
import { getSearchParameters } from '@medplum/core';
import { errors } from '../../../../shared/errors.ts';
import { RESULT_PARAMS, splitParamKey } from '../../search/grammar.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { hiddenSearchParams } from './hidden-params.ts';
import type { RequestedInteraction } from './interactions.ts';
import { entriesFor } from './interactions.ts';
import type { EffectivePolicy, PolicyEntry } from './types.ts';

export interface EntryFilter {
  entry: PolicyEntry;
  /** ANDed filters of this entry (criteria parameters, then the compartment). Never empty. */
  filters: [string, string][];
}

/**
 * `false`: the type may not be used for this interaction at all (403 / left out of includes);
 * `null`: no restriction (an applicable entry has neither criteria nor compartment);
 * otherwise a resource is allowed when it satisfies every filter of at least one EntryFilter.
 */
export type Restriction = false | null | EntryFilter[];

/** The criteria's query as [name, value] pairs, decoded the way a search request is. */
export function criteriaFilters(criteria: string): [string, string][] {
  const q = criteria.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(criteria.slice(q + 1)).entries()];
}

/** One entry's filters (criteria parameters, then the compartment); empty when it restricts nothing. */
export function entryFilters(entry: Pick<PolicyEntry, 'criteria' | 'compartment'>): [string, string][] {
  const filters = entry.criteria ? criteriaFilters(entry.criteria) : [];
  if (entry.compartment) {
    filters.push(['_compartment', entry.compartment]);
  }
  return filters;
}

export function restrictionFor(policy: Pick<EffectivePolicy, 'entries'>, resourceType: string, interaction: RequestedInteraction): Restriction {
  const entries = entriesFor(policy, resourceType, interaction);
  if (entries.length === 0) {
    return false;
  }
  const out: EntryFilter[] = [];
  for (const entry of entries) {
    const filters = entryFilters(entry);
    if (filters.length === 0) {
      return null;
    }
    out.push({ entry, filters });
  }
  return out;
}

/**
 * Parameter codes of a type the role may not search, sort, chain or include on: those reading a
 * field hidden by any entry that lets it search the type (whichever entry governs a result, a match
 * on a field hidden from it would reveal the value).
 */
export function refusedSearchParams(policy: Pick<EffectivePolicy, 'entries'>, resourceType: string): Set<string> {
  const refused = new Set<string>();
  for (const entry of entriesFor(policy, resourceType, 'search')) {
    for (const code of hiddenSearchParams(resourceType, entry.hiddenFields)) {
      refused.add(code);
    }
  }
  return refused;
}

function refuse(code: string, resourceType: string): never {
  throw errors.forbidden(`Searching on '${code}' of ${resourceType} is not allowed: it reads a field hidden from this role`);
}

function targetsOf(types: string[], code: string): string[] {
  return types.flatMap((t) => (getSearchParameters(t)?.[code]?.target as string[] | undefined) ?? []).filter((t, i, all) => all.indexOf(t) === i);
}

/** Checks one parameter key (plain, chained `a.b`, or `_has:T:ref:param`) against the refused sets. */
function checkKey(refusedOf: RefusedOf, types: string[], key: string): void {
  if (key.startsWith('_has:')) {
    const [, hasType, refCode, ...rest] = key.split(':');
    if (!hasType || !refCode) {
      return; // malformed: the search module answers 400
    }
    if (refusedOf(hasType).has(refCode)) {
      refuse(refCode, hasType);
    }
    checkKey(refusedOf, [hasType], rest.join(':'));
    return;
  }
  let current = types;
  for (const hop of key.split('.')) {
    const [code, modifier] = hop.split(':');
    for (const type of current) {
      if (refusedOf(type).has(code)) {
        refuse(code, type);
      }
    }
    current = modifier && /^[A-Z]/.test(modifier) ? [modifier] : targetsOf(current, code);
  }
}


type RefusedOf = (resourceType: string) => ReadonlySet<string>;

function assertWith(refusedOf: RefusedOf, resourceType: string, query: [string, string][]): void {
  loadFhirDefinitions();
  for (const [key, value] of query) {
    const code = splitParamKey(key).code;
    if (code === '_sort') {
      for (const field of value.split(',')) {
        const sortCode = field.trim().replace(/^-/, '');
        if (refusedOf(resourceType).has(sortCode)) {
          refuse(sortCode, resourceType);
        }
      }
    } else if (code === '_include' || code === '_revinclude') {
      // Type:param[:target]: the reference parameter is read on Type.
      const [type, param] = value.split(':');
      if (type && param && refusedOf(type).has(param)) {
        refuse(param, type);
      }
    } else if (!RESULT_PARAMS.has(code)) {
      // The other result parameters name no search parameter; everything else is a filter.
      checkKey(refusedOf, [resourceType], key);
    }
  }
}

/**
 * Throws a 403 when a search request (its [name, value] pairs) filters, sorts, chains, reverse-chains
 * or includes on a parameter reading a hidden field. Call it before compiling the search.
 */
export function assertSearchAllowed(policy: Pick<EffectivePolicy, 'entries'>, resourceType: string, query: [string, string][]): void {
  assertWith((type) => refusedSearchParams(policy, type), resourceType, query);
}

export interface SearchGuard {
  restriction(resourceType: string, interaction: RequestedInteraction): Restriction;
  refused(resourceType: string): ReadonlySet<string>;
  assertAllowed(resourceType: string, query: [string, string][]): void;
}

/**
 * The same checks for one session's policy, with the refused sets and the restrictions computed once
 * per type (a search asks for its restriction once per type it touches: the main type, each include,
 * chain and _has; recomputing it re-parsed every criteria string each time).
 */
export function createSearchGuard(policy: Pick<EffectivePolicy, 'entries'>): SearchGuard {
  const memo = new Map<string, ReadonlySet<string>>();
  const restrictions = new Map<string, Restriction>();
  const refused = (type: string): ReadonlySet<string> => {
    let set = memo.get(type);
    if (!set) {
      set = refusedSearchParams(policy, type);
      memo.set(type, set);
    }
    return set;
  };
  return {
    restriction(type, interaction) {
      const key = `${type}|${interaction}`;
      let r = restrictions.get(key);
      if (r === undefined) {
        r = restrictionFor(policy, type, interaction);
        restrictions.set(key, r);
      }
      return r;
    },
    refused,
    assertAllowed: (type, query) => assertWith(refused, type, query),
  };
}
