// Is the remote reachable? A cheap unauthenticated GET of its CapabilityStatement (`metadata`, public on
// Medplum): any HTTP answer means online (even 401: the network works, the token is another matter);
// a network failure or a timeout means offline. Background sync retries offline remotes with backoff.

export interface ProbeOptions {
  fetch?: typeof fetch;
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
}

export async function probeRemote(baseUrl: string, options: ProbeOptions = {}): Promise<boolean> {
  const doFetch = options.fetch ?? fetch;
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  try {
    const res = await doFetch(base + 'metadata', {
      method: 'GET',
      headers: { accept: 'application/fhir+json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

/** Delay before the next probe of an offline remote: doubling from `first`, capped at `max`. */
export function offlineBackoffMs(failures: number, first: number, max: number): number {
  return Math.min(max, first * 2 ** Math.max(0, failures - 1));
}
