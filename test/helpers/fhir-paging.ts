// Pull's view of the test remote: startFhirServer plus what a pull needs from a Medplum server and the
// router lacks, plugged in through its `extraRoutes` hook (fhir-server.ts is not modified):
//   - searches a pull sends (`Type?_lastUpdated=ge..&_sort=_lastUpdated&_count=N`, `_elements=id`,
//     `_summary=count`, `_total=accurate`, `_id=a,b`, Medplum's `_project` = meta.project) answered from a sorted snapshot of the MemoryRepository, with
//     Medplum-like `self` and `next` links (a `_cursor` naming the last (lastUpdated, id) served, so
//     writes between pages never shift a page). The router's own search scans and sorts every resource
//     with FHIRPath per request, too slow for 100,000 resources, and gives no `next` link.
//     Any other search goes to the router as before.
//   - seed(): stores many resources directly (no per-resource cloning), with increasing lastUpdated.
//   - deleteRemote(), revoke(types) (searches and reads of a type answer 403) and hide(predicate)
//     (resources the remote no longer returns: a narrowed access policy).
//   - dropSearch(): the next matching sync search loses its connection (a failed page).
//   - GET metadata: a CapabilityStatement listing the types that hold resources.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bundle, BundleLink, Resource } from '@medplum/fhirtypes';
import { FHIR_PREFIX, startFhirServer, type TestFhirServer, type TestFhirServerOptions } from './fhir-server.ts';

export interface SeedOptions {
  /** lastUpdated of the first resource (default: now - count * stepMs). */
  start?: Date;
  /** ms between consecutive resources' lastUpdated (default 1). */
  stepMs?: number;
}

export interface PagingFhirServer extends TestFhirServer {
  /** Stores resources as the remote's own (ids kept when given, else new), fast. Returns them. */
  seed(resources: Iterable<Resource>, options?: SeedOptions): Resource[];
  /** Deletes a resource on the remote (as another client would). */
  deleteRemote(type: string, id: string): void;
  /** Searches and reads of these types answer 403 from now on (access revoked). */
  revoke(types: string[]): void;
  /** Access to these types granted again. */
  unrevoke(types: string[]): void;
  /** Resources matching `predicate` are no longer returned by searches nor reads (403). */
  hide(predicate: (r: Resource) => boolean): void;
  /** Ends every hide() (access granted again). */
  unhideAll(): void;
  /** The next `times` sync searches matching `match` (URL after the base) lose their connection. */
  dropSearch(options?: { match?: (url: string) => boolean; times?: number }): void;
  /** Sync searches answered by the fast path (pages served). */
  readonly syncSearches: string[];
}

interface Entry {
  ms: number;
  id: string;
  resource: Resource;
}

const SYNC_PARAMS = new Set(['_id', '_lastUpdated', '_sort', '_count', '_cursor', '_elements', '_total', '_summary', '_project']);

function compareKey(a: { ms: number; id: string }, b: { ms: number; id: string }): number {
  return a.ms - b.ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function outcome(status: number, text: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 403 ? 'forbidden' : 'invalid', details: { text } }] };
}

interface RepoInternals {
  resources: Map<string, Map<string, Resource>>;
  history: Map<string, Map<string, Resource[]>>;
  createResource(r: Resource): Promise<Resource>;
  deleteResource(type: string, id: string): Promise<void>;
}

