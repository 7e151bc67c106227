// The printed result of `npm run bench -- store`: Markdown tables of ratios against the baselines
// measured in the same run, with each target marked met or missed.
import { RAW_BARE, RAW_ENCRYPTED, RAW_PLAIN, REPLAY_SCHEMA } from './ingest.ts';
import type { ProbeResult } from './probe.ts';
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
  firstMismatch?: string;
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
  /** Per case: the store's searches on the lean ceiling's database (no secondary indexes). */
  lean?: { p50: number; reps: number }[];
  memory?: { resources: number; seconds: number; subset: boolean };
  storeSize: { db: number; wal: number };
  /** After close (WAL checkpointed into the file). */
  storeSizeClosed: { db: number; wal: number };
  floorSize: { db: number; wal: number };
  /** The child process that held only the store (undefined when skipped or failed). */
  probe?: ProbeResult;
  /** Peak RSS of the main process through ingest and searches (includes the baselines' page caches). */
  rssMain: number;
  rssOverall: number;
  totalSeconds: number;
}

export const TARGETS = {
  ingestRatio: 0.25,
  searchRatio: 3,
  singleHitP50Ms: 1,
  rssBytes: 400 * 1024 * 1024,
};

const LEAN_NOTE = 'each case stops after ~5 s';

const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');

function memoryHeader(r: Report): string {
  if (!r.memory) {
    return 'MemoryRepository p50';
  }
  return r.memory.subset ? `MemoryRepository p50 on ${int(r.memory.resources)} resources (reps)` : 'MemoryRepository p50 (reps)';
}

