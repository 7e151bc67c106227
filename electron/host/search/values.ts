// Conversions shared by indexing and querying: FHIR dates to integer ranges, strings to their
// normalized search form, element shapes to tokens / references / quantities.
import { daysInMonth } from '../../../shared/fhir/dates.ts';

/** Inclusive epoch-millisecond range of a FHIR date, dateTime or instant at its precision. */
export interface DateRange {
  lo: number;
  hi: number;
}

export const MIN_DATE = -62_167_219_200_000; // 0000-01-01
export const MAX_DATE = 253_402_300_799_999; // 9999-12-31T23:59:59.999

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Parses a FHIR date/dateTime/instant (no time zone = UTC) into its precision range; undefined when malformed. */
export function parseDateRange(s: string): DateRange | undefined {
  const m = DATE_RE.exec(s);
  if (!m) {
    return undefined;
  }
  const year = +m[1];
  const month = m[2] ? +m[2] : undefined;
  const day = m[3] ? +m[3] : undefined;
  if ((month !== undefined && (month < 1 || month > 12)) || (day !== undefined && (day < 1 || day > daysInMonth(year, month as number)))) {
    return undefined; // 2020-02-30 is no more a date than 2020-13-45
  }
  const hour = m[4] ? +m[4] : 0;
  const minute = m[5] ? +m[5] : 0;
  const second = m[6] ? +m[6] : 0;
  if (hour > 24 || minute > 59 || second > 60) {
    return undefined;
  }
  const fraction = m[7] ? m[7].slice(1) : '';
  const ms = fraction ? Math.floor(+`0.${fraction}` * 1000) : 0;
  let offset = 0;
  if (m[8] && m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    offset = sign * (+m[8].slice(1, 3) * 60 + +m[8].slice(4, 6)) * 60_000;
  }
  const start = Date.UTC(year, (month ?? 1) - 1, day ?? 1, hour, minute, second, ms);
  // Date.UTC maps years 0..99 to 1900..1999: set the year explicitly.
  const d = new Date(start);
  d.setUTCFullYear(year);
  const lo = d.getTime() - offset;
  let end: number;
  if (month === undefined) {
    end = addUtc(lo, { years: 1 });
  } else if (day === undefined) {
    end = addUtc(lo, { months: 1 });
  } else if (m[4] === undefined) {
    end = lo + 86_400_000;
  } else if (m[6] === undefined) {
    end = lo + 60_000;
  } else if (!fraction) {
    end = lo + 1000;
  } else {
    end = lo + Math.max(1, 10 ** (3 - Math.min(fraction.length, 3)));
  }
  if (Number.isNaN(lo) || Number.isNaN(end)) {
    return undefined;
  }
  return { lo, hi: end - 1 };
}

function addUtc(t: number, by: { years?: number; months?: number }): number {
  const d = new Date(t);
  if (by.years) {
    d.setUTCFullYear(d.getUTCFullYear() + by.years);
  }
  if (by.months) {
    d.setUTCMonth(d.getUTCMonth() + by.months);
  }
  return d.getTime();
}

