// Test helpers of the search tests: a store loaded with Synthea bundles, and a search that follows
// `next` links to collect every matching id.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/index.ts';
import { readSyntheaBundles } from '../helpers/fixtures.ts';

export const BASE_URL = 'http://127.0.0.1:8103/fhir/R4/';

/** A fresh in-memory store with the first `bundles` Synthea bundles imported through processBundle. */
export function loadSyntheaStore(bundles: number): Store {
  const store = createStore({ path: ':memory:', baseUrl: BASE_URL });
  for (const bundle of readSyntheaBundles(bundles)) {
    store.processBundle(bundle);
  }
  return store;
}

/** Every live resource of the store (after the store rewrote urn:uuid references). */
export function allResources(store: Store): Resource[] {
  return (store.db.prepare('SELECT content FROM resource WHERE deleted = 0').pluck().all() as string[]).map((c) => JSON.parse(c) as Resource);
}

/** Runs a search and follows `next` links; returns the matched ids (as Type/id) in order, and the pages seen. */
export function searchAll(store: Store, resourceType: string | undefined, query: string): { ids: string[]; pages: Bundle[] } {
  const pages: Bundle[] = [];
  let bundle = store.search(resourceType, query);
  pages.push(bundle);
  for (let i = 0; i < 1000; i++) {
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) {
      break;
    }
    const url = new URL(next);
    bundle = store.search(resourceType, url.search.slice(1));
    pages.push(bundle);
  }
  const ids = pages.flatMap((p) => (p.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
  return { ids, pages };
}
