// Policy variables (`%profile`, `{%user.profile.id}`, membership parameters...) and their structural
// substitution. Substitution works per string value and per token: a token is `%` + a dotted name,
// optionally wrapped in braces, and is replaced only when the WHOLE token names a variable, so
// `%patient` never rewrites part of `%patientOrg`. What a value may contain depends on where it lands:
// inside search criteria it is escaped so it stays one value of one parameter; inside FHIRPath it
// becomes a string literal.
import type { ProjectMembership, Reference, User } from '@medplum/fhirtypes';

export interface VariableContext {
  membership: ProjectMembership;
  /** The profile resource, when loaded (only its type and id are used; the membership's reference suffices). */
  profile?: { resourceType: string; id?: string };
  user?: Pick<User, 'id' | 'email'>;
}

/** A variable's value: a string, or undefined when the variable is known but has no value here. */
export type VariableLookup = (name: string) => { known: true; value: string | undefined } | { known: false };

export type SubstitutionMode = 'criteria' | 'reference' | 'fhirpath' | 'text';

export interface MissingVariable {
  /** The token as written, e.g. '{%patient.id}'. */
  token: string;
  name: string;
  reason: 'unknown' | 'no-value';
}

export interface SubstitutionResult {
  text: string;
  missing: MissingVariable[];
}

/** FHIRPath's own environment variables: never policy variables, left for the evaluator. */
const FHIRPATH_ENVIRONMENT = new Set(['before', 'after', 'resource', 'context', 'rootResource', 'ucum', 'sct', 'loinc', 'vs', 'ext', 'factory', 'terminologies']);

