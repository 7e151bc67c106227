// The printed result of `npm run bench -- paths`: Markdown tables of each path next to its baseline
// from the same run, each target of issue 18 marked met or missed.
import type { CaseResult } from '../report.ts';
import { int, markdownTable, mib, ms, ratio } from '../stats.ts';
import { AUDIT_OFF_DOOR, CORE, IMPORT_READ_ONLY, type PathRow, SLICE } from './ingest.ts';
import type { ProbeResult } from './probe.ts';
import type { AuditComparison, DoorReadings, ValidationReadings } from './requests.ts';

export const TARGETS = {
  import: 1.3,
  pull: 1.3,
  door: 2,
  auditRatio: 1.2,
  /** At the large size: the whole run's rate against its first 200k resources. */
  ingestHold: 0.8,
  searchRatio: 3,
  searchMs: 2,
  appMs: 100,
  rssBytes: 500 * 1024 * 1024,
  /** Full validation may take at most this share of a REST create. */
  validationShare: 0.5,
};

export interface PathsReport {
  resources: number;
  node: string;
  ingest?: PathRow[];
  pull?: PathRow[];
  searches?: CaseResult[];
  doors?: DoorReadings[];
  validation?: ValidationReadings;
  audit?: AuditComparison;
  probe?: ProbeResult;
  sizes: { at: number; core: number; import: number }[];
  rssMain?: number;
  load: { phase: string; load: number }[];
  notes: string[];
  totalSeconds?: number;
}

const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const rate = (r: PathRow): number => r.resources / r.seconds;

function pathTable(rows: PathRow[], coreName: string, targetOf: (r: PathRow) => number | undefined): string {
  const core = rows.find((r) => r.path === coreName) as PathRow;
  return markdownTable(
    ['path', 'resources', 'time', 'rate', 'time / core', 'target'],
    rows.map((r) => {
      const x = r.seconds / r.resources / (core.seconds / core.resources);
      const limit = r === core ? undefined : targetOf(r);
      const target = limit === undefined ? '' : `<= ${limit}x: ${mark(x <= limit)}`;
      const failed = r.failures ? ` (${int(r.failures)} FAILED: ${r.firstFailure})` : '';
      return [r.path, `${int(r.resources)}${failed}`, `${r.seconds.toFixed(1)} s`, `${int(rate(r))}/s`, r === core ? '1' : ratio(x), target];
    }),
  );
}

/** Rate over the first `n` slices and over the last `n` (slices of SLICE resources). */
function sliceRates(r: PathRow, n: number, total: number): { first: number; last: number; whole: number } {
  const full = Math.floor(total / SLICE);
  const sum = (from: number, to: number): number => r.slices.slice(from, to).reduce((a, b) => a + (b ?? 0), 0);
  return { first: (n * SLICE) / sum(0, n), last: (n * SLICE) / sum(full - n, full), whole: rate(r) };
}

