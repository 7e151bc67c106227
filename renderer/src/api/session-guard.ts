// Notices when the host has ended the session (membership deactivated, session expired or revoked):
// MedplumClient answers a 401 by refreshing the token, and when the host refuses the refresh it only
// rejects the request with "Failed to fetch tokens" (its onUnauthenticated is called only when it has no
// refresh token at all). This fetch wrapper sees the refused refresh and reports the ended session, so
// the renderer can clear every store and go back to sign-in with a message in words.
import type { FetchLike } from './transport.ts';

export const SESSION_ENDED_MESSAGE = 'Your session has ended. Sign in again to continue.';

function isRefreshRequest(input: string | URL, init: RequestInit | undefined): boolean {
  if (!new URL(String(input), 'http://outpost.invalid/').pathname.endsWith('/oauth2/token')) {
    return false;
  }
  const body = init?.body;
  const text = typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : '';
  return new URLSearchParams(text).get('grant_type') === 'refresh_token';
}

/**
 * Wraps a fetch: a refused token refresh (400/401 from the token endpoint) calls `onEnded`. The call is
 * deferred to the next task so the failing request's own error handling runs first and the reset wins.
 */
export function sessionGuardFetch(inner: FetchLike, onEnded: () => void): FetchLike {
  return async (input, init) => {
    const response = await inner(input, init);
    if ((response.status === 400 || response.status === 401) && isRefreshRequest(input, init)) {
      setTimeout(onEnded, 0);
    }
    return response;
  };
}
