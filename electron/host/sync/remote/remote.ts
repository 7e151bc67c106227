// The remote FHIR server as push and pull see it: one JSON request with a bearer token, classified
// into what sync does next. Network failures, 5xx and 429 are retried with exponential backoff and
// full jitter, honouring Retry-After; everything else is returned to the caller to decide.
// Quota: every answer's RateLimit header goes to the pacer (quota.ts); a request made while the
// announced window is spent waits for its reset, and a 429 with a known reset waits for it and is sent
// again (up to `maxQuotaWaits` times, each at most `maxQuotaWaitMs`) instead of backing off blindly.
// Auth: a fixed `token`, or `getToken` (S3's credentials.ts: client credentials); on a 401 the remote
// asks getToken({ refresh: true }) once and retries; a second 401 is returned to the caller.
// URLs are relative to the FHIR base; one starting with '/' is relative to the server root instead
// (Medplum's `/auth/me` beside `/fhir/R4/`).
import type { Resource } from '@medplum/fhirtypes';
import { serverRootOf } from '../config.ts';
import { createPacer, parseRateLimit, parseThrottled, type Pacer } from './quota.ts';

export interface RemoteConfig {
  /** FHIR base URL, e.g. 'https://api.medplum.com/fhir/R4/' (a trailing slash is added when missing). */
  baseUrl: string;
  /** A fixed bearer token (or use getToken). */
  token?: string;
  /** Supplies the bearer token; called with refresh: true once after a 401, then the request is retried. */
  getToken?: (opts: { refresh: boolean }) => Promise<string>;
  fetch?: typeof fetch;
  /** Tries of a retryable failure within one call (default 4). */
  maxTries?: number;
  /** First backoff step in ms (default 250); doubled each try, full jitter, capped at maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops waits and requests in flight (the run was stopped). */
  signal?: AbortSignal;
  /** Longest wait for a quota window to reset (default 2 minutes; Medplum's windows are 1 minute). */
  maxQuotaWaitMs?: number;
  /** Quota resets one call waits for before returning its 429 (default 3). */
  maxQuotaWaits?: number;
}

export interface RemoteResponse {
  /** HTTP status, or 0 when the network failed on the last try. */
  status: number;
  body?: Resource;
  /** ms the server asked to wait (Retry-After), when it did. */
  retryAfterMs?: number;
  /** Text of the failure for logs and held rows. */
  error?: string;
}

export interface RequestOptions {
  /**
   * false: a request whose answer was lost (network failure, 5xx) is not sent again: it may have
   * been applied (a batch of plain creates). A 429 or 401 was refused before anything ran: those
   * are still sent again.
   */
  resend?: boolean;
}

export interface Remote {
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>, options?: RequestOptions): Promise<RemoteResponse>;
  /** The remote's announced quota: push sizes its Bundles by it and waits for its resets. */
  readonly pacer: Pacer;
  /** Longest wait for a quota reset (RemoteConfig.maxQuotaWaitMs). */
  readonly maxQuotaWaitMs: number;
}

