// Tokens for the remote: a fixed bearer token, or OAuth2 client credentials (a Medplum ClientApplication)
// exchanged at the token endpoint (grant_type=client_credentials) and cached until shortly before it
// expires. `getToken({ refresh: true })` (the remote's answer to a 401) forgets the cached token.
// Concurrent callers share one request. Failures never carry the secret.
import { FhirError, errors, outcome } from '../../../../shared/errors.ts';
import { tokenUrlFor, type RemoteSettings } from '../config.ts';

export type GetToken = (opts: { refresh: boolean }) => Promise<string>;

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  clock?: () => Date;
  /** Renew this long before the token's expiry (default 60 s). */
  marginMs?: number;
}

/** A token source for client credentials. */
export function clientCredentialsToken(opts: ClientCredentialsOptions): GetToken {
  const doFetch = opts.fetch ?? fetch;
  const now = () => (opts.clock ?? (() => new Date()))().getTime();
  const margin = opts.marginMs ?? 60_000;
  let cached: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function request(): Promise<string> {
    let res: Response;
    try {
      res = await doFetch(opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: opts.clientId, client_secret: opts.clientSecret }).toString(),
      });
    } catch (err) {
      throw new FhirError(503, outcome('error', 'transient', `Cannot reach the token endpoint ${opts.tokenUrl}: ${(err as Error).message}`));
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (!res.ok || typeof body.access_token !== 'string' || body.access_token === '') {
      const why = typeof body.error_description === 'string' ? body.error_description : typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      if (res.status >= 500) {
        throw new FhirError(503, outcome('error', 'transient', `The token endpoint failed: ${why}`));
      }
      throw errors.unauthorized(`The remote refused the client credentials of ${opts.clientId}: ${why}`);
    }
    const ttlMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 3600_000;
    cached = { token: body.access_token, expiresAt: now() + ttlMs };
    return body.access_token;
  }

  return async ({ refresh }) => {
    if (refresh) {
      cached = undefined;
    }
    if (cached && cached.expiresAt - margin > now()) {
      return cached.token;
    }
    inFlight ??= request().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** The token source of configured remote settings. */
export function tokenSourceFor(settings: RemoteSettings, options: { fetch?: typeof fetch; clock?: () => Date } = {}): GetToken {
  if (settings.auth === 'token') {
    const token = settings.token ?? '';
    return async () => token;
  }
  return clientCredentialsToken({
    tokenUrl: tokenUrlFor(settings),
    clientId: settings.clientId ?? '',
    clientSecret: settings.clientSecret ?? '',
    fetch: options.fetch,
    clock: options.clock,
  });
}
