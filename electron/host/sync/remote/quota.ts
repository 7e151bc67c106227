// The remote's request quota, as the remote announces it, so sync goes at the server's pace instead of
// running into 429s and backing off for minutes.
//
// Medplum meters FHIR interactions per membership in fixed one-minute windows (50,000 points by
// default: a write costs 100, a search 20, a read 1) and says where a request left the window in a
// `RateLimit` header (draft-ietf-httpapi-ratelimit-headers): `"requests";r=59994;t=52,
// "fhirInteractions";r=0;t=60` = points remaining and seconds until the window resets. Over the quota
// it answers 429 (per request, or per entry of a batch) with no Retry-After; the OperationOutcome's
// diagnostics carry `_msBeforeNext` and `limit`.
// The pacer keeps the newest announcement: senders ask how many writes fit (`room`), reserve what they
// send until its answer is handled (two Bundles in flight must not both count the same remaining
// points: room is what the server announced minus what is still in flight, which errs on the safe side
// while an answer that already counted its own Bundle is being handled), and wait for the reset when
// nothing fits. A server that announces nothing is never paced (every answer says "fits").
// A server may announce a quota it does not enforce (Medplum with the project setting enableFhirQuota
// false keeps counting and announcing r=0, and answers every request). So until the server has refused
// something (a 429), a spent window is not waited for: one interaction is sent as a probe; answered
// without a 429 while the window stays spent, the quota is taken as not enforced and no longer paced.
// The clock is not trusted after a wait: once the reset time has been slept through, the new window is
// taken to hold the whole limit (known from a 429's diagnostics) until the next answer says where it
// really is; without a known limit nothing is assumed (tests sleep without time passing).

/** Points Medplum charges per interaction (FhirRateLimiter: recordWrite 100, recordSearch 20, recordRead 1). */
export const QUOTA_COST = { write: 100, search: 20, read: 1 } as const;

/** How long a sender waits for the answers in flight before probing a spent window that is not known to be enforced. */
const SETTLE_MS = 50;

/** Slack added to a wait for the reset: the server's window must really be over when we come back. */
const RESET_MARGIN_MS = 500;

export interface QuotaAnnouncement {
  /** Points left in the window. */
  remaining: number;
  /** ms until the window resets. */
  resetMs: number;
}

/** The `fhirInteractions` quota of a RateLimit header (Medplum), or undefined when it names none. */
export function parseRateLimit(header: string | null | undefined): QuotaAnnouncement | undefined {
  if (!header) return undefined;
  for (const item of header.split(',')) {
    const name = /^\s*"?([^";]+)"?/.exec(item)?.[1];
    if (name !== 'fhirInteractions') continue;
    const r = /;\s*r=(\d+)/.exec(item)?.[1];
    const t = /;\s*t=(\d+)/.exec(item)?.[1];
    if (r !== undefined && t !== undefined) {
      return { remaining: Number(r), resetMs: Number(t) * 1000 };
    }
  }
  return undefined;
}

/** What a throttled answer (429 OperationOutcome) says about the window: Medplum's diagnostics JSON. */
export function parseThrottled(body: unknown): { resetMs?: number; limit?: number } {
  const issues = (body as { issue?: { code?: string; diagnostics?: string }[] } | undefined)?.issue ?? [];
  for (const issue of issues) {
    if (!issue.diagnostics) continue;
    try {
      const d = JSON.parse(issue.diagnostics) as { _msBeforeNext?: unknown; limit?: unknown };
      return {
        ...(typeof d._msBeforeNext === 'number' ? { resetMs: d._msBeforeNext } : {}),
        ...(typeof d.limit === 'number' ? { limit: d.limit } : {}),
      };
    } catch {
      // Not Medplum's JSON diagnostics.
    }
  }
  return {};
}

export interface QuotaSnapshot {
  remaining?: number;
  resetInMs?: number;
  limit?: number;
  /** Time spent waiting for resets so far, ms. */
  waitedMs: number;
  waits: number;
}

export interface Pacer {
  /** Records an answer's RateLimit header (or a throttled answer's diagnostics). */
  observe(announcement: QuotaAnnouncement | undefined, throttled?: { resetMs?: number; limit?: number }): void;
  /** How many interactions of `cost` points fit in the window now, up to `max` (all of them when unknown). */
  room(cost: number, max: number): number;
  /** Counts points about to be spent, until the returned release is called (the answer was handled). */
  reserve(points: number): () => void;
  /** ms until the window resets when it is known to be spent and the server enforces it (it has answered 429), else 0. */
  exhaustedForMs(): number;
  /**
   * Waits for the reset (false when that is more than `maxWaitMs` away or the wait was aborted).
   * Afterwards the state is unknown until the next answer.
   */
  waitForReset(maxWaitMs: number): Promise<boolean>;
  snapshot(): QuotaSnapshot;
}

export interface PacerOptions {
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
  signal?: AbortSignal;
}

