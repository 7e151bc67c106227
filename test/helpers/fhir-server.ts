// A real FHIR server for sync tests: @medplum/fhir-router's FhirRouter over its MemoryRepository,
// behind a small Node http server on a random 127.0.0.1 port, with bearer auth and injectable faults.
//
// Where MemoryRepository is laxer than a Medplum server, this helper answers as Medplum does, since
// sync must work against the real thing:
//   - bodies of POST/PUT are validated (@medplum/core validateResource): 400 with an OperationOutcome;
//   - PUT to an id that does not exist is 404 (Medplum refuses client-assigned ids, medplum#5032),
//     so a push must create by POST and map the server's id back.
// Faults are queued: each applies to the next request(s) it matches, `times` times (default 1).
// `quota` meters interactions as Medplum's FhirRateLimiter does (a write 100 points, a conditional
// create 140, a search 20, a read 1; a batch entry by entry) in fixed windows, announces the rest in a
// `RateLimit: "fhirInteractions";r=..;t=..` header on every answer, and refuses an interaction that
// does not fit with 429 (the whole request, or that batch entry), diagnostics `_msBeforeNext`, no Retry-After.
// `batch` Bundles are run entry by entry by the helper (each entry recorded with inBatch: true, faults
// may match single entries), so per-entry validation and faults behave as for single requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus, normalizeOperationOutcome, OperationOutcomeError, validateResource } from '@medplum/core';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { indexTokenSearches } from './fhir-server-index.ts';

export const FHIR_PREFIX = '/fhir/R4/';

export interface RecordedRequest {
  method: string;
  /** Path and query after /fhir/R4/ (e.g. 'Patient?identifier=x'). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Final status sent, or 'dropped'. */
  outcome?: number | 'dropped';
  /** An entry of a `batch` Bundle (method/url/headers/body from entry.request and entry.resource). */
  inBatch?: boolean;
}

export type Fault =
  /** Destroys the socket. `afterCommit`: the request is processed first (the server committed, the client never hears). */
  | { type: 'drop'; afterCommit?: boolean }
  /** Answers this status with an OperationOutcome, without processing the request (500, 503, 412, 409, 403...). */
  | { type: 'status'; status: number; retryAfterSeconds?: number }
  /** Waits `ms` before processing. */
  | { type: 'slow'; ms: number };

export interface FaultRule {
  fault: Fault;
  /** Which requests it applies to (default: any). */
  match?: (req: RecordedRequest) => boolean;
  /** How many matching requests it applies to (default 1). */
  times?: number;
}

export interface QuotaOptions {
  /** Points per window. */
  points: number;
  /** Window length, ms (Medplum: 60,000). */
  windowMs: number;
  /**
   * false: counted and announced in the RateLimit header but never refused, as Medplum does for a
   * project with the system setting enableFhirQuota false (default true).
   */
  enforced?: boolean;
}

export interface TestFhirServer {
  /** e.g. 'http://127.0.0.1:41234/fhir/R4/' (trailing slash). */
  readonly baseUrl: string;
  readonly token: string;
  readonly repo: MemoryRepository;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Queues a fault for the next matching request(s). */
  inject(rule: FaultRule): void;
  /** Faults still queued. */
  pendingFaults(): number;
  /** Meters interactions from now on (undefined: no quota); a new window starts. */
  setQuota(quota: QuotaOptions | undefined): void;
  /** Interactions refused for the quota so far. */
  readonly throttled: number;
  close(): Promise<void>;
}

export interface TestFhirServerOptions {
  token?: string;
  /**
   * Extra routes outside the FHIR API (e.g. test/helpers/medplum-auth.ts: /auth/login, /oauth2/token),
   * tried before the bearer check; resolve true when the request was answered.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean | Promise<boolean>;
  /** Further bearer tokens the FHIR API accepts (e.g. those the extra /oauth2/token issued). */
  acceptToken?: (token: string) => boolean;
  /** Medplum-like FHIR quota (see the header). */
  quota?: QuotaOptions;
  /** Largest JSON body taken (Medplum's maxJsonSize, 1 MB by default): larger -> 400 "File too large". */
  maxBodyBytes?: number;
}

