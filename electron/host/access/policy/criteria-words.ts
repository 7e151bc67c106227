// An AccessPolicy entry's criteria ("Patient?_tag=...&_has:CareTeam:patient:participant=...") in words
// for the policy review a clinic administrator reads. References are kept as written ("Practitioner/<id>")
// so the review can put names on them. Anything unusual is quoted as it stands rather than guessed at.
import { splitParamKey } from '../../search/grammar.ts';

const PREFIXES: Record<string, string> = { ne: 'is not', gt: 'after', lt: 'before', ge: 'on or after', le: 'on or before', sa: 'starts after', eb: 'ends before', ap: 'about' };

const spoken = (code: string): string => code.replace(/^_/, '').replace(/-/g, ' ');

/** `system|code` or `code` -> the code, which is what people recognise. */
const codeOf = (token: string): string => token.slice(token.lastIndexOf('|') + 1) || token;

const alternatives = (value: string, map: (v: string) => string = (v) => v): string =>
  value
    .split(',')
    .map((v) => map(v))
    .join(' or ');

function clause(key: string, value: string): string {
  if (key.startsWith('_has:')) {
    const [, type, ref, param] = key.split(':');
    return type && ref && param ? `a ${type} names it as ${spoken(ref)} with ${spoken(param)} ${alternatives(value)}` : `${key} = ${value}`;
  }
  const dot = key.indexOf('.');
  if (dot > 0) {
    // A chain: "organization.name:contains=x" -> "its organization's name contains x".
    return `its ${spoken(splitParamKey(key.slice(0, dot)).code)}'s ${clause(key.slice(dot + 1), value)}`;
  }
  const { code, modifier } = splitParamKey(key);
  switch (code) {
    case '_tag':
    case '_security':
    case '_profile': {
      const what = code === '_tag' ? 'tagged' : code === '_security' ? 'with security label' : 'with profile';
      return `${modifier === 'not' ? 'not ' : ''}${what} ${alternatives(value, (v) => `"${codeOf(v)}"`)}`;
    }
    case '_compartment':
      return `in the chart of ${alternatives(value)}`;
    case '_id':
      return `its id is ${alternatives(value)}`;
  }
  const name = spoken(code);
  switch (modifier) {
    case 'missing':
      return value === 'true' ? `no ${name}` : `a ${name}`;
    case 'not':
      return `${name} is not ${alternatives(value)}`;
    case 'exact':
      return `${name} is exactly "${value}"`;
    case 'contains':
      return `${name} contains "${value}"`;
    case undefined:
      break;
    default:
      return `${name} (${modifier}) is ${alternatives(value)}`;
  }
  const prefixed = /^(ne|gt|lt|ge|le|sa|eb|ap)(?=[\d-])/.exec(value);
  if (prefixed && !value.includes(',')) {
    return `${name} ${PREFIXES[prefixed[1]]} ${value.slice(2)}`;
  }
  return `${name} is ${alternatives(value)}`;
}

/** "Patient?a=b&c=d" -> "a is b and c is d" (the type is said by the entry the criteria belong to). */
export function criteriaInWords(criteria: string): string {
  const q = criteria.indexOf('?');
  const query = q < 0 ? '' : criteria.slice(q + 1);
  const clauses: string[] = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    clauses.push(eq < 0 ? decode(part) : clause(decode(part.slice(0, eq)), decode(part.slice(eq + 1))));
  }
  return clauses.length ? clauses.join(' and ') : criteria;
}
