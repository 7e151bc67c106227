// A token index for the test server's MemoryRepository, so identifier/_tag equality searches (sync's
// lookups of earlier creates by Outpost identifier, `a|1,a|2` lists included; conditional creates) are a lookup as on a Medplum
// server (a database index), not a scan of every resource of the type evaluating FHIRPath (which made
// pushing 10,000 creates quadratic: minutes). Answers are the same: the index only proposes candidates,
// each is read back and checked against the token; anything else goes to MemoryRepository's own search.
import { Operator, type SearchRequest } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';

type Token = { system?: string; value?: string; code?: string };

function tokensOf(resource: Resource): string[] {
  const out: string[] = [];
  for (const i of ((resource as { identifier?: Token[] }).identifier ?? [])) {
    if (i.system && i.value) out.push(`${resource.resourceType}|identifier|${i.system}|${i.value}`);
  }
  for (const t of (resource.meta?.tag ?? []) as Token[]) {
    if (t.system && t.code) out.push(`${resource.resourceType}|_tag|${t.system}|${t.code}`);
  }
  return out;
}

/** The index keys of a search that is one `identifier` or `_tag` equality (any of `system|value` listed), else undefined. */
function keysOf(req: SearchRequest): string[] | undefined {
  const f = req.filters;
  if (!f || f.length !== 1 || req.sortRules?.length || req.offset || (f[0].code !== 'identifier' && f[0].code !== '_tag')) return undefined;
  if (f[0].operator !== Operator.EQUALS && f[0].operator !== Operator.EXACT) return undefined;
  const values = f[0].value.split(',');
  if (values.some((v) => !v.includes('|') || v.startsWith('|') || v.includes('\\'))) return undefined;
  return values.map((value) => `${req.resourceType}|${f[0].code}|${value}`);
}

/** Wraps the repository's createResource (every write goes through it) and search, in place. */
export function indexTokenSearches(repo: MemoryRepository): void {
  const index = new Map<string, Set<string>>();
  const create = repo.createResource.bind(repo);
  const search = repo.search.bind(repo);
  repo.createResource = (async (resource: Resource) => {
    const result = await create(resource);
    for (const key of tokensOf(result)) {
      let ids = index.get(key);
      if (!ids) index.set(key, (ids = new Set()));
      ids.add(result.id as string);
    }
    return result;
  }) as MemoryRepository['createResource'];
  repo.search = (async (req: SearchRequest) => {
    const keys = keysOf(req);
    if (!keys) return search(req);
    const found: Resource[] = [];
    const seen = new Set<string>();
    for (const key of keys) {
      for (const id of index.get(key) ?? []) {
        const current = seen.has(id) ? undefined : await repo.readResource(req.resourceType, id).catch(() => undefined);
        seen.add(id);
        if (current && keys.some((k) => tokensOf(current).includes(k))) found.push(current);
      }
    }
    const entry = found.slice(0, req.count ?? found.length).map((resource) => ({ resource }));
    return { resourceType: 'Bundle', type: 'searchset', ...(entry.length ? { entry } : {}), total: found.length } as Bundle;
  }) as MemoryRepository['search'];
}
