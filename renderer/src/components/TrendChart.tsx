// A real trend chart in SVG: time on the x axis with dates, the value on the y axis with its unit,
// one line per series, every point with its date and value in a tooltip.
import { useId, useMemo, useState } from 'react';
import type { Observation } from '@medplum/fhirtypes';
import { formatDay } from './clinical.ts';
import { niceTicks, timeTicks, trendGroups } from './trend.ts';

const WIDTH = 760;
const HEIGHT = 300;
const M = { top: 20, right: 44, bottom: 48, left: 64 };
const COLORS = ['#1f5fa8', '#c0392b', '#2e7d32', '#8e44ad'];

const fmtDate = (t: number): string => formatDay(t);
/** Axis ticks: as many decimals as the step needs. Points carry values already rounded for reading. */
const fmtValue = (v: number): string => String(Number(v.toPrecision(6)));

export function TrendChart({ observations }: { observations: Observation[] }) {
  const groups = useMemo(() => trendGroups(observations), [observations]);
  const [selected, setSelected] = useState<string | undefined>();
  const selectId = useId();
  const titleId = useId();
  if (groups.length === 0) {
    return <p className="empty">No numeric vital signs or lab values to chart.</p>;
  }
  const group = groups.find((g) => g.key === selected) ?? groups[0];
  const points = group.series.flatMap((s) => s.points);
  const tMin = Math.min(...points.map((p) => p.time));
  const tMax = Math.max(...points.map((p) => p.time));
  const yTicks = niceTicks(Math.min(...points.map((p) => p.value)), Math.max(...points.map((p) => p.value)));
  const yMin = yTicks[0];
  const yMax = yTicks[yTicks.length - 1];
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const x = (t: number): number => M.left + (tMax === tMin ? plotW / 2 : ((t - tMin) / (tMax - tMin)) * plotW);
  const y = (v: number): number => M.top + plotH - ((v - yMin) / (yMax - yMin || 1)) * plotH;
  const latest = group.series.map((s) => ({ label: s.label, point: s.points[s.points.length - 1] }));

  return (
    <figure className="trend">
      <div className="trend-controls">
        <label htmlFor={selectId}>Measure</label>
        <select id={selectId} value={group.key} onChange={(e) => setSelected(e.target.value)}>
          {groups.map((g) => (
            <option key={g.key} value={g.key}>
              {g.label} ({Math.max(...g.series.map((s) => s.points.length))})
            </option>
          ))}
        </select>
        <span className="trend-latest" data-testid="trend-latest">
          Latest: {group.series.length > 1 ? `${latest.map((l) => l.label).join('/')} ` : ''}
          {latest.map((l) => fmtValue(l.point.value)).join('/')}
          {group.unit ? ` ${group.unit}` : ''} on {fmtDate(Math.max(...latest.map((l) => l.point.time)))}
        </span>
      </div>
      <svg
        className="trend-svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={titleId}
        data-testid="trend-chart"
      >
        <title id={titleId}>
          {`${group.label} in ${group.unit || 'no unit'} from ${fmtDate(tMin)} to ${fmtDate(tMax)}, ${points.length} values`}
        </title>
        <g className="axis y-axis">
          {yTicks.map((v) => (
            <g key={v}>
              <line x1={M.left} x2={WIDTH - M.right} y1={y(v)} y2={y(v)} className="grid" />
              <text x={M.left - 8} y={y(v)} dy="0.32em" textAnchor="end">
                {fmtValue(v)}
              </text>
            </g>
          ))}
          <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + plotH} className="axis-line" />
          <text className="axis-label" transform={`translate(16 ${M.top + plotH / 2}) rotate(-90)`} textAnchor="middle">
            {group.unit || 'value'}
          </text>
        </g>
        <g className="axis x-axis">
          <line x1={M.left} x2={WIDTH - M.right} y1={M.top + plotH} y2={M.top + plotH} className="axis-line" />
          {timeTicks(tMin, tMax).map((t) => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={M.top + plotH} y2={M.top + plotH + 5} className="axis-line" />
              <text x={x(t)} y={M.top + plotH + 20} textAnchor="middle">
                {fmtDate(t)}
              </text>
            </g>
          ))}
          <text className="axis-label" x={M.left + plotW / 2} y={HEIGHT - 6} textAnchor="middle">
            Date
          </text>
        </g>
        {group.series.map((s, i) => (
          <g key={s.label} className="series" data-series-code={s.code} stroke={COLORS[i % COLORS.length]} fill={COLORS[i % COLORS.length]}>
            <polyline fill="none" strokeWidth={2} points={s.points.map((p) => `${x(p.time)},${y(p.value)}`).join(' ')} />
            {s.points.map((p, j) => (
              <circle key={`${p.time}-${j}`} cx={x(p.time)} cy={y(p.value)} r={3.5}>
                <title>{`${s.label}: ${fmtValue(p.value)} ${group.unit} on ${fmtDate(p.time)}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      {group.series.length > 1 ? (
        <figcaption className="legend">
          {group.series.map((s, i) => (
            <span key={s.label} className={`legend-item legend-${i % COLORS.length}`} data-series-code={s.code}>
              {s.label}
            </span>
          ))}
        </figcaption>
      ) : (
        <figcaption className="legend">{group.label}</figcaption>
      )}
    </figure>
  );
}
