// Clinical values as a clinician reads them: one date format, UCUM units written for people (mmHg,
// °C, 10³/µL), sensible precision, blood pressure systolic first by LOINC code, reference ranges and
// interpretation flags, coded values by their display, one way to write a person's name.
// @medplum/core's formatters do the writing where they fit (formatDate, formatDateTime, formatQuantity,
// formatRange, formatHumanName, calculateAge); this file decides what they are given.
import { calculateAge, formatAddress, formatCodeableConcept, formatDate, formatDateTime, formatHumanName, formatQuantity, formatRange } from '@medplum/core';
import type { CodeableConcept, Coding, HumanName, Observation, ObservationComponent, ObservationReferenceRange, Quantity } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const SYSTOLIC = '8480-6';
export const DIASTOLIC = '8462-4';
const UCUM = 'http://unitsofmeasure.org';

export { formatAddress };

// ---- dates -------------------------------------------------------------------------------------

const DATE_ONLY = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const DATE_OPTIONS: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric' };
const TIME_OPTIONS: Intl.DateTimeFormatOptions = { ...DATE_OPTIONS, hour: 'numeric', minute: '2-digit' };

/**
 * The one date format of the app, in the person's locale: "Mar 14, 1948" for a date, "Jan 10, 2024,
 * 9:30 AM" for a moment. A date-only value (FHIR date, or a dateTime without time) never gets a time
 * and never moves a day with the time zone; a year or year-month stays as precise as it is.
 */
export function formatWhen(value: string | undefined, locale?: string): string {
  if (!value) return '';
  if (DATE_ONLY.test(value)) {
    if (value.length === 4) return value;
    if (value.length === 7) return formatDate(`${value}-01`, locale, { year: 'numeric', month: 'short' });
    return formatDate(value, locale, DATE_OPTIONS);
  }
  return formatDateTime(value, locale, TIME_OPTIONS);
}

/** A FHIR Period in the one format: "start – end", or "since start". */
export function formatSpan(period: { start?: string; end?: string } | undefined, locale?: string): string {
  if (!period?.start && !period?.end) return '';
  if (period.start && period.end) return `${formatWhen(period.start, locale)} – ${formatWhen(period.end, locale)}`;
  return period.start ? `since ${formatWhen(period.start, locale)}` : `until ${formatWhen(period.end, locale)}`;
}

/** A time on a chart axis: the date only, same format. */
export function formatDay(time: number, locale?: string): string {
  return formatDate(new Date(time).toISOString(), locale, DATE_OPTIONS);
}

// ---- people ------------------------------------------------------------------------------------

/** The name a person is known by: the official (or first usual) name, "Prefix Given Family Suffix". */
export function personName(names: HumanName[] | undefined): string {
  const name = names?.find((n) => n.use === 'official') ?? names?.find((n) => n.use !== 'old' && n.use !== 'maiden') ?? names?.[0];
  return formatHumanName(name);
}

/** "76 y" (or months / days for the very young), from a birth date; '' without one. */
export function ageText(birthDate: string | undefined, now?: string): string {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return '';
  const { years, months, days } = calculateAge(birthDate, now);
  if (years >= 2) return `${years} y`;
  if (months >= 1) return `${months} mo`;
  return `${days} d`;
}

// ---- codes -------------------------------------------------------------------------------------

/** Displays of codes that often arrive without one (Synthea writes "M" as the display of married). */
const CODE_DISPLAYS: Record<string, Record<string, string>> = {
  'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus': {
    A: 'Annulled', D: 'Divorced', I: 'Interlocutory', L: 'Legally separated', M: 'Married', C: 'Common law',
    P: 'Polygamous', T: 'Domestic partner', U: 'Unmarried', S: 'Never married', W: 'Widowed', UNK: 'Unknown',
  },
  'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation': {
    H: 'High', HH: 'Critical high', HU: 'Significantly high', L: 'Low', LL: 'Critical low', LU: 'Significantly low',
    N: 'Normal', A: 'Abnormal', AA: 'Critical abnormal', POS: 'Positive', NEG: 'Negative', DET: 'Detected', ND: 'Not detected',
  },
};

