// Search latency: each case's repetitions run the store and the floor alternately (which one goes
// first alternates too), so both see the same load and neither always finds caches warmed by the
// other; then the same searches on MemoryRepository, with a time budget since it scans.
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Store } from '../../electron/host/store/types.ts';
import { bundleHits, type CaseParams, type Hits, memorySearch, searchCases } from './cases.ts';
import type { CaseResult } from './report.ts';
import type { BenchDb } from './sqlite.ts';
import { percentile } from './stats.ts';

const WARMUP = 10;

export function runStoreAndFloor(store: Store, floorDb: BenchDb, params: CaseParams[][], mapRef: (ref: string) => string): CaseResult[] {
  return searchCases.map((searchCase, c) => {
    const floorQuery = searchCase.floor(floorDb);
    const storeTimes: number[] = [];
    const floorTimes: number[] = [];
    let storeHits = 0;
    let floorHits = 0;
    let mismatches = 0;
    let errors = 0;
    let firstError: string | undefined;
    let firstMismatch: string | undefined;
    const reps = params[c];
    const warmup = Math.min(WARMUP, reps.length);
    for (let rep = -warmup; rep < reps.length; rep++) {
      const measured = rep >= 0;
      const p = reps[measured ? rep : rep + warmup];
      const { type, query } = searchCase.query(p, mapRef);
      const runStore = (): Hits | undefined => {
        const t0 = performance.now();
        try {
          const hits = bundleHits(store.search(type, query));
          if (measured) storeTimes.push(performance.now() - t0);
          return hits;
        } catch (err) {
          if (measured) errors++;
          firstError ??= `${type}?${query}: ${(err as Error).message}`;
          return undefined;
        }
      };
      const runFloor = (): Hits => {
        const t0 = performance.now();
        const hits = floorQuery(p);
        if (measured) floorTimes.push(performance.now() - t0);
        return hits;
      };
      let s: Hits | undefined;
      let f: Hits;
      if (rep % 2 === 0) {
        s = runStore();
        f = runFloor();
      } else {
        f = runFloor();
        s = runStore();
      }
      if (measured) {
        floorHits += f.matches + f.included;
        if (s) {
          storeHits += s.matches + s.included;
          if (s.matches !== f.matches || s.included !== f.included) {
            mismatches++;
            firstMismatch ??= `${type}?${query}: store ${s.matches}+${s.included}, floor ${f.matches}+${f.included}`;
          }
        }
      }
    }
    const perRep = (n: number, times: number[]): number => n / Math.max(1, times.length);
    return {
      title: searchCase.title,
      shape: searchCase.shape,
      singleHit: searchCase.singleHit ?? false,
      store: { p50: percentile(storeTimes, 50), p99: percentile(storeTimes, 99), hits: perRep(storeHits, storeTimes) },
      floor: { p50: percentile(floorTimes, 50), p99: percentile(floorTimes, 99), hits: perRep(floorHits, floorTimes) },
      reps: floorTimes.length,
      mismatches,
      firstMismatch,
      errors,
      firstError,
    };
  });
}

/**
 * Store-only timings (the RSS probe's second opinion; the lean schema's searches); p50 per case in ms.
 * With `budgetMs`, a case stops once it has spent that long (after at least one repetition).
 */
export function runStoreOnly(store: Store, params: CaseParams[][], mapRef: (ref: string) => string, budgetMs = Infinity): { p50: number; reps: number }[] {
  return searchCases.map((searchCase, c) => {
    const times: number[] = [];
    const started = performance.now();
    for (const p of params[c]) {
      if (times.length > 0 && performance.now() - started > budgetMs) {
        break;
      }
      const { type, query } = searchCase.query(p, mapRef);
      const t0 = performance.now();
      try {
        store.search(type, query);
        times.push(performance.now() - t0);
      } catch {
        // Errors are reported by the main run.
      }
    }
    return { p50: percentile(times, 50), reps: times.length };
  });
}

/** A scan of 90k Observations takes seconds: each search gets a time budget (at least one repetition). */
export async function runMemoryRepository(repo: MemoryRepository, params: CaseParams[][], budgetMs = 4000): Promise<CaseResult['memory'][]> {
  const out: CaseResult['memory'][] = [];
  for (let c = 0; c < searchCases.length; c++) {
    const searchCase = searchCases[c];
    const times: number[] = [];
    let hits = 0;
    const started = performance.now();
    for (let rep = 0; rep < params[c].length && (rep < 1 || performance.now() - started < budgetMs); rep++) {
      const p = params[c][rep];
      const t0 = performance.now();
      let h: Hits;
      if (searchCase.memory) {
        h = await searchCase.memory(repo, p);
      } else {
        const { type, query } = searchCase.query(p, (ref) => ref);
        h = await memorySearch(repo, type, query);
      }
      times.push(performance.now() - t0);
      hits += h.matches + h.included;
    }
    out.push({ p50: percentile(times, 50), reps: times.length, hits: hits / times.length });
  }
  return out;
}
