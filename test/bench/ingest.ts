// Ingest, measured as a race: each generated Bundle goes to every contestant in turn (raw plain, raw
// encrypted, store encrypted, store plain; the order rotates per Bundle), so all of them run under
// the same machine load and the ratios hold on a shared, noisy machine. Only the time inside the
// insert / processBundle calls counts; data generation and JSON.stringify of the raw rows do not.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { CallContext, Store } from '../../electron/host/store/types.ts';
import { createRawSink, type RawTable } from './raw.ts';
import { createReplaySink, type RecordedRun, recordWrites } from './replay.ts';
import type { IngestRow } from './report.ts';

/** Types whose generated -> store id mapping the searches need (small: patients and encounters). */
const MAPPED_TYPES = new Set(['Patient', 'Encounter']);

export interface StoreContestant {
  path: string;
  store: Store;
  /** Per-call context, e.g. `{ validation: 'structure' }` for the importer's path. */
  ctx?: CallContext;
  /** Filled with `Type/<generated id>` -> `Type/<store id>` for MAPPED_TYPES. */
  idMap?: Map<string, string>;
  /** Databases that receive this store's recorded SQL writes right after each Bundle (replay.ts). */
  replays?: { path: string; file: string; lean?: boolean }[];
}

interface Contestant {
  row: IngestRow;
  /** Runs one Bundle; returns milliseconds, or undefined when the Bundle failed. */
  run(bundle: Bundle, text: string, rows: [string, string][]): number | undefined;
  close(): void;
  /** Run right after this contestant, whatever the rotation (they replay what it just wrote). */
  followers?: Contestant[];
}

function rawContestant(path: string, file: string, key: string | undefined, table: RawTable = 'id-key'): Contestant {
  const sink = createRawSink(file, key, table);
  return {
    row: { path, resources: 0, bundles: 0, seconds: 0 },
    run: (_bundle, _text, rows) => sink.insert(rows),
    close: () => sink.close(),
  };
}

/** Runs a Bundle through the store, recording the store ids of patients and encounters. */
export function storeProcess(store: Store, bundle: Bundle, ctx: CallContext | undefined, idMap: Map<string, string> | undefined): number {
  const generated = (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
  const start = performance.now();
  const response = store.processBundle(bundle, ctx);
  const ms = performance.now() - start;
  if (idMap) {
    response.entry?.forEach((e, i) => {
      const type = generated[i].slice(0, generated[i].indexOf('/'));
      const location = e.response?.location;
      if (MAPPED_TYPES.has(type) && location) {
        const [t, id] = location.split('/');
        idMap.set(generated[i], `${t}/${id}`);
      }
    });
  }
  return ms;
}

function replayContestant(path: string, file: string, lean: boolean, lastRecord: () => RecordedRun[] | undefined): Contestant {
  const sink = createReplaySink(file, { lean });
  return {
    row: { path, resources: 0, bundles: 0, seconds: 0 },
    run: () => {
      const runs = lastRecord();
      return runs === undefined ? undefined : sink.replay(runs);
    },
    close: () => sink.close(),
  };
}

function storeContestant(c: StoreContestant, log: (m: string) => void): Contestant {
  const row: IngestRow = { path: c.path, resources: 0, bundles: 0, seconds: 0, failedBundles: 0 };
  const recorder = c.replays?.length ? recordWrites(c.store.db) : undefined;
  let record: RecordedRun[] | undefined;
  return {
    row,
    run(_bundle, text) {
      // Each store gets its own copy: processBundle may rewrite the Bundle it is given.
      const own = JSON.parse(text) as Bundle;
      recorder?.start();
      try {
        const ms = storeProcess(c.store, own, c.ctx, c.idMap);
        record = recorder?.take();
        return ms;
      } catch (err) {
        recorder?.take();
        record = undefined;
        row.failedBundles = (row.failedBundles ?? 0) + 1;
        if (row.failedBundles <= 3) {
          log(`${c.path}: transaction failed: ${(err as Error).message}`);
        }
        return undefined;
      }
    },
    close: () => recorder?.dispose(),
    followers: (c.replays ?? []).map((r) => replayContestant(r.path, r.file, r.lean ?? false, () => record)),
  };
}

export const RAW_BARE = 'raw better-sqlite3, plain, bare rowid table';
export const RAW_PLAIN = 'raw better-sqlite3, plain, id primary key';
export const RAW_ENCRYPTED = 'raw better-sqlite3, encrypted, id primary key';
export const REPLAY_SCHEMA = "ceiling: the plain store's SQL writes alone, replayed";
export const REPLAY_LEAN = 'ceiling: the same writes, index tables without secondary indexes';

export interface RaceOptions {
  /** The bare rowid table (no index at all). */
  rawBareFile: string;
  rawPlainFile: string;
  rawEncryptedFile: string;
  key: string;
  stores: StoreContestant[];
  log(message: string): void;
}

export function ingestRace(bundles: Iterable<{ bundle: Bundle }>, opts: RaceOptions): IngestRow[] {
  const contestants: Contestant[] = [
    rawContestant(RAW_BARE, opts.rawBareFile, undefined, 'rowid'),
    rawContestant(RAW_PLAIN, opts.rawPlainFile, undefined),
    rawContestant(RAW_ENCRYPTED, opts.rawEncryptedFile, opts.key),
    ...opts.stores.map((s) => storeContestant(s, opts.log)),
  ];
  let index = 0;
  let resources = 0;
  let nextLog = 20_000;
  for (const { bundle } of bundles) {
    const text = JSON.stringify(bundle);
    const rows: [string, string][] = (bundle.entry ?? []).map((e) => {
      const resource = e.resource as Resource;
      return [resource.id as string, JSON.stringify(resource)];
    });
    for (let k = 0; k < contestants.length; k++) {
      const leader = contestants[(index + k) % contestants.length];
      for (const c of [leader, ...(leader.followers ?? [])]) {
        const ms = c.run(bundle, text, rows);
        if (ms !== undefined) {
          c.row.seconds += ms / 1000;
          c.row.resources += rows.length;
          c.row.bundles++;
        }
      }
    }
    index++;
    resources += rows.length;
    if (resources >= nextLog) {
      opts.log(`  ${resources} resources ingested by each`);
      nextLog += 20_000;
    }
  }
  const all = contestants.flatMap((c) => [c, ...(c.followers ?? [])]);
  all.forEach((c) => c.close());
  return all.map((c) => c.row);
}
