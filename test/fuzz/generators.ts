// Hostile input for the fuzz suite, from a seeded generator (the same seed gives the same requests):
// random bytes, JSON of the wrong shape, nesting past the limit, huge and negative numbers, text from
// every Unicode plane (lone surrogates, noncharacters, NUL and control characters included), known
// traps (`__proto__`, two values of one choice, codes outside their value set, 2021-02-29), wrong
// content types, and the same in query strings and header values.
import type { RawRequest } from './raw-http.ts';

export interface Random {
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

/** One code point from a random plane (0-16), with the usual suspects over-represented. */
export function hostileCodePoint(r: Random): string {
  const special = [0x0, 0x1, 0x7, 0x8, 0x9, 0xa, 0xd, 0x1b, 0x7f, 0x85, 0xa0, 0xad, 0x200b, 0x202e, 0xfeff, 0xfffe, 0xffff, 0xfffd];
  const roll = r.int(10);
  if (roll < 3) return String.fromCharCode(r.pick(special));
  if (roll === 3) return String.fromCharCode(0xd800 + r.int(0x800)); // a lone surrogate
  if (roll < 6) return String.fromCharCode(0x20 + r.int(0x5f)); // ASCII
  const plane = r.int(17);
  const cp = plane * 0x10000 + r.int(0x10000);
  return cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : String.fromCodePoint(cp);
}

export function hostileText(r: Random, max = 24): string {
  return Array.from({ length: 1 + r.int(max) }, () => hostileCodePoint(r)).join('');
}

export function hostileNumber(r: Random): number | string {
  return r.pick<number | string>([0, -1, -0, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 4.9e-324, 1e21, 0.1 + 0.2, 'NaN', 'Infinity', '-1', '1e999', '99999999999999999999999', '0x10', ' 5 ', '']);
}

function hostileScalar(r: Random): unknown {
  return r.pick([() => hostileText(r), () => hostileNumber(r), () => null, () => true, () => [], () => ({})])();
}

/** A JSON value of random shape, at most `depth` deep. */
export function hostileJson(r: Random, depth = 4): unknown {
  if (depth === 0 || r.chance(0.4)) return hostileScalar(r);
  if (r.chance(0.5)) return Array.from({ length: r.int(4) }, () => hostileJson(r, depth - 1));
  const obj: Record<string, unknown> = {};
  for (let i = r.int(4); i >= 0; i--) {
    obj[r.chance(0.2) ? r.pick(['__proto__', 'constructor', 'prototype', 'resourceType', 'id', 'meta', '']) : hostileText(r, 8)] = hostileJson(r, depth - 1);
  }
  return obj;
}

const TYPES = ['Patient', 'Observation', 'Encounter', 'Condition', 'Practitioner', 'AuditEvent', 'AccessPolicy', 'ProjectMembership', 'User', 'Bundle', 'Binary', 'Nope', 'patient', ''];

/** A resource that is wrong in one deliberate way, as the text of a body. */
export function hostileResourceText(r: Random, type = r.pick(TYPES)): string {
  const base = `{"resourceType":${JSON.stringify(type)}`;
  const traps = [
    () => `${base},"__proto__":{"admin":true}}`,
    () => `${base},"constructor":{"name":"x"}}`,
    () => `${base},"gender":"banana"}`,
    () => `${base},"deceasedBoolean":true,"deceasedDateTime":"2020-01-01"}`,
    () => `${base},"birthDate":"2021-02-29"}`,
    () => `${base},"name":[{"family":"\\ud800"}]}`,
    () => `${base},"name":[{"family":${JSON.stringify(hostileText(r))}}],"unknownField":1}`,
    () => {
      const depth = 150 + r.int(12_000);
      return `${base},"name":[{"given":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    },
    () => {
      const depth = 150 + r.int(12_000); // well-formed, and deeper than anything may walk
      return `${base},"extension":[${'{"url":"http://x","extension":['.repeat(depth)}{"url":"http://x","valueString":"x"}${']}'.repeat(depth)}]}`;
    },
    () => `${base},"id":${JSON.stringify(hostileText(r, 80))},"name":[{"family":"x"}],"active":"yes"}`,
    () => `${base},"status":${JSON.stringify(hostileNumber(r))},"code":{"text":null}}`,
    () => `${base},"meta":{"versionId":-1,"lastUpdated":"1e999"},"multipleBirthInteger":${JSON.stringify(hostileNumber(r))}}`,
    () => JSON.stringify(hostileJson(r)),
    () => `${base},${hostileText(r)}`,
  ];
  return r.pick(traps)();
}

/** A body: random bytes, invalid UTF-8, hostile JSON, a trap resource, or empty. */
export function hostileBody(r: Random, type?: string): Buffer {
  const roll = r.int(10);
  if (roll === 0) return Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256)));
  if (roll === 1) return Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe]);
  if (roll === 2) return Buffer.from(JSON.stringify(hostileJson(r)));
  if (roll === 3) return Buffer.alloc(0);
  return Buffer.from(hostileResourceText(r, type));
}

export function hostileContentType(r: Random): string | undefined {
  return r.pick([undefined, 'application/fhir+json', 'application/json', 'application/json-patch+json', 'text/html', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/fhir+json; charset=utf-16', '*/*', 'application/fhir+ndjson', `text/${hostileText(r, 6).replace(/[^\x21-\x7e]/g, 'x')}`]);
}

/** A percent-encoded hostile value (every byte of its UTF-8, lone surrogates as U+FFFD), or a raw broken escape. */
export function hostileQueryValue(r: Random): string {
  const roll = r.int(8);
  if (roll === 0) return r.pick(['%', '%0', '%zz', '%C3%28', '%ED%A0%80', '%00', '%FF%FE']);
  if (roll === 1) return String(hostileNumber(r)).replace(/ /g, '%20');
  if (roll === 2) return r.pick(['2020-02-30', '2021-02-29', 'gt2020-13-45', 'eq10000-01-01', 'ap-1', 'ne', 'sa2020-02-30T25:61:61Z', 'le1e999']);
  return encodeURIComponent(hostileText(r).replace(/[\ud800-\udfff]/g, '\ufffd'));
}

const PARAMS = ['name', 'birthdate', '_lastUpdated', '_count', '_offset', '_sort', '_include', '_revinclude', '_id', 'identifier', 'subject', 'subject:Patient.name', '_has:Observation:subject:code', 'value-quantity', 'code', '_total', '_summary', '_elements', 'date', 'gender:exact', 'name:contains', '_since', '_at', '_format', '_type', `${'x'.repeat(300)}`];

export function hostileQuery(r: Random): string {
  return Array.from({ length: 1 + r.int(4) }, () => `${r.chance(0.15) ? encodeURIComponent(hostileText(r, 6).replace(/[\ud800-\udfff]/g, '?')) : r.pick(PARAMS)}=${hostileQueryValue(r)}`).join('&');
}

/** A header value with a control character, a NUL, a very long run, or bytes past ASCII. */
export function hostileHeaderValue(r: Random): string {
  return r.pick([
    () => [...`W/"${hostileText(r, 4)}"`].map((ch) => (ch.charCodeAt(0) > 0xff ? '\xe9' : ch)).join(''),
    () => `x\x00y`,
    () => `\x01\x02\x1b[31m`,
    () => 'a'.repeat(9_000 + r.int(10_000)),
    () => '-1',
    () => String(hostileNumber(r)),
    () => 'Bearer \x7f',
    () => `return=${hostileText(r, 5)}`.replace(/[^\x20-\xff]/g, '\xff'),
  ])();
}

export interface FuzzCase {
  /** The route family, for the report. */
  family: string;
  request: RawRequest;
  /** Whether a 2xx is a fine answer (a search for odd but valid text finds nothing). */
  mayBeOk: boolean;
}