/** Date ranges of a date-like element: date strings, Period, Timing.event. */
export function toDateRanges(value: unknown, out: DateRange[]): void {
  if (typeof value === 'string') {
    const r = parseDateRange(value);
    if (r) {
      out.push(r);
    }
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const v = value as { start?: string; end?: string; event?: string[] };
  if (v.start !== undefined || v.end !== undefined) {
    const s = v.start ? parseDateRange(v.start) : undefined;
    const e = v.end ? parseDateRange(v.end) : undefined;
    if (s || e) {
      out.push({ lo: s ? s.lo : MIN_DATE, hi: e ? e.hi : MAX_DATE });
    }
    return;
  }
  if (Array.isArray(v.event)) {
    for (const ev of v.event) {
      toDateRanges(ev, out);
    }
  }
}

/** Search form of a string: lower case, accents removed, whitespace collapsed. */
export function normalizeString(s: string): string {
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(s);
  const base = ascii ? s : s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return base.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The string parts of an element a string search looks at (HumanName and Address parts, plain strings). */
export function toStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    if (value) {
      out.push(value);
    }
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const v = value as Record<string, unknown>;
  for (const key of ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country', 'display']) {
    const part = v[key];
    if (typeof part === 'string') {
      if (part) {
        out.push(part);
      }
    } else if (Array.isArray(part)) {
      for (const p of part) {
        if (typeof p === 'string' && p) {
          out.push(p);
        }
      }
    }
  }
}

export interface Token {
  system: string;
  code: string;
}

/**
 * Tokens of an element: Coding / CodeableConcept codes, Identifier and ContactPoint values, plain
 * codes, booleans. `texts` receives the display and text parts (for the `:text` modifier).
 */
export function toTokens(value: unknown, out: Token[], texts: string[]): void {
  if (typeof value === 'string') {
    out.push({ system: '', code: value });
    return;
  }
  if (typeof value === 'boolean' || typeof value === 'number') {
    out.push({ system: '', code: String(value) });
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.coding) || (typeof v.text === 'string' && v.value === undefined && v.code === undefined)) {
    if (typeof v.text === 'string') {
      texts.push(v.text);
    }
    for (const c of (v.coding as unknown[] | undefined) ?? []) {
      toTokens(c, out, texts);
    }
    return;
  }
  if (typeof v.code === 'string' || typeof v.code === 'boolean') {
    // Coding (Quantity-as-token too).
    out.push({ system: typeof v.system === 'string' ? v.system : '', code: String(v.code) });
    if (typeof v.display === 'string') {
      texts.push(v.display);
    }
    return;
  }
  if (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean') {
    // Identifier, ContactPoint.
    out.push({ system: typeof v.system === 'string' ? v.system : '', code: String(v.value) });
    const typeText = (v.type as { text?: unknown } | undefined)?.text;
    if (typeof typeText === 'string') {
      texts.push(typeText);
    }
    return;
  }
  if (typeof v.system === 'string') {
    out.push({ system: v.system, code: '' });
  }
}

export interface RefValue {
  refType: string;
  refId: string;
}

const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const ABSOLUTE_REF = /^(?:https?:\/\/.+\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** Splits a reference string: 'Type/id' (relative or absolute) -> (Type, id); anything else (canonical, urn) whole in refId. */
export function parseReferenceString(s: string): RefValue {
  const m = RELATIVE_REF.exec(s) ?? ABSOLUTE_REF.exec(s);
  return m ? { refType: m[1], refId: m[2] } : { refType: '', refId: s };
}

/** References of an element: Reference.reference, canonical strings; identifiers of logical references go to `identifiers`. */
export function toReferences(value: unknown, out: RefValue[], identifiers: Token[]): void {
  if (typeof value === 'string') {
    if (value && !value.startsWith('#')) {
      out.push(parseReferenceString(value));
    }
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const v = value as { reference?: unknown; identifier?: { system?: string; value?: string }; resourceType?: unknown; id?: unknown };
  if (typeof v.reference === 'string' && v.reference && !v.reference.startsWith('#')) {
    out.push(parseReferenceString(v.reference));
  }
  if (v.identifier && typeof v.identifier.value === 'string') {
    identifiers.push({ system: v.identifier.system ?? '', code: v.identifier.value });
  }
}

export interface QuantityValue {
  value: number;
  system: string;
  code: string;
  unit: string;
}

/** Quantities of an element (Quantity, Age, Duration, Money, SimpleQuantity; a plain number as a unitless one). */
export function toQuantities(value: unknown, out: QuantityValue[]): void {
  if (typeof value === 'number') {
    out.push({ value, system: '', code: '', unit: '' });
    return;
  }
  if (!value || typeof value !== 'object') {
    return;
  }
  const v = value as { value?: unknown; system?: unknown; code?: unknown; unit?: unknown; currency?: unknown };
  if (typeof v.value === 'number') {
    out.push({
      value: v.value,
      system: typeof v.system === 'string' ? v.system : '',
      code: typeof v.code === 'string' ? v.code : typeof v.currency === 'string' ? v.currency : '',
      unit: typeof v.unit === 'string' ? v.unit : '',
    });
  }
}

/** Numbers of an element (integer, decimal; Quantity values count as their number). */
export function toNumbers(value: unknown, out: number[]): void {
  if (typeof value === 'number') {
    out.push(value);
  } else if (value && typeof value === 'object' && typeof (value as { value?: unknown }).value === 'number') {
    out.push((value as { value: number }).value);
  }
}