/** A code written as words: 'entered-in-error' -> 'Entered in error', 'female' -> 'Female'. */
export function codeWords(code: string | undefined): string {
  if (!code) return '';
  const words = code.replace(/[-_]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function codingDisplay(coding: Coding): string {
  const known = coding.system ? CODE_DISPLAYS[coding.system]?.[coding.code ?? ''] : undefined;
  // A display equal to its code is no display (Synthea's "M").
  if (coding.display && coding.display !== coding.code) return coding.display;
  // A lower-case word code ('active', 'entered-in-error') reads as words; a LOINC or SNOMED number stays.
  return known ?? (/^[a-z][a-z-]*$/.test(coding.code ?? '') ? codeWords(coding.code) : (coding.code ?? ''));
}

/** A CodeableConcept by its display: text when it says more than a code, else each coding's display. */
export function conceptText(concept: CodeableConcept | undefined): string {
  if (!concept) return '';
  const codes = new Set((concept.coding ?? []).map((c) => c.code));
  if (concept.text && !codes.has(concept.text)) return concept.text;
  if (concept.coding?.length) return [...new Set(concept.coding.map(codingDisplay))].join(', ');
  return formatCodeableConcept(concept);
}

// ---- units and values --------------------------------------------------------------------------

const SUPERSCRIPT: Record<string, string> = { '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻' };
const SPECIAL_UNITS: Record<string, string> = {
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  '[lb_av]': 'lb',
  '[in_i]': 'in',
  '[ft_i]': 'ft',
  '[oz_av]': 'oz',
  '/min': '/min',
  '{beats}/min': '/min',
  '{breaths}/min': '/min',
  'kg/m2': 'kg/m²',
  'mL/min/{1.73_m2}': 'mL/min/1.73 m²',
  '[iU]': 'IU',
  '[IU]': 'IU',
  'a': 'years',
  'mo': 'months',
  'wk': 'weeks',
  'd': 'days',
  'h': 'hours',
};

/** A UCUM code as people write it: 10*3/uL -> 10³/µL, Cel -> °C, {score} -> '' (an annotation only). */
export function humaneUnit(quantity: Pick<Quantity, 'unit' | 'code' | 'system'> | undefined): string {
  if (!quantity) return '';
  const ucum = quantity.system === UCUM || (!quantity.system && quantity.code !== undefined);
  const raw = (ucum ? quantity.code : undefined) ?? quantity.unit ?? quantity.code ?? '';
  if (SPECIAL_UNITS[raw] !== undefined) return SPECIAL_UNITS[raw];
  if (!ucum && quantity.unit) return quantity.unit;
  return raw
    .replace(/\{[^}]*\}/g, '') // annotations ({score}, {cells}) say what was counted, not a unit
    .replace(/10\*(-?\d+)/g, (_, exp: string) => `10${[...exp].map((c) => SUPERSCRIPT[c] ?? c).join('')}`)
    .replace(/(^|[^A-Za-z])u(?=(g|L|mol|IU|U)\b)/g, '$1µ')
    .replace(/([A-Za-z])2\b/g, '$1²')
    .replace(/([A-Za-z])3\b/g, '$1³')
    .replace(/^\/$/, '')
    .trim();
}

/** Decimals a clinician reads for well-known measurements (LOINC); other values by their size. */
const DECIMALS: Record<string, number> = {
  [SYSTOLIC]: 0,
  [DIASTOLIC]: 0,
  '8867-4': 0, // heart rate
  '9279-1': 0, // respiratory rate
  '59408-5': 0, // oxygen saturation
  '2708-6': 0, // oxygen saturation (arterial)
  '8310-5': 1, // body temperature
  '29463-7': 1, // body weight
  '8302-2': 1, // body height
  '39156-5': 1, // body mass index
  '2339-0': 0, // glucose
  '2345-7': 0, // glucose (serum)
  '4548-4': 1, // HbA1c
  '72514-3': 0, // pain score
};

function decimalsFor(value: number, code?: string): number {
  if (code && DECIMALS[code] !== undefined) return DECIMALS[code];
  const size = Math.abs(value);
  if (size >= 100) return 0;
  if (size >= 1) return 1;
  if (size >= 0.1) return 2;
  return 3;
}

/** A number rounded as a clinician reads it (never more decimals than it was recorded with). */
export function roundValue(value: number, code?: string): number {
  const recorded = (String(value).split('.')[1] ?? '').length;
  const decimals = Math.min(recorded, decimalsFor(value, code));
  return Number(value.toFixed(decimals));
}

function loincCode(concept: CodeableConcept | undefined): string | undefined {
  return concept?.coding?.find((c) => c.system === LOINC)?.code ?? concept?.coding?.[0]?.code;
}

/** A quantity for reading: rounded, with its unit as people write it ("84.5 kg", "98 %", "37.2 °C"). */
export function quantityText(quantity: Quantity | undefined, code?: string): string {
  if (quantity?.value === undefined) return quantity ? formatQuantity({ ...quantity, unit: humaneUnit(quantity) }) : '';
  const rounded = roundValue(quantity.value, code);
  const unit = humaneUnit(quantity);
  return formatQuantity({ comparator: quantity.comparator, value: rounded, unit: unit || undefined }).replace(/(\d) (°)/, '$1 $2');
}

/** Components in the order a clinician reads them: systolic before diastolic, whatever their position. */
export function orderedComponents(components: ObservationComponent[] | undefined): ObservationComponent[] {
  const rank = (c: ObservationComponent): number => {
    const code = loincCode(c.code);
    return code === SYSTOLIC ? 0 : code === DIASTOLIC ? 1 : 2;
  };
  return [...(components ?? [])].sort((a, b) => rank(a) - rank(b));
}

/** The value of an Observation in words: "121/85 mmHg" for blood pressure, "37.2 °C", "Positive". */
export function observationValueText(o: Observation | ObservationComponent): string {
  if (o.valueQuantity) return quantityText(o.valueQuantity, loincCode(o.code));
  if (o.valueCodeableConcept) return conceptText(o.valueCodeableConcept);
  if (typeof o.valueString === 'string') return o.valueString;
  if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? 'Yes' : 'No';
  if (typeof o.valueInteger === 'number') return String(o.valueInteger);
  const components = 'component' in o ? orderedComponents((o as Observation).component) : [];
  const quantities = components.map((c) => c.valueQuantity).filter((q): q is Quantity => q?.value !== undefined);
  if (components.length && quantities.length === components.length) {
    const units = new Set(quantities.map((q) => humaneUnit(q)));
    if (units.size === 1) {
      // Blood pressure: 121/85 mmHg.
      return `${components.map((c) => roundValue(c.valueQuantity!.value!, loincCode(c.code))).join('/')} ${[...units][0]}`.trim();
    }
  }
  return components.map((c) => `${conceptText(c.code)} ${observationValueText(c)}`.trim()).join(', ');
}

// ---- reference ranges and interpretation -------------------------------------------------------

/** The reference range as text ("70–99 mg/dL", "≥ 60"), from the first range that has bounds or text. */
export function referenceRangeText(ranges: ObservationReferenceRange[] | undefined, code?: string): string {
  const range = ranges?.find((r) => r.low || r.high || r.text);
  if (!range) return '';
  const low = range.low?.value;
  const high = range.high?.value;
  const unit = humaneUnit(range.low ?? range.high);
  if (low !== undefined && high !== undefined) return `${roundValue(low, code)}–${roundValue(high, code)}${unit ? `${unit === '%' ? '' : ' '}${unit}` : ''}`;
  if (low !== undefined || high !== undefined) {
    const text = formatRange({ low: range.low && { ...range.low, unit }, high: range.high && { ...range.high, unit } });
    return text.replace('>=', '≥').replace('<=', '≤');
  }
  return range.text ?? '';
}

export type Flag = { code: string; label: string; severity: 'critical' | 'abnormal' | 'normal' };

const CRITICAL = new Set(['HH', 'LL', 'AA', 'HU', 'LU']);
const NORMAL = new Set(['N', 'NEG', 'ND']);

/**
 * The interpretation flag of an Observation: its own interpretation when it has one, otherwise
 * derived from its value and reference range (high / low). undefined when nothing can be said.
 */
export function interpretationFlag(o: Observation): Flag | undefined {
  const coding = o.interpretation?.flatMap((i) => i.coding ?? []).find((c) => c.code);
  if (coding?.code) {
    const code = coding.code;
    return { code, label: codingDisplay({ ...coding, system: coding.system ?? 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation' }), severity: CRITICAL.has(code) ? 'critical' : NORMAL.has(code) ? 'normal' : 'abnormal' };
  }
  const value = o.valueQuantity?.value;
  const range = o.referenceRange?.find((r) => r.low || r.high);
  if (value === undefined || !range) return undefined;
  if (range.high?.value !== undefined && value > range.high.value) return { code: 'H', label: 'High', severity: 'abnormal' };
  if (range.low?.value !== undefined && value < range.low.value) return { code: 'L', label: 'Low', severity: 'abnormal' };
  return { code: 'N', label: 'Normal', severity: 'normal' };
}

/** The LOINC code (or first code) of a concept, for precision and ordering. */
export { loincCode };
