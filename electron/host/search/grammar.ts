// The one search grammar: which query parameters control the result rather than filter, which the
// engine cannot answer, and which modifiers it answers per parameter type. The query builder refuses
// (400) what is not here, the hidden-field guard skips the result parameters, and the AccessPolicy
// validator accepts criteria only in this grammar (and then compiles them with the engine itself), so
// a policy can never save criteria the engine would refuse or silently ignore.
import { errors } from '../../../shared/errors.ts';
import { getIndexPlan } from './indexer.ts';
import { getParamRegistry } from './params.ts';

/** Result-control and format parameters: they shape the answer and filter nothing. */
export const RESULT_PARAMS: ReadonlySet<string> = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_revinclude',
  '_total',
  '_summary',
  '_elements',
  '_format',
  '_pretty',
  '_type',
]);

/** Parameters that need a feature Outpost does not have (full text, named queries, lists, _filter). */
export const UNSUPPORTED_PARAMS: ReadonlySet<string> = new Set(['_text', '_content', '_query', '_filter', '_list']);

/** Modifiers the engine answers, per SearchParameter type (a reference also takes a target type name). */
const MODIFIERS: Readonly<Record<string, readonly string[]>> = {
  token: ['missing', 'not', 'text'],
  uri: ['missing', 'not', 'above', 'below'],
  string: ['missing', 'exact', 'contains', 'text'],
  reference: ['missing', 'not', 'identifier'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  composite: [],
  special: [],
};

/** The parameters the engine answers from columns of `resource` rather than index rows. */
const COLUMN_MODIFIERS: Readonly<Record<string, readonly string[]>> = {
  _id: ['not'],
  _lastUpdated: [],
  _compartment: [],
};

/** A parameter key split into its code and modifier ('name:exact' -> name, exact). */
export function splitParamKey(key: string): { code: string; modifier?: string } {
  const colon = key.indexOf(':');
  return colon < 0 ? { code: key } : { code: key.slice(0, colon), modifier: key.slice(colon + 1) };
}

/** Why the engine cannot answer `code:modifier` for a parameter of `type` (undefined: it can). */
export function modifierProblem(code: string, type: string | undefined, modifier: string | undefined, targets: readonly string[] = []): string | undefined {
  if (modifier === undefined) {
    return undefined;
  }
  const allowed = COLUMN_MODIFIERS[code] ?? MODIFIERS[type ?? ''] ?? [];
  if (allowed.includes(modifier)) {
    return undefined;
  }
  if (type === 'reference' && !(code in COLUMN_MODIFIERS) && /^[A-Z][A-Za-z]+$/.test(modifier) && (targets.length === 0 || targets.includes(modifier))) {
    return undefined;
  }
  return `modifier :${modifier} is not supported for ${code in COLUMN_MODIFIERS ? code : `${type ?? 'this'} parameters`}`;
}

/** 400 naming the parameter when the engine cannot answer the modifier. */
export function assertModifier(code: string, type: string | undefined, modifier: string | undefined, targets?: readonly string[]): void {
  const problem = modifierProblem(code, type, modifier, targets);
  if (problem) {
    throw errors.badRequest(`Invalid search parameter "${code}": ${problem}`, code);
  }
}

/**
 * The parameters the engine really answers for a type (the CapabilityStatement lists these): its
 * registry, less 'special' parameters (like Location's `near`), those without an expression, and the
 * composites it has no extractor for. The common ones (`_id`, `_tag`...) are left to the caller.
 */
export function answeredSearchParams(resourceType: string): { name: string; definition: string; type: string }[] {
  const plan = new Map(getIndexPlan(resourceType).map((p) => [p.def.code, p]));
  return [...getParamRegistry().forType(resourceType).values()]
    .filter((def) => def.type !== 'special' && def.expression !== undefined && !def.code.startsWith('_'))
    .filter((def) => def.type !== 'composite' || plan.get(def.code)?.composite !== undefined)
    .map((def) => ({ name: def.code, definition: def.definition.url, type: def.type }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