function outcomeOf(status: number, text: string): OperationOutcome {
  const code = status === 401 ? 'login' : status === 404 ? 'not-found' : status === 412 || status === 409 ? 'conflict' : status === 429 ? 'throttled' : 'exception';
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A POST of a `batch` Bundle to the FHIR base (the helper runs its entries itself, see handleBatch). */
function isBatch(rec: RecordedRequest): boolean {
  const body = rec.body as Bundle | undefined;
  return rec.method === 'POST' && (rec.url === '' || rec.url === '/') && body?.resourceType === 'Bundle' && body.type === 'batch';
}

export async function startFhirServer(options: TestFhirServerOptions = {}): Promise<TestFhirServer> {
  loadFhirDefinitions();
  const token = options.token ?? 'test-token';
  const repo = new MemoryRepository();
  indexTokenSearches(repo);
  const router = new FhirRouter();
  const requests: RecordedRequest[] = [];
  const faults: (FaultRule & { left: number })[] = [];
  let quota = options.quota;
  let window = { start: Date.now(), used: 0 };
  let throttled = 0;

  function windowLeftMs(): number {
    if (!quota) return 0;
    if (Date.now() - window.start >= quota.windowMs) window = { start: Date.now(), used: 0 };
    return quota.windowMs - (Date.now() - window.start);
  }

  /** Charges one interaction; a 429 OperationOutcome when it does not fit the window. */
  function charge(method: string, url: string, ifNoneExist: boolean): OperationOutcome | undefined {
    if (!quota) return undefined;
    const left = windowLeftMs();
    const cost = method === 'GET' ? (url.includes('?') || !url.includes('/') ? 20 : 1) : ifNoneExist ? 140 : 100;
    if (window.used + cost > quota.points && quota.enforced !== false) {
      throttled++;
      const oo = outcomeOf(429, 'Too Many Requests');
      oo.issue[0].diagnostics = JSON.stringify({ _remainingPoints: 0, _msBeforeNext: left, _consumedPoints: window.used, limit: quota.points });
      return oo;
    }
    window.used += cost;
    return undefined;
  }

  function rateLimitHeader(): Record<string, string> {
    if (!quota) return {};
    const left = windowLeftMs();
    return { ratelimit: `"requests";r=59999;t=60, "fhirInteractions";r=${Math.max(0, quota.points - window.used)};t=${Math.ceil(left / 1000)}` };
  }

  function takeFault(rec: RecordedRequest): Fault | undefined {
    const i = faults.findIndex((f) => f.left > 0 && (!f.match || f.match(rec)));
    if (i < 0) {
      return undefined;
    }
    const rule = faults[i];
    rule.left--;
    if (rule.left === 0) {
      faults.splice(i, 1);
    }
    return rule.fault;
  }

  /** Medplum-like checks MemoryRepository lacks; returns an error response or undefined. */
  async function precheck(method: string, url: string, body: unknown): Promise<[number, OperationOutcome] | undefined> {
    const path = url.split('?')[0];
    const segments = path.split('/').filter(Boolean);
    const resource = body as Resource | undefined;
    const isResourceWrite = (method === 'POST' || method === 'PUT') && segments.length >= 1 && !segments[0].startsWith('$') && segments[1] !== '_search';
    if (isResourceWrite && segments.length > 0 && resource && typeof resource === 'object' && resource.resourceType) {
      try {
        validateResource(resource);
      } catch (err) {
        const oo = normalizeOperationOutcome(err);
        return [400, oo];
      }
    }
    if (method === 'PUT' && segments.length === 2) {
      try {
        await repo.readResource(segments[0], segments[1]);
      } catch {
        return [404, outcomeOf(404, 'Not found')];
      }
    }
    return undefined;
  }

  /** One FHIR interaction after auth and faults: Medplum-like prechecks, then the router. */
  async function processRequest(method: string, url: string, reqBody: unknown, reqHeaders: FhirRequest['headers']): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    let status: number;
    let body: unknown;
    const headers: Record<string, string> = {};
    const rejected = await precheck(method, url, reqBody);
    if (rejected) {
      [status, body] = rejected;
    } else {
      const fhirReq: FhirRequest = {
        method: method as HttpMethod,
        url,
        pathname: '',
        body: reqBody,
        params: {},
        query: {},
        headers: reqHeaders,
        config: { transactions: true },
      };
      try {
        const [outcome, resource] = await router.handleRequest(fhirReq, repo);
        status = getStatus(outcome);
        body = resource ?? outcome;
        if (resource?.meta?.versionId) {
          headers.etag = `W/"${resource.meta.versionId}"`;
        }
        if (status === 201 && resource?.id) {
          headers.location = `${FHIR_PREFIX}${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
        }
      } catch (err) {
        const oo = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
        status = getStatus(oo);
        body = oo;
      }
    }
    return { status, body, headers };
  }

  /**
   * A `batch` Bundle, entry by entry as Medplum does (each independent: one failing changes nothing
   * else), through the same prechecks as single requests. Each entry is recorded in `requests`
   * (inBatch: true) and faults may match it: a `status` fault answers that entry only; a `drop`
   * fault drops the whole answer (afterCommit: after processing every entry, else before this one).
   */
  async function handleBatch(rec: RecordedRequest): Promise<Bundle | 'dropped'> {
    const entries = (rec.body as Bundle).entry ?? [];
    const out: BundleEntry[] = [];
    let dropAfter = false;
    for (const entry of entries) {
      const request = entry.request;
      const entryHeaders: Record<string, string> = {};
      if (request?.ifNoneExist) entryHeaders['if-none-exist'] = request.ifNoneExist;
      if (request?.ifMatch) entryHeaders['if-match'] = request.ifMatch;
      const entryRec: RecordedRequest = { method: request?.method ?? '', url: request?.url ?? '', headers: entryHeaders, body: entry.resource, inBatch: true };
      requests.push(entryRec);
      const fault = takeFault(entryRec);
      if (fault?.type === 'drop') {
        entryRec.outcome = 'dropped';
        if (!fault.afterCommit) return 'dropped';
        dropAfter = true;
      }
      if (fault?.type === 'slow') await sleep(fault.ms);
      if (fault?.type === 'status') {
        entryRec.outcome = fault.status;
        out.push({ response: { status: String(fault.status), outcome: outcomeOf(fault.status, `Injected ${fault.status}`) } });
        continue;
      }
      const refused = charge(entryRec.method, entryRec.url, Boolean(request?.ifNoneExist));
      if (refused) {
        entryRec.outcome = 429;
        out.push({ response: { status: '429', outcome: refused } });
        continue;
      }
      const { status, body, headers } = await processRequest(entryRec.method, entryRec.url, entry.resource, entryHeaders);
      entryRec.outcome ??= status;
      const ok = status < 300;
      out.push({
        ...(ok && body && (body as Resource).resourceType !== 'OperationOutcome' ? { resource: body as Resource } : {}),
        response: { status: String(status), ...(headers.location ? { location: headers.location } : {}), ...(headers.etag ? { etag: headers.etag } : {}), ...(ok ? {} : { outcome: body as OperationOutcome }) },
      });
    }
    return dropAfter ? 'dropped' : { resourceType: 'Bundle', type: 'batch-response', entry: out };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const fullPath = req.url ?? '/';
    const rec: RecordedRequest = { method: req.method ?? 'GET', url: fullPath.startsWith(FHIR_PREFIX) ? fullPath.slice(FHIR_PREFIX.length) : fullPath, headers: req.headers, body: undefined };
    requests.push(rec);
    if (options.extraRoutes && (await options.extraRoutes(req, res, raw))) {
      rec.outcome = res.statusCode;
      return;
    }
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== token && !(bearer && options.acceptToken?.(bearer))) {
      rec.outcome = 401;
      send(res, 401, outcomeOf(401, 'Unauthorized'));
      return;
    }
    if (!fullPath.startsWith(FHIR_PREFIX)) {
      rec.outcome = 404;
      send(res, 404, outcomeOf(404, 'Not found'));
      return;
    }
    if (options.maxBodyBytes !== undefined && Buffer.byteLength(raw, 'utf8') > options.maxBodyBytes) {
      rec.outcome = 400;
      send(res, 400, outcomeOf(400, 'File too large'));
      return;
    }
    try {
      rec.body = raw ? JSON.parse(raw) : undefined;
    } catch {
      rec.outcome = 400;
      send(res, 400, outcomeOf(400, 'Invalid JSON'));
      return;
    }
    const fault = takeFault(rec);
    if (fault?.type === 'drop' && !fault.afterCommit) {
      rec.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault?.type === 'status') {
      rec.outcome = fault.status;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      send(res, fault.status, outcomeOf(fault.status, `Injected ${fault.status}`), headers);
      return;
    }
    if (fault?.type === 'slow') {
      await sleep(fault.ms);
    }
    if (isBatch(rec)) {
      const answer = await handleBatch(rec);
      if (fault?.type === 'drop' || answer === 'dropped') {
        rec.outcome = 'dropped';
        req.socket.destroy();
        return;
      }
      rec.outcome = 200;
      send(res, 200, answer, rateLimitHeader());
      return;
    }
    const refused = charge(rec.method, rec.url, Boolean(req.headers['if-none-exist']));
    if (refused) {
      rec.outcome = 429;
      send(res, 429, refused, rateLimitHeader());
      return;
    }
    const { status, body, headers } = await processRequest(rec.method, rec.url, rec.body, req.headers);
    if (fault?.type === 'drop') {
      rec.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    rec.outcome = status;
    send(res, status, body, { ...headers, ...rateLimitHeader() });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        send(res, 500, outcomeOf(500, String(err)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}${FHIR_PREFIX}`,
    token,
    repo,
    requests,
    inject(rule) {
      faults.push({ ...rule, left: rule.times ?? 1 });
    },
    pendingFaults: () => faults.reduce((n, f) => n + f.left, 0),
    setQuota(next) {
      quota = next;
      window = { start: Date.now(), used: 0 };
    },
    get throttled() {
      return throttled;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