export function isRetryable(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

/** Retry-After as seconds or an HTTP date -> ms (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) {
    return undefined;
  }
  if (/^\d+$/.test(value.trim())) {
    return Number(value.trim()) * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Backoff before try `attempt` (1-based count of failures so far): full jitter, or Retry-After when given. */
export function backoffMs(attempt: number, retryAfterMs: number | undefined, base: number, cap: number, random: () => number): number {
  if (retryAfterMs !== undefined) {
    return Math.min(retryAfterMs, cap);
  }
  return Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
}

function outcomeText(body: unknown): string | undefined {
  const oo = body as { resourceType?: string; issue?: { details?: { text?: string }; diagnostics?: string }[] } | undefined;
  if (oo?.resourceType !== 'OperationOutcome') {
    return undefined;
  }
  return oo.issue?.map((i) => i.details?.text ?? i.diagnostics).filter(Boolean).join('; ');
}

export function createRemote(config: RemoteConfig): Remote {
  const base = config.baseUrl.endsWith('/') ? config.baseUrl : config.baseUrl + '/';
  const doFetch = config.fetch ?? fetch;
  const maxTries = config.maxTries ?? 4;
  const baseDelay = config.baseDelayMs ?? 250;
  const maxDelay = config.maxDelayMs ?? 30_000;
  const signal = config.signal;
  const sleep = config.sleep ?? ((ms: number) => abortableSleep(ms, signal));
  const random = config.random ?? Math.random;
  const maxQuotaWaitMs = config.maxQuotaWaitMs ?? 120_000;
  const maxQuotaWaits = config.maxQuotaWaits ?? 3;
  const pacer = createPacer({ sleep, signal });
  const root = rootOf(base);
  let token: string | undefined = config.token;
  let pendingToken: Promise<string> | undefined;

  /** The current token; concurrent callers share one getToken call. */
  async function currentToken(refresh: boolean): Promise<string> {
    if (!config.getToken) {
      return token ?? '';
    }
    if (!refresh && token !== undefined) {
      return token;
    }
    pendingToken ??= config.getToken({ refresh }).finally(() => (pendingToken = undefined));
    token = await pendingToken;
    return token;
  }

  async function once(method: string, url: string, body: unknown, headers: Record<string, string>, bearer: string): Promise<RemoteResponse> {
    try {
      if (signal?.aborted) {
        return { status: 0, error: 'Stopped' };
      }
      const res = await doFetch(url.startsWith('/') ? root + url.slice(1) : base + url, {
        method,
        headers: { authorization: `Bearer ${bearer}`, accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
      const text = await res.text();
      let parsed: Resource | undefined;
      try {
        parsed = text ? (JSON.parse(text) as Resource) : undefined;
      } catch {
        parsed = undefined;
      }
      pacer.observe(parseRateLimit(res.headers.get('ratelimit')), res.status === 429 ? parseThrottled(parsed) : undefined);
      const out: RemoteResponse = { status: res.status, body: parsed, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
      if (res.status >= 400) {
        out.error = outcomeText(parsed) ?? `HTTP ${res.status}`;
      }
      return out;
    } catch (err) {
      return { status: 0, error: `Network error: ${(err as Error).message}` };
    }
  }

  return {
    pacer,
    maxQuotaWaitMs,
    async request(method, url, body, headers = {}, options = {}) {
      let bearer: string;
      try {
        bearer = await currentToken(false);
      } catch (err) {
        return { status: 401, error: `Token: ${(err as Error).message}` };
      }
      // The announced window is spent: every request would be refused until it resets.
      if (pacer.exhaustedForMs() > 0) {
        await pacer.waitForReset(maxQuotaWaitMs);
      }
      let refreshed = false;
      let quotaWaits = 0;
      let res = await once(method, url, body, headers, bearer);
      for (let attempt = 1; attempt < maxTries; attempt++) {
        if (res.status === 429 && pacer.exhaustedForMs() > 0) {
          // The server said when its window resets: wait for it, without using up a try.
          if (quotaWaits++ >= maxQuotaWaits || !(await pacer.waitForReset(maxQuotaWaitMs))) break;
          attempt--;
        } else if (res.status === 401 && config.getToken && !refreshed) {
          refreshed = true;
          try {
            // Another call may have refreshed meanwhile: only ask again when the token is the one refused.
            bearer = token !== undefined && token !== bearer ? token : await currentToken(true);
          } catch (err) {
            return { status: 401, error: `Token refresh: ${(err as Error).message}` };
          }
        } else if (isRetryable(res.status) && !signal?.aborted && (options.resend !== false || res.status === 429)) {
          await sleep(backoffMs(attempt, res.retryAfterMs, baseDelay, maxDelay, random));
        } else {
          break;
        }
        res = await once(method, url, body, headers, bearer);
      }
      return res;
    },
  };
}

/** setTimeout as a promise that ends early (without error) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The server root of a FHIR base URL ('http://host/fhir/R4/' -> 'http://host/'). */
function rootOf(base: string): string {
  try {
    return serverRootOf(base);
  } catch {
    return base;
  }
}