// A token's name runs as far as identifier characters, dots and hyphens go, so `%patient-org` and
// `%patientOrg` are whole names, never `%patient` followed by text.
const TOKEN = /(\{)?%([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)(\})?/g;

function referenceId(reference: string | undefined): string | undefined {
  if (!reference) {
    return undefined;
  }
  const slash = reference.lastIndexOf('/');
  const id = slash >= 0 ? reference.slice(slash + 1) : reference;
  return id || undefined;
}

function referenceOf(ref: Reference | undefined): string | undefined {
  return ref?.reference || undefined;
}

/**
 * The variables of a membership. Built-ins: profile, profile.id, patient, patient.id, user.profile,
 * user.profile.id, user.id, user.email. Every access[] parameter `x` gives `x` and `x.id`
 * (valueReference: 'Type/id' and its id; valueString: the string, and for `.id` the part after the
 * last '/' when it has one). `patient` defaults to the profile when the profile is a Patient; a
 * parameter named `patient` overrides it. Other built-ins cannot be overridden by parameters.
 */
export function createVariableLookup(ctx: VariableContext, parameters: ProjectMembershipParameter[] = []): VariableLookup {
  const profileRef =
    referenceOf(ctx.membership.profile) ??
    (ctx.profile?.id ? `${ctx.profile.resourceType}/${ctx.profile.id}` : undefined);
  const userId = ctx.user?.id ?? referenceId(referenceOf(ctx.membership.user));
  const values = new Map<string, string | undefined>();
  for (const p of parameters) {
    if (!p.name) {
      continue;
    }
    const value = p.valueReference ? referenceOf(p.valueReference) : p.valueString || undefined;
    values.set(p.name, value);
    values.set(`${p.name}.id`, referenceId(value));
  }
  const patientRef = values.has('patient') ? values.get('patient') : profileRef?.startsWith('Patient/') ? profileRef : undefined;
  const builtIns: [string, string | undefined][] = [
    ['profile', profileRef],
    ['profile.id', referenceId(profileRef)],
    ['user.profile', profileRef],
    ['user.profile.id', referenceId(profileRef)],
    ['user.id', userId],
    ['user.email', ctx.user?.email || undefined],
    ['patient', patientRef],
    ['patient.id', referenceId(patientRef)],
  ];
  for (const [name, value] of builtIns) {
    values.set(name, value);
  }
  return (name) => (values.has(name) ? { known: true, value: values.get(name) } : { known: false });
}

export interface ProjectMembershipParameter {
  name?: string;
  valueString?: string;
  valueReference?: Reference;
}

/**
 * Escapes a value for one search parameter value inside criteria: FHIR's backslash escapes for `\`,
 * `,`, `$` and `|` (so it cannot become a second OR value or a token system), then percent-encoding of
 * what a query string parser would interpret (`&`, `=`, `#`, `+`, `%`, spaces, non-ASCII), so it cannot
 * start a second parameter. `/`, letters, digits, `-`, `.`, `_`, `:` stay readable.
 */
export function escapeSearchValue(value: string): string {
  const fhirEscaped = value.replace(/[\\,$|]/g, (c) => `\\${c}`);
  return fhirEscaped.replace(/[^A-Za-z0-9\-._~/:@!'()*\\,$|]/g, (c) => encodeURIComponent(c));
}

/** A FHIRPath string literal body: backslash and quote escaped. */
function escapeFhirPathString(value: string): string {
  return value.replace(/[\\']/g, (c) => `\\${c}`);
}

/** Offsets of the string literals ('...', with backslash escapes) of a FHIRPath expression. */
function stringLiteralRanges(expression: string): [number, number][] {
  const ranges: [number, number][] = [];
  let start = -1;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (start >= 0) {
      if (c === '\\') {
        i++;
      } else if (c === "'") {
        ranges.push([start, i]);
        start = -1;
      }
    } else if (c === "'") {
      start = i;
    }
  }
  if (start >= 0) {
    ranges.push([start, expression.length]);
  }
  return ranges;
}

/**
 * Replaces every variable token of one string value. Tokens that name no variable, or a variable
 * without value, are left as written and reported in `missing`; the caller fails closed.
 * In 'criteria' mode an unknown two-hex-digit token (`%C3`) is percent-encoding, not a variable.
 * In 'fhirpath' mode FHIRPath's environment variables (%before, %after, %resource...) are left alone,
 * and so is an unknown token inside a string literal (text such as '50%off').
 */
export function substituteVariables(text: string, lookup: VariableLookup, mode: SubstitutionMode): SubstitutionResult {
  const missing: MissingVariable[] = [];
  const literals = mode === 'fhirpath' ? stringLiteralRanges(text) : [];
  const out = text.replace(TOKEN, (token: string, open: string | undefined, name: string, close: string | undefined, offset: number) => {
    const braced = Boolean(open && close);
    // An unmatched brace is ordinary text around the token.
    const prefix = open && !braced ? open : '';
    const suffix = close && !braced ? close : '';
    const bare = `%${name}`;
    if (mode === 'fhirpath' && FHIRPATH_ENVIRONMENT.has(name.split(/[.-]/)[0])) {
      return token; // FHIRPath's own variables win over any parameter of the same name
    }
    const at = offset + (open ?? '').length;
    const insideLiteral = mode === 'fhirpath' && literals.some(([s, e]) => at > s && at < e);
    const found = lookup(name);
    if (!found.known) {
      if ((mode === 'criteria' && /^[0-9A-Fa-f]{2}$/.test(name)) || insideLiteral) {
        return token; // percent-encoding in a URL, or plain text such as '50%off' in a FHIRPath string
      }
      missing.push({ token: braced ? token : bare, name, reason: 'unknown' });
      return token;
    }
    if (found.value === undefined) {
      missing.push({ token: braced ? token : bare, name, reason: 'no-value' });
      return token;
    }
    const value = found.value;
    switch (mode) {
      case 'criteria':
        return prefix + escapeSearchValue(value) + suffix;
      case 'fhirpath':
        return prefix + (insideLiteral ? escapeFhirPathString(value) : `'${escapeFhirPathString(value)}'`) + suffix;
      default:
        return prefix + value + suffix;
    }
  });
  return { text: out, missing };
}