export function createPacer(options: PacerOptions): Pacer {
  const now = options.now ?? Date.now;
  let state: { remaining: number; resetAt: number } | undefined;
  let limit: number | undefined;
  let inflight = 0;
  let waitedMs = 0;
  let waits = 0;
  let waiting: Promise<boolean> | undefined;
  /** The server has refused for the quota (a 429): a spent window is waited for. */
  let enforced = false;
  /** The server answered a probe sent into a spent window: it announces a quota it does not enforce. */
  let unenforced = false;
  let probing = false;

  function current(): { remaining: number; resetAt: number } | undefined {
    if (state && state.resetAt <= now()) state = undefined;
    return state;
  }

  return {
    observe(announcement, throttled) {
      if (throttled) {
        enforced = true;
        unenforced = false;
      } else if (probing && announcement && announcement.remaining <= 0) {
        unenforced = true;
      }
      probing = false;
      if (throttled?.limit !== undefined) limit = throttled.limit;
      if (announcement) {
        state = { remaining: announcement.remaining, resetAt: now() + announcement.resetMs };
      } else if (throttled?.resetMs !== undefined) {
        state = { remaining: 0, resetAt: now() + throttled.resetMs };
      }
    },
    room(cost, max) {
      const s = current();
      if (!s || unenforced) return max;
      const fits = Math.max(0, Math.min(max, Math.floor((s.remaining - inflight) / Math.max(1, cost))));
      if (fits === 0 && !enforced && inflight === 0 && max > 0 && s.remaining <= 0) {
        // Nothing refused yet: one interaction finds out whether the spent window is enforced.
        probing = true;
        return 1;
      }
      return fits;
    },
    reserve(points) {
      inflight += points;
      let released = false;
      return () => {
        if (!released) inflight -= points;
        released = true;
      };
    },
    exhaustedForMs() {
      const s = current();
      // Only a window the server has shown it enforces (a 429) holds requests back.
      return s && s.remaining <= 0 && enforced && !unenforced ? s.resetAt - now() : 0;
    },
    waitForReset(maxWaitMs) {
      // Concurrent senders share one wait.
      waiting ??= (async () => {
        if (!enforced && !unenforced && inflight > 0) {
          // Not known to be enforced: no wait for the reset, only for the answers in flight (the next
          // room() then probes the spent window with one interaction).
          await options.sleep(SETTLE_MS);
          return !options.signal?.aborted;
        }
        const s = current();
        // A window assumed after a reset (no answer since) has no known end: only the margin.
        const ms = s && Number.isFinite(s.resetAt) ? Math.max(0, s.resetAt - now()) + RESET_MARGIN_MS : RESET_MARGIN_MS;
        if (ms > maxWaitMs || options.signal?.aborted) return false;
        waits++;
        waitedMs += ms;
        await options.sleep(ms);
        state = limit === undefined || (s && !Number.isFinite(s.resetAt)) ? undefined : { remaining: limit, resetAt: Number.POSITIVE_INFINITY };
        return !options.signal?.aborted;
      })().finally(() => (waiting = undefined));
      return waiting;
    },
    snapshot() {
      const s = current();
      return { ...(s ? { remaining: s.remaining, resetInMs: s.resetAt - now() } : {}), ...(limit !== undefined ? { limit } : {}), waitedMs, waits };
    },
  };
}

export interface PacedSendOptions {
  pacer: Pacer;
  /** Longest single wait for a reset (Remote.maxQuotaWaitMs). */
  maxWaitMs: number;
  /** Resets waited through before giving up (the remote keeps refusing, or the backlog is huge). */
  maxWaits: number;
  /** Items per chunk at most. */
  batchSize: number;
  /** Chunks in flight at once. */
  concurrency: number;
  /** Points one item costs (QUOTA_COST.write for a create/update/delete). */
  cost: number;
  stopped: () => boolean;
}

/**
 * Sends `items` in chunks of at most `batchSize`, `concurrency` chunks in flight, each chunk no larger
 * than the announced quota leaves (the points are reserved before sending). When nothing fits, the
 * senders wait for the window to reset (one shared wait) and go on. Returns the items never handed
 * to `send`: stopped, or `stalled` when a reset was too far away or `maxWaits` were used up.
 */
export async function sendPaced<T>(items: T[], options: PacedSendOptions, send: (chunk: T[]) => Promise<void>): Promise<{ unsent: T[]; stalled: boolean }> {
  const { pacer } = options;
  const waitsBefore = pacer.snapshot().waits;
  let next = 0;
  let stalled = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stalled && !options.stopped()) {
      const room = pacer.room(options.cost, Math.min(options.batchSize, items.length - next));
      if (room === 0) {
        if (pacer.snapshot().waits - waitsBefore >= options.maxWaits || !(await pacer.waitForReset(options.maxWaitMs))) stalled = true;
        continue;
      }
      const chunk = items.slice(next, next + room);
      next += room;
      const release = pacer.reserve(room * options.cost);
      try {
        await send(chunk);
      } finally {
        release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, Math.ceil(items.length / options.batchSize))) }, worker));
  return { unsent: items.slice(next), stalled };
}