export async function startPagingFhirServer(options: TestFhirServerOptions = {}): Promise<PagingFhirServer> {
  const token = options.token ?? 'test-token';
  let generation = 0;
  const snapshots = new Map<string, { generation: number; entries: Entry[] }>();
  const revoked = new Set<string>();
  const hidden: ((r: Resource) => boolean)[] = [];
  const drops: { match?: (url: string) => boolean; left: number }[] = [];
  const syncSearches: string[] = [];
  // eslint-disable-next-line prefer-const -- assigned once the server is up; the hook runs after that
  let server: TestFhirServer;

  const internals = (): RepoInternals => server.repo as unknown as RepoInternals;
  const isHidden = (r: Resource) => hidden.some((p) => p(r));

  function snapshot(type: string): Entry[] {
    const cached = snapshots.get(type);
    if (cached?.generation === generation) {
      return cached.entries;
    }
    const entries: Entry[] = [];
    for (const resource of internals().resources.get(type)?.values() ?? []) {
      entries.push({ ms: Date.parse(resource.meta?.lastUpdated ?? '') || 0, id: resource.id as string, resource });
    }
    entries.sort(compareKey);
    snapshots.set(type, { generation, entries });
    return entries;
  }

  /** First index whose key is >= key (strict: > key). */
  function lowerBound(entries: Entry[], key: { ms: number; id: string }, strict: boolean): number {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareKey(entries[mid], key);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function takeDrop(url: string): boolean {
    const i = drops.findIndex((d) => d.left > 0 && (!d.match || d.match(url)));
    if (i < 0) return false;
    if (--drops[i].left === 0) drops.splice(i, 1);
    return true;
  }

  function authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    return bearer === token || Boolean(bearer && options.acceptToken?.(bearer));
  }

  /** Sync searches and reads of revoked/hidden resources; false = not ours, the router answers. */
  function route(req: IncomingMessage, res: ServerResponse): boolean {
    const full = req.url ?? '';
    if (req.method !== 'GET' || !full.startsWith(FHIR_PREFIX) || !authorized(req)) {
      return false;
    }
    const rel = full.slice(FHIR_PREFIX.length);
    const [path, query = ''] = rel.split('?', 2);
    const segments = path.split('/').filter(Boolean);
    if (path === 'metadata') {
      // Medplum lists every type it serves; here, the types that hold resources.
      const types = [...internals().resources.entries()].filter(([, byId]) => byId.size > 0).map(([t]) => t);
      sendJson(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
        rest: [{ mode: 'server', resource: types.map((t) => ({ type: t, interaction: [{ code: 'read' }, { code: 'search-type' }] })) }],
      });
      return true;
    }
    const type = segments[0];
    if (!type || !/^[A-Z][A-Za-z]+$/.test(type)) {
      return false;
    }
    if (segments.length === 2) {
      // A read: refused when access to it was revoked or narrowed.
      const r = internals().resources.get(type)?.get(segments[1]);
      if (revoked.has(type) || (r && isHidden(r))) {
        sendJson(res, 403, outcome(403, 'Forbidden'));
        return true;
      }
      return false;
    }
    if (segments.length !== 1) {
      return false;
    }
    const params = new URLSearchParams(query);
    for (const key of params.keys()) {
      if (!SYNC_PARAMS.has(key)) return false;
    }
    const sort = params.get('_sort');
    if ((sort && sort !== '_lastUpdated') || (params.get('_summary') && params.get('_summary') !== 'count')) {
      return false;
    }
    syncSearches.push(rel);
    if (takeDrop(rel)) {
      req.socket.destroy();
      return true;
    }
    if (revoked.has(type)) {
      sendJson(res, 403, outcome(403, `Forbidden: no read access to ${type}`));
      return true;
    }
    sendJson(res, 200, searchPage(type, params));
    return true;
  }

  function searchPage(type: string, params: URLSearchParams): Bundle {
    const entries = snapshot(type);
    let start = 0;
    let endMs = Infinity;
    let endInclusive = true;
    for (const value of params.getAll('_lastUpdated')) {
      const m = /^(ge|gt|le|lt|eq)?(.+)$/.exec(value);
      const ms = Date.parse(m?.[2] ?? '');
      if (!m || Number.isNaN(ms)) continue;
      const prefix = m[1] ?? 'eq';
      if (prefix === 'ge' || prefix === 'eq') start = Math.max(start, lowerBound(entries, { ms, id: '' }, false));
      if (prefix === 'gt') start = Math.max(start, lowerBound(entries, { ms, id: '\uffff' }, true));
      if (prefix === 'le' || prefix === 'eq') [endMs, endInclusive] = [ms, true];
      if (prefix === 'lt') [endMs, endInclusive] = [ms, false];
    }
    const idParam = params.get('_id');
    const ids = idParam ? new Set(idParam.split(',')) : undefined;
    const project = params.get('_project');
    const inRange = (e: Entry) =>
      (endInclusive ? e.ms <= endMs : e.ms < endMs) && !isHidden(e.resource) && (!ids || ids.has(e.id)) && (!project || e.resource.meta?.project === project);
    const cursor = params.get('_cursor');
    if (cursor) {
      const sep = cursor.indexOf(':');
      start = Math.max(start, lowerBound(entries, { ms: Number(cursor.slice(0, sep)), id: cursor.slice(sep + 1) }, true));
    }
    const wantTotal = params.get('_summary') === 'count' || params.get('_total') === 'accurate';
    const total = wantTotal ? entries.filter((e, i) => i >= start && inRange(e)).length : undefined;
    if (params.get('_summary') === 'count') {
      return { resourceType: 'Bundle', type: 'searchset', total };
    }
    const count = Math.min(Number(params.get('_count') ?? 20) || 20, 1000);
    const idsOnly = params.get('_elements') === 'id';
    const page: Entry[] = [];
    let i = start;
    for (; i < entries.length && page.length < count; i++) {
      if (inRange(entries[i])) page.push(entries[i]);
    }
    let more = false;
    for (; i < entries.length && !more; i++) {
      more = inRange(entries[i]);
    }
    const base = server.baseUrl;
    const self = new URLSearchParams(params);
    const link: BundleLink[] = [{ relation: 'self', url: `${base}${type}?${self.toString()}` }];
    if (more && page.length > 0) {
      const last = page[page.length - 1];
      const next = new URLSearchParams(params);
      next.set('_cursor', `${last.ms}:${last.id}`);
      link.push({ relation: 'next', url: `${base}${type}?${next.toString()}` });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total !== undefined ? { total } : {}),
      link,
      entry: page.map((e) => ({
        fullUrl: `${base}${type}/${e.id}`,
        resource: idsOnly ? ({ resourceType: type, id: e.id, meta: { versionId: e.resource.meta?.versionId, lastUpdated: e.resource.meta?.lastUpdated } } as Resource) : e.resource,
        search: { mode: 'match' as const },
      })),
    };
  }

  server = await startFhirServer({
    ...options,
    extraRoutes: async (req, res, body) => route(req, res) || (options.extraRoutes ? options.extraRoutes(req, res, body) : false),
  });

  // Every write through the router bumps the generation: the next sync search re-sorts that snapshot.
  const repo = internals();
  const create = repo.createResource.bind(repo);
  const del = repo.deleteResource.bind(repo);
  repo.createResource = async (r) => {
    generation++;
    return create(r);
  };
  repo.deleteResource = async (type, id) => {
    generation++;
    return del(type, id);
  };

  return Object.assign(server, {
    syncSearches,
    seed(resources: Iterable<Resource>, seedOptions: SeedOptions = {}): Resource[] {
      const list = [...resources];
      const step = seedOptions.stepMs ?? 1;
      let ms = (seedOptions.start?.getTime() ?? Date.now() - list.length * step) - step;
      const out: Resource[] = [];
      for (const input of list) {
        ms += step;
        const resource = { ...input, id: input.id ?? randomUUID(), meta: { ...input.meta, versionId: randomUUID(), lastUpdated: new Date(ms).toISOString() } } as Resource;
        let byId = repo.resources.get(resource.resourceType);
        if (!byId) repo.resources.set(resource.resourceType, (byId = new Map()));
        byId.set(resource.id as string, resource);
        let hist = repo.history.get(resource.resourceType);
        if (!hist) repo.history.set(resource.resourceType, (hist = new Map()));
        hist.set(resource.id as string, [resource]);
        out.push(resource);
      }
      generation++;
      return out;
    },
    deleteRemote(type: string, id: string) {
      repo.resources.get(type)?.delete(id);
      generation++;
    },
    revoke(types: string[]) {
      for (const t of types) revoked.add(t);
    },
    unrevoke(types: string[]) {
      for (const t of types) revoked.delete(t);
    },
    hide(predicate: (r: Resource) => boolean) {
      hidden.push(predicate);
    },
    unhideAll() {
      hidden.length = 0;
    },
    dropSearch(dropOptions: { match?: (url: string) => boolean; times?: number } = {}) {
      drops.push({ match: dropOptions.match, left: dropOptions.times ?? 1 });
    },
  });
}

export interface PagingServerProcess {
  baseUrl: string;
  token: string;
  /** Resources seeded. */
  count: number;
  close(): void;
}

/** Starts fhir-paging-serve.ts in a child process (process.execPath + tsx) seeded with `count` resources. */
export function startPagingFhirServerProcess(count: number): Promise<PagingServerProcess> {
  const script = new URL('./fhir-paging-serve.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        const info = JSON.parse(out.slice(0, nl)) as { baseUrl: string; token: string; count: number };
        resolve({ ...info, close: () => void child.kill('SIGTERM') });
      }
    });
    child.on('exit', (code) => reject(new Error(`paging server process exited (${code})`)));
  });
}

/** Bare HTTP transfer of the same pages a pull reads (fetch + JSON.parse, nothing stored): the limit. */
export async function fetchAllPages(baseUrl: string, token: string, types: string[], pageSize = 1000): Promise<number> {
  let resources = 0;
  for (const type of types) {
    let url: string | undefined = `${baseUrl}${type}?_sort=_lastUpdated&_count=${pageSize}`;
    while (url) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } });
      const bundle = JSON.parse(await res.text()) as Bundle;
      resources += bundle.entry?.length ?? 0;
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
  }
  return resources;
}
