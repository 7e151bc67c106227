// The printed result of `npm run bench -- store`: Markdown tables of ratios against the baselines
// measured in the same run, with each target marked met or missed.
import { int, markdownTable, mib, ms, ratio } from './stats.ts';

export interface IngestRow {
  path: string;
  resources: number;
  bundles: number;
  seconds: number;
  failedBundles?: number;
}

export interface Latency {
  p50: number;
  p99: number;
  /** Mean resources per search (matches + included). */
  hits: number;
}

export interface CaseResult {
  title: string;
  shape: string;
  singleHit: boolean;
  store: Latency;
  floor: Latency;
  reps: number;
  /** Repetitions where the store's hits differ from the floor's (a sign the two answer different questions). */
  mismatches: number;
  errors: number;
  firstError?: string;
  memory?: { p50: number; reps: number; hits: number };
}

export interface Report {
  resources: number;
  bundles: number;
  node: string;
  ingest: IngestRow[];
  floorSeconds: number;
  cases: CaseResult[];
  memory?: { resources: number; seconds: number; subset: boolean };
  storeSize: { db: number; wal: number };
  floorSize: { db: number; wal: number };
  /** Peak RSS before the store was opened: FHIR definitions, fixtures, raw baselines. */
  rssBeforeStore: number;
  rssAfterStore: number;
  rssOverall: number;
  totalSeconds: number;
}

export const TARGETS = {
  ingestRatio: 0.25,
  searchRatio: 3,
  singleHitP50Ms: 1,
  rssBytes: 400 * 1024 * 1024,
};

const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');

export function formatReport(r: Report): string {
  const out: string[] = [];
  out.push(`## Store benchmark: ${int(r.resources)} resources in ${int(r.bundles)} transaction Bundles (${r.node}, ${int(r.totalSeconds)} s in all)`);
  out.push('');
  const raw = r.ingest.find((i) => i.path.startsWith('raw') && i.path.endsWith('plain'));
  const rawEncrypted = r.ingest.find((i) => i.path.startsWith('raw') && i.path.endsWith('encrypted'));
  out.push('### Ingest (time inside the insert / processBundle calls only)');
  out.push(
    markdownTable(
      ['path', 'resources', 'seconds', 'resources/s', 'ratio to raw plain', 'ratio to raw encrypted', `target >= ${TARGETS.ingestRatio}`],
      r.ingest.map((row) => {
        const rate = row.resources / row.seconds;
        const toRaw = raw ? rate / (raw.resources / raw.seconds) : Number.NaN;
        const toRawEnc = rawEncrypted ? rate / (rawEncrypted.resources / rawEncrypted.seconds) : Number.NaN;
        const isStore = row.path.startsWith('store');
        const failed = row.failedBundles ? ` (${row.failedBundles} Bundles FAILED)` : '';
        return [
          row.path,
          `${int(row.resources)}${failed}`,
          row.seconds.toFixed(1),
          int(rate),
          ratio(toRaw),
          ratio(toRawEnc),
          isStore ? mark(toRaw >= TARGETS.ingestRatio) : '',
        ];
      }),
    ),
  );
  out.push('');
  const reps = r.cases[0]?.reps ?? 0;
  out.push(`### Search latency in ms (encrypted store; ${reps} repetitions each, values drawn from the data)`);
  out.push(
    markdownTable(
      ['#', 'search', 'hits', 'store p50', 'store p99', 'floor p50', 'floor p99', 'ratio p50', 'ratio p99', 'target', 'MemoryRepository p50', 'MemRepo / store'],
      r.cases.map((c, i) => {
        const p50Ratio = c.store.p50 / c.floor.p50;
        const p99Ratio = c.store.p99 / c.floor.p99;
        let target = mark(p50Ratio <= TARGETS.searchRatio && p99Ratio <= TARGETS.searchRatio);
        if (c.singleHit) {
          target += `; p50 <= ${TARGETS.singleHitP50Ms} ms ${mark(c.store.p50 <= TARGETS.singleHitP50Ms)}`;
        }
        if (c.errors > 0) {
          target = `${c.errors} ERRORS`;
        }
        const hits = c.mismatches > 0 ? `${c.store.hits.toFixed(1)} (floor ${c.floor.hits.toFixed(1)}, ${c.mismatches} differ)` : c.store.hits.toFixed(1);
        return [
          String(i + 1),
          `${c.title}: \`${c.shape}\``,
          hits,
          ms(c.store.p50),
          ms(c.store.p99),
          ms(c.floor.p50),
          ms(c.floor.p99),
          ratio(p50Ratio),
          ratio(p99Ratio),
          target,
          c.memory ? `${ms(c.memory.p50)} (${c.memory.reps} reps)` : '-',
          c.memory ? ratio(c.memory.p50 / c.store.p50) : '-',
        ];
      }),
    ),
  );
  const errors = r.cases.filter((c) => c.firstError);
  for (const c of errors) {
    out.push(`- ${c.title}: first error: ${c.firstError}`);
  }
  out.push('');
  out.push('Floor: the same query as hand-written SQL on a plain `(param, value, rid)` index table plus a `(rid, ref, json)` table, same');
  out.push('driver, cipher and pragmas, built in this run from the same data; it parses the JSON of the rows it returns. "hits" = resources');
  out.push('returned (matches + included); a difference from the floor means the two answered different questions.');
  if (r.memory) {
    const subset = r.memory.subset ? `a SUBSET of ${int(r.memory.resources)} resources (searches drawn from it)` : `the same ${int(r.memory.resources)} resources`;
    out.push(
      `MemoryRepository (@medplum/fhir-router) loaded with ${subset} in ${r.memory.seconds.toFixed(1)} s; it scans every resource of the type;` +
        ' _include, _revinclude and the chain are emulated with plain searches and reads.',
    );
  }
  out.push('');
  out.push('### Size and memory');
  out.push(
    markdownTable(
      ['measure', 'value', 'target'],
      [
        ['store database (encrypted), file + WAL', `${mib(r.storeSize.db)} + ${mib(r.storeSize.wal)}`, ''],
        ['floor database, file + WAL', `${mib(r.floorSize.db)} + ${mib(r.floorSize.wal)}`, ''],
        ['floor build (extract + insert + index)', `${r.floorSeconds.toFixed(1)} s`, ''],
        ['peak RSS before the store opened (node, FHIR definitions, fixture templates, raw baselines)', mib(r.rssBeforeStore), ''],
        ['peak RSS through ingest and search (before MemoryRepository)', mib(r.rssAfterStore), `< ${mib(TARGETS.rssBytes)}: ${mark(r.rssAfterStore < TARGETS.rssBytes)}`],
        ['peak RSS of the whole run', mib(r.rssOverall), ''],
      ],
    ),
  );
  return out.join('\n');
}