export function formatPathsReport(r: PathsReport): string {
  const out: string[] = [`# Paths benchmark: ${int(r.resources)} resources (node ${r.node}, ${((r.totalSeconds ?? 0) / 60).toFixed(0)} min)`, ''];
  out.push(`Machine load (1-minute average) by phase: ${r.load.map((l) => `${l.phase} ${l.load}`).join(', ')}.`, '');
  if (r.ingest) {
    out.push('## Write paths vs the core (raced Bundle by Bundle)', '');
    out.push(pathTable(r.ingest, CORE, (p) => (p.path.startsWith('outpost import') ? TARGETS.import : p.path === AUDIT_OFF_DOOR || p.path === IMPORT_READ_ONLY ? undefined : TARGETS.door)), '');
    out.push(
      'The core is timed as the store bench times it (processBundle of a parsed Bundle); the import includes reading, hashing and parsing its file; the doors include the transport and every entry\'s AuditEvent. The HTTP door with audit off is there to show what the AuditEvents cost, and the reading of the import\'s file what the import does before it writes; neither is a target.',
      '',
    );
    if (r.resources >= 4 * SLICE) {
      out.push(`### Rates as the store grows (${int(SLICE)}-resource slices)`, '');
      out.push(
        markdownTable(
          ['path', 'first 200k', 'last 200k', 'whole run', 'whole / first 200k', `target >= ${TARGETS.ingestHold}`],
          r.ingest.map((p) => {
            const s = sliceRates(p, 2, r.resources);
            return [p.path, `${int(s.first)}/s`, `${int(s.last)}/s`, `${int(s.whole)}/s`, ratio(s.whole / s.first), mark(s.whole / s.first >= TARGETS.ingestHold)];
          }),
        ),
        '',
      );
    }
  }
  if (r.pull) {
    out.push('## Tenant pull write path vs the core (pages of 1,000 of one type)', '');
    out.push(pathTable(r.pull, r.pull[0].path, () => TARGETS.pull), '');
  }
  if (r.searches) {
    const big = r.resources >= 1_000_000;
    out.push(`## The ten clinic searches on the core store vs the floor (${int(r.searches[0]?.reps ?? 0)} repetitions each)`, '');
    out.push(
      markdownTable(
        ['#', 'search', 'store p50', 'floor p50', 'store / floor', 'hits', `target: <= ${TARGETS.searchRatio}x and < ${TARGETS.searchMs} ms${big ? '' : ' (the 1M target)'}`],
        r.searches.map((c, i) => {
          const x = c.store.p50 / c.floor.p50;
          const problems = c.errors || c.mismatches ? ` (${c.errors} errors, ${c.mismatches} differ from the floor: ${c.firstError ?? c.firstMismatch})` : '';
          return [String(i + 1), c.title, `${ms(c.store.p50)} ms`, `${ms(c.floor.p50)} ms`, ratio(x), `${c.store.hits.toFixed(1)}${problems}`, mark(x <= TARGETS.searchRatio && c.store.p50 < TARGETS.searchMs)];
        }),
      ),
      '',
    );
  }
  if (r.doors) {
    out.push('## The app through its doors (p50 / p90)', '');
    out.push(
      markdownTable(
        ['door', 'patient list, first page', 'patient list, by name', 'opening a chart (Patient + 8 sections)', 'resources per chart', `target: p50 < ${TARGETS.appMs} ms`],
        r.doors.map((d) => [
          d.door,
          `${ms(d.listFirstPage.p50)} / ${ms(d.listFirstPage.p90)} ms`,
          `${ms(d.listByName.p50)} / ${ms(d.listByName.p90)} ms`,
          `${ms(d.chart.p50)} / ${ms(d.chart.p90)} ms`,
          d.chartResources.toFixed(0),
          mark(Math.max(d.listFirstPage.p50, d.listByName.p50, d.chart.p50) < TARGETS.appMs),
        ]),
      ),
      '',
    );
  }
  if (r.validation) {
    const v = r.validation;
    const core = r.ingest?.find((p) => p.path === CORE);
    const coreUs = core ? (core.seconds / core.resources) * 1e6 : Number.NaN;
    out.push(`## Validation of REST writes (${int(v.resources)} resources drawn from the data)`, '');
    out.push(
      markdownTable(
        ['measure', 'per resource', 'rate'],
        [
          ['full validation (the REST path: structure, bindings and FHIRPath invariants)', `${v.fullUs.toFixed(0)} µs`, `${int(1e6 / v.fullUs)}/s`],
          ['structural check (imports, pulls)', `${v.structureUs.toFixed(0)} µs`, `${int(1e6 / v.structureUs)}/s`],
          ['a whole REST create through host.handle (mean; p50)', `${v.restCreateUs.toFixed(0)} µs; ${ms(v.restCreateP50Ms)} ms`, `${int(1e6 / v.restCreateUs)}/s`],
          ['the core ingest, for scale', `${coreUs.toFixed(0)} µs`, core ? `${int(rate(core))}/s` : '-'],
        ],
      ),
      '',
      `Full validation is ${(100 * v.fullUs / v.restCreateUs).toFixed(0)}% of a REST create (target <= ${TARGETS.validationShare * 100}%: ${mark(v.fullUs / v.restCreateUs <= TARGETS.validationShare)}).`,
      '',
    );
  }
  if (r.audit) {
    const a = r.audit;
    out.push(`## Audit on / off per request (${int(a.requests)} requests each way, ${int(a.eventsWritten)} AuditEvents written)`, '');
    out.push(
      markdownTable(
        ['request: its answer', 'p50 audit on', 'p50 audit off', 'on / off', `target <= ${TARGETS.auditRatio}`],
        [...a.kinds, { kind: 'all requests', on: a.all.on, off: a.all.off }].map((k) => [
          `${k.kind} (${k.on.n})`,
          `${ms(k.on.p50)} ms`,
          `${ms(k.off.p50)} ms`,
          ratio(k.on.p50 / k.off.p50),
          mark(k.on.p50 / k.off.p50 <= TARGETS.auditRatio),
        ]),
      ),
      '',
      markdownTable(
        ['reads in blocks of 10, each block\'s AuditEvents written within it', 'audit on', 'audit off', 'on / off', `target <= ${TARGETS.auditRatio}`],
        [[`mean per request (${int(a.blocks.n)} reads)`, `${ms(a.blocks.on)} ms`, `${ms(a.blocks.off)} ms`, ratio(a.blocks.on / a.blocks.off), mark(a.blocks.on / a.blocks.off <= TARGETS.auditRatio)]],
      ),
      '',
      'A read\'s AuditEvent is written after its answer, with the others of its burst (audit/log.ts, AUDIT_BATCH_MS); a write\'s inside the write\'s transaction.',
      '',
    );
  }
  out.push('## Memory and size', '');
  const rows: string[][] = [];
  for (const s of r.sizes) {
    rows.push([`core store at ${int(s.at)} resources (pages in use)`, `${mib(s.core)}, ${int(s.core / s.at)} B per resource`]);
    rows.push([`outpost import's database at ${int(s.at)} (history, outbox, ledger, AuditEvents included)`, `${mib(s.import)}, ${int(s.import / s.at)} B per resource`]);
  }
  if (r.sizes.length > 1) {
    const [first, last] = [r.sizes[0], r.sizes[r.sizes.length - 1]];
    rows.push(['bytes per resource, end vs 200k (core store)', `${ratio(last.core / last.at / (first.core / first.at))}: ${mark(last.core / last.at <= first.core / first.at)}`]);
  }
  if (r.probe) {
    const p = r.probe;
    rows.push(['RSS probe (the app\'s host alone, heap growth limited as the app does): peak before the host opened', mib(p.rssBeforeHost)]);
    rows.push([`RSS probe: peak through importing ${int(p.resources)} and serving list, charts and searches`, `${mib(p.peakRss)} (target < ${mib(TARGETS.rssBytes)}: ${mark(p.peakRss < TARGETS.rssBytes)})`]);
    rows.push(['RSS probe: at the end, RSS / heap total / heap used / external', `${mib(p.end.rss)} / ${mib(p.end.heapTotal)} / ${mib(p.end.heapUsed)} / ${mib(p.end.external)}`]);
    rows.push(['RSS probe: import alone, resources/s', int(p.resources / p.importSeconds)]);
    rows.push(['RSS probe: list / chart p50 through host.handle', `${ms(p.readings.listFirstPage.p50)} / ${ms(p.readings.chart.p50)} ms`]);
  }
  if (r.rssMain !== undefined) rows.push(['peak RSS of the bench process (every contestant\'s page cache)', mib(r.rssMain)]);
  out.push(markdownTable(['measure', 'value'], rows));
  for (const n of r.notes) out.push('', n);
  return out.join('\n');
}
