// The write path of a tenant pull, raced against the core on the same pages: the generated resources
// (ids and references resolved, as a server hands them out) grouped by type into pages of 1,000 (the
// pull's page size), each page written
//   pull  by sync's page writer (pull-page.ts) into a store opened as the host opens it (sync's outbox
//         hook, its tables), through the replica the host hands sync: dedupe and id-map lookups,
//         reference rewriting, outbox suppression, one transaction per page with its watermark;
//   core  by the store's processBundle, as a transaction Bundle of PUTs (the core's way to write
//         resources whose ids are given).
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createReplica } from '../../../electron/host/access/index.ts';
import { DEFAULT_PROJECT_ID } from '../../../electron/host/db/project.ts';
import { createStore } from '../../../electron/host/store/index.ts';
import type { Store } from '../../../electron/host/store/types.ts';
import { createOutbox, syncMigrations } from '../../../electron/host/sync/index.ts';
import { createPageWriter } from '../../../electron/host/sync/pull/pull-page.ts';
import { resolveBundle } from '../replicate.ts';
import type { PathRow } from './ingest.ts';
import { SLICE } from './ingest.ts';

export const PAGE = 1_000;

export interface PullRace {
  rows: PathRow[];
  resources: number;
}

function row(name: string): PathRow {
  return { path: name, resources: 0, bundles: 0, seconds: 0, failures: 0, slices: [] };
}

/** Pages of one type, in the order a tenant pull would fill them (as they fill up, then the rest). */
function* pagesOf(bundles: Iterable<{ bundle: Bundle }>): Generator<{ type: string; resources: Resource[] }> {
  const open = new Map<string, Resource[]>();
  const stamp = new Date('2026-01-01T00:00:00Z').toISOString();
  for (const { bundle } of bundles) {
    for (const resource of resolveBundle(bundle)) {
      // As a server sends it: its version and last update.
      resource.meta = { ...resource.meta, versionId: '1', lastUpdated: stamp };
      let page = open.get(resource.resourceType);
      if (!page) {
        page = [];
        open.set(resource.resourceType, page);
      }
      page.push(resource);
      if (page.length >= PAGE) {
        open.delete(resource.resourceType);
        yield { type: resource.resourceType, resources: page };
      }
    }
  }
  for (const [type, resources] of open) {
    yield { type, resources };
  }
}

function putBundle(resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
  };
}

export function racePull(bundles: Iterable<{ bundle: Bundle }>, dir: string, key: string, log: (m: string) => void): PullRace {
  const outbox = createOutbox();
  const pulled: Store = createStore({ path: path.join(dir, 'pull.db'), key, backgroundCheckpoint: true, migrations: [...syncMigrations], onChange: outbox.onChange });
  const core: Store = createStore({ path: path.join(dir, 'pull-core.db'), key, backgroundCheckpoint: true });
  const writer = createPageWriter({ db: pulled.db, store: createReplica(pulled), outbox, project: DEFAULT_PROJECT_ID, clock: () => new Date() });
  const pullRow = row('tenant pull: the page writer (sync), one transaction per page');
  const coreRow = row('core: the same page as a transaction Bundle of PUTs');
  let resources = 0;
  let index = 0;
  let nextLog = 50_000;
  const account = (r: PathRow, ms: number, count: number, slice: number): void => {
    r.seconds += ms / 1000;
    r.slices[slice] = (r.slices[slice] ?? 0) + ms / 1000;
    r.resources += count;
    r.bundles++;
  };
  try {
    for (const page of pagesOf(bundles)) {
      const text = JSON.stringify(page.resources);
      const slice = Math.floor(resources / SLICE);
      const runs = [
        () => {
          const own = JSON.parse(text) as Resource[];
          const t0 = performance.now();
          const result = writer.writePage(page.type, own, { watermark: own[own.length - 1].meta?.lastUpdated ?? null, resume: null });
          const ms = performance.now() - t0;
          if (result.failed.length || result.written !== own.length) {
            pullRow.failures += own.length - result.written;
            pullRow.firstFailure ??= result.failed[0] ? `${result.failed[0].type}/${result.failed[0].id}: ${result.failed[0].message}` : `${result.deduped} deduped`;
          }
          account(pullRow, ms, result.written, slice);
        },
        () => {
          const own = putBundle(JSON.parse(text) as Resource[]);
          const t0 = performance.now();
          try {
            core.processBundle(own, { validation: 'structure' });
            account(coreRow, performance.now() - t0, page.resources.length, slice);
          } catch (err) {
            coreRow.failures += page.resources.length;
            coreRow.firstFailure ??= (err as Error).message;
          }
        },
      ];
      runs[index % 2]();
      runs[(index + 1) % 2]();
      index++;
      resources += page.resources.length;
      if (resources >= nextLog) {
        log(`  ${resources} resources pulled`);
        nextLog += 50_000;
      }
    }
  } finally {
    pulled.close();
    core.close();
  }
  return { rows: [coreRow, pullRow], resources };
}
