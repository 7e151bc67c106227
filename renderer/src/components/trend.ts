// Turns Observations into chartable groups: one per code with a numeric value, blood pressure panels
// as one group of two series (systolic and diastolic) on the same axes.
import type { CodeableConcept, Observation, Quantity } from '@medplum/fhirtypes';

export interface TrendPoint {
  time: number;
  value: number;
  observationId?: string;
}

export interface TrendSeries {
  label: string;
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
  return code?.text ?? code?.coding?.[0]?.display ?? code?.coding?.[0]?.code ?? 'Unnamed';
}

function when(o: Observation): number | undefined {
  const text = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued;
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function unitOf(q: Quantity | undefined): string {
  return q?.unit ?? q?.code ?? '';
}

export function trendGroups(observations: Observation[]): TrendGroup[] {
  const groups = new Map<string, TrendGroup>();
  const add = (groupKey: string, groupLabel: string, seriesLabel: string, unit: string, point: TrendPoint): void => {
    let group = groups.get(groupKey);
    if (!group) {
      group = { key: groupKey, label: groupLabel, unit, series: [] };
      groups.set(groupKey, group);
    }
    let series = group.series.find((s) => s.label === seriesLabel);
    if (!series) {
      series = { label: seriesLabel, points: [] };
      group.series.push(series);
    }
    series.points.push(point);
  };
  for (const o of observations) {
    const time = when(o);
    const key = codeKey(o.code);
    if (time === undefined || !key) continue;
    if (typeof o.valueQuantity?.value === 'number') {
      add(key, codeLabel(o.code), codeLabel(o.code), unitOf(o.valueQuantity), { time, value: o.valueQuantity.value, observationId: o.id });
    }
    for (const c of o.component ?? []) {
      if (typeof c.valueQuantity?.value === 'number') {
        add(key, codeLabel(o.code), codeLabel(c.code), unitOf(c.valueQuantity), { time, value: c.valueQuantity.value, observationId: o.id });
      }
    }
  }
  const out = [...groups.values()];
  out.forEach((g) => g.series.forEach((s) => s.points.sort((a, b) => a.time - b.time)));
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
