// The remote FHIR server as push and pull see it: one JSON request with a bearer token, classified
// into what sync does next. Network failures, 5xx and 429 are retried with exponential backoff and
// full jitter, honouring Retry-After; everything else is returned to the caller to decide.
// Auth: a fixed `token`, or `getToken` (S3's credentials.ts: client credentials); on a 401 the remote
// asks getToken({ refresh: true }) once and retries; a second 401 is returned to the caller.
import type { Resource } from '@medplum/fhirtypes';

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

export interface Remote {
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<RemoteResponse>;
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
  const sleep = config.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = config.random ?? Math.random;
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
      const res = await doFetch(base + url, {
        method,
        headers: { authorization: `Bearer ${bearer}`, accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: Resource | undefined;
      try {
        parsed = text ? (JSON.parse(text) as Resource) : undefined;
      } catch {
        parsed = undefined;
      }
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
    async request(method, url, body, headers = {}) {
      let bearer: string;
      try {
        bearer = await currentToken(false);
      } catch (err) {
        return { status: 401, error: `Token: ${(err as Error).message}` };
      }
      let refreshed = false;
      let res = await once(method, url, body, headers, bearer);
      for (let attempt = 1; attempt < maxTries; attempt++) {
        if (res.status === 401 && config.getToken && !refreshed) {
          refreshed = true;
          try {
            // Another call may have refreshed meanwhile: only ask again when the token is the one refused.
            bearer = token !== undefined && token !== bearer ? token : await currentToken(true);
          } catch (err) {
            return { status: 401, error: `Token refresh: ${(err as Error).message}` };
          }
        } else if (isRetryable(res.status)) {
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