export function formatReport(r: Report): string {
  const out: string[] = [];
  out.push(`## Store benchmark: ${int(r.resources)} resources in ${int(r.bundles)} transaction Bundles (${r.node}, ${int(r.totalSeconds)} s in all)`);
  out.push('');
  const rateOf = (path: string): number => {
    const row = r.ingest.find((i) => i.path === path);
    return row ? row.resources / row.seconds : Number.NaN;
  };
  const bare = rateOf(RAW_BARE);
  const keyed = rateOf(RAW_PLAIN);
  const encrypted = rateOf(RAW_ENCRYPTED);
  out.push('### Ingest (time inside the insert / processBundle calls only)');
  out.push(
    markdownTable(
      ['path', 'resources', 'seconds', 'resources/s', 'ratio to raw bare', 'ratio to raw plain id-key', 'ratio to raw encrypted id-key', `target: >= ${TARGETS.ingestRatio} of raw bare`],
      r.ingest.map((row) => {
        const rate = row.resources / row.seconds;
        const toRaw = rate / bare;
        const isStore = row.path.startsWith('store');
        const failed = row.failedBundles ? ` (${row.failedBundles} Bundles FAILED)` : '';
        return [
          row.path,
          `${int(row.resources)}${failed}`,
          row.seconds.toFixed(1),
          int(rate),
          ratio(toRaw),
          ratio(rate / keyed),
          ratio(rate / encrypted),
          isStore ? mark(toRaw >= TARGETS.ingestRatio) : '',
        ];
      }),
    ),
  );
  if (r.ingest.some((row) => row.path === REPLAY_SCHEMA)) {
    out.push('');
    out.push(
      'The two "ceiling" rows replay the SQL statements the plain store ran, with their parameters, into fresh databases ' +
        '(one transaction per Bundle): SQLite work only, none of the store\'s JavaScript (validation, references, ' +
        'stamping, JSON, extraction). No JavaScript change can take the store above its ceiling.'
    );
  }
  out.push('');
  const reps = r.cases[0]?.reps ?? 0;
  out.push(`### Search latency in ms (encrypted store; ${reps} repetitions each, values drawn from the data)`);
  out.push(
    markdownTable(
      ['#', 'search', 'hits', 'store p50', 'store p99', 'floor p50', 'floor p99', 'ratio p50', 'ratio p99', 'target', memoryHeader(r), 'MemRepo / store'],
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
  for (const c of r.cases) {
    if (c.firstError) {
      out.push(`- ${c.title}: first error: ${c.firstError}`);
    }
    if (c.firstMismatch) {
      out.push(`- ${c.title}: first difference from the floor: ${c.firstMismatch}`);
    }
  }
  out.push('');
  out.push('Floor: the same query as hand-written SQL on a plain `(param, value, rid)` index table plus a `(rid, ref, json)` table, same');
  out.push('driver, cipher and pragmas, built in this run from the same data; it parses the JSON of the rows it returns. "hits" = resources');
  out.push('returned (matches + included); a difference from the floor means the two answered different questions.');
  if (r.memory) {
    const subset = r.memory.subset
      ? `a SUBSET: the first ${int(r.memory.resources)} of the same resources (parameter values drawn from it; its scans grow linearly, so at full size its times and the ratio would be about ${ratio(r.resources / r.memory.resources)}x larger)`
      : `the same ${int(r.memory.resources)} resources`;
    out.push(
      `MemoryRepository (@medplum/fhir-router) loaded with ${subset} in ${r.memory.seconds.toFixed(1)} s. It scans every resource of the type with` +
        ' matchesSearchRequest (up to ~4 ms per resource for parameters with long shared FHIRPath unions); _include, _revinclude and the chain' +
        ' are emulated with plain searches and reads; each search runs for ~4 s or once.',
    );
  }
  if (r.lean) {
    const lean = r.lean;
    out.push('');
    out.push('### Searches on the lean schema (the lean ceiling\'s database: the plain store\'s rows, no secondary index)');
    out.push(
      markdownTable(
        ['#', 'search', `lean p50 (reps, ${LEAN_NOTE})`, 'floor p50', 'ratio p50', `target: within ${TARGETS.searchRatio}x of the floor`],
        r.cases.map((c, i) => [
          String(i + 1),
          c.title,
          `${ms(lean[i].p50)} (${lean[i].reps})`,
          ms(c.floor.p50),
          ratio(lean[i].p50 / c.floor.p50),
          mark(lean[i].p50 / c.floor.p50 <= TARGETS.searchRatio),
        ]),
      ),
    );
    out.push('');
    out.push(
      'The store\'s own search SQL, prepared without its `INDEXED BY` hints so SQLite plans on what is left, on an unencrypted file ' +
        '(the floor\'s is encrypted). The lean ceiling is the only schema in this table whose writes alone come near the ingest target; ' +
        'this is what dropping those indexes would cost the searches.'
    );
  }
  out.push('');
  out.push('### Size and memory');
  const rows: string[][] = [
    ['store database (encrypted), file + WAL after ingest', `${mib(r.storeSize.db)} + ${mib(r.storeSize.wal)}`, ''],
    ['store database after close (WAL checkpointed), file + WAL', `${mib(r.storeSizeClosed.db)} + ${mib(r.storeSizeClosed.wal)}`, ''],
    ['floor database, file + WAL', `${mib(r.floorSize.db)} + ${mib(r.floorSize.wal)}`, ''],
    ['floor build (extract + insert + index)', `${r.floorSeconds.toFixed(1)} s`, ''],
  ];
  if (r.probe) {
    const p = r.probe;
    rows.push(
      ['RSS probe (child process, store alone): peak before the store opened (node, tsx, FHIR definitions, fixture templates)', mib(p.rssBeforeStore), ''],
      [
        `RSS probe: peak through ingest and the ten searches (heap growth limited as the app does${p.maxOldSpaceMb ? `; V8 old space capped at ${p.maxOldSpaceMb} MB` : ''})`,
        mib(p.peakRss),
        `< ${mib(TARGETS.rssBytes)}: ${mark(p.peakRss < TARGETS.rssBytes)}`,
      ],
      [
        'RSS probe: at the end, RSS / V8 heap total / heap used / external (the rest of RSS is SQLite page caches and native code)',
        `${mib(p.end.rss)} / ${mib(p.end.heapTotal)} / ${mib(p.end.heapUsed)} / ${mib(p.end.external)}`,
        '',
      ],
      ['RSS probe: ingest alone (no race), resources/s', `${int(p.resources / p.ingestSeconds)}${p.failedBundles ? ` (${p.failedBundles} Bundles FAILED)` : ''}`, ''],
      ['RSS probe: store p50 per search, ms (second opinion)', p.storeP50.map((v) => ms(v)).join(', '), ''],
    );
  }
  rows.push(
    ['peak RSS of the main process through ingest and search (with the baselines\' page caches)', mib(r.rssMain), ''],
    ['peak RSS of the whole run (with MemoryRepository)', mib(r.rssOverall), ''],
  );
  out.push(markdownTable(['measure', 'value', 'target'], rows));
  return out.join('\n');
}

