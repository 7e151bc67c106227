// Turns Observations into chartable groups: one per code with a numeric value, blood pressure panels
// as one group of two series (systolic and diastolic) on the same axes.
import type { CodeableConcept, Observation } from '@medplum/fhirtypes';
import { conceptText, DIASTOLIC, humaneUnit, loincCode, orderedComponents, roundValue, SYSTOLIC } from './clinical.ts';

export interface TrendPoint {
  time: number;
  value: number;
  observationId?: string;
}

export interface TrendSeries {
  label: string;
  /** The component's code (LOINC), which decides the series' place and colour. */
  code?: string;
  points: TrendPoint[];
}

export interface TrendGroup {
  key: string;
  label: string;
  unit: string;
  series: TrendSeries[];
}

function codeKey(code: CodeableConcept | undefined): string | undefined {
  const c = code?.coding?.[0];
  return c ? `${c.system ?? ''}|${c.code ?? ''}` : code?.text;
}

function codeLabel(code: CodeableConcept | undefined): string {
  return conceptText(code) || 'Unnamed';
}

function when(o: Observation): number | undefined {
  const text = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued;
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** Systolic first, diastolic second, then the others as they came (Array.sort is stable). */
function seriesRank(series: TrendSeries): number {
  return series.code === SYSTOLIC ? 0 : series.code === DIASTOLIC ? 1 : 2;
}

export function trendGroups(observations: Observation[]): TrendGroup[] {
  const groups = new Map<string, TrendGroup>();
  const add = (groupKey: string, groupLabel: string, seriesLabel: string, seriesCode: string | undefined, unit: string, point: TrendPoint): void => {
    let group = groups.get(groupKey);
    if (!group) {
      group = { key: groupKey, label: groupLabel, unit, series: [] };
      groups.set(groupKey, group);
    }
    let series = group.series.find((s) => (seriesCode ? s.code === seriesCode : s.label === seriesLabel));
    if (!series) {
      series = { label: seriesLabel, code: seriesCode, points: [] };
      group.series.push(series);
    }
    series.points.push(point);
  };
  for (const o of observations) {
    const time = when(o);
    const key = codeKey(o.code);
    if (time === undefined || !key) continue;
    if (typeof o.valueQuantity?.value === 'number') {
      add(key, codeLabel(o.code), codeLabel(o.code), loincCode(o.code), humaneUnit(o.valueQuantity), { time, value: roundValue(o.valueQuantity.value, loincCode(o.code)), observationId: o.id });
    }
    // Components by their code (systolic before diastolic), never by their position in the resource:
    // a series keeps its place, and so its colour, from one patient to the next.
    for (const c of orderedComponents(o.component)) {
      if (typeof c.valueQuantity?.value === 'number') {
        add(key, codeLabel(o.code), codeLabel(c.code), loincCode(c.code), humaneUnit(c.valueQuantity), { time, value: roundValue(c.valueQuantity.value, loincCode(c.code)), observationId: o.id });
      }
    }
  }
  const out = [...groups.values()];
  out.forEach((g) => g.series.forEach((s) => s.points.sort((a, b) => a.time - b.time)));
  out.forEach((g) => g.series.sort((a, b) => seriesRank(a) - seriesRank(b)));
  // Most measured first: a chart with many points tells more than one with a single value.
  return out.sort((a, b) => Math.max(...b.series.map((s) => s.points.length)) - Math.max(...a.series.map((s) => s.points.length)) || a.label.localeCompare(b.label));
}

/** Round tick values spanning [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; ticks.length === 0 || ticks[ticks.length - 1] < max; v += step) {
    ticks.push(Number(v.toFixed(10)));
  }
  return ticks;
}

/** Evenly spaced time ticks. */
export function timeTicks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min];
  return Array.from({ length: count }, (_, i) => min + ((max - min) * i) / (count - 1));
}
