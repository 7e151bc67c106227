// Medplum's login flow through a host's door, as MedplumClient runs it: POST /auth/login with a PKCE
// challenge, POST /auth/profile when the user has several memberships, then /oauth2/token. Returns the
// access token. The test helpers of several suites sign in this way.
import type { Host } from '../../electron/host/host.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

export interface LoginMembership {
  id: string;
  profile: { reference: string; display?: string };
}

/** A door answer: the body, and its JSON text for tests that look for words in it. */
export interface DoorReply {
  status: number;
  body: any;
  text: string;
}

async function post(host: Host, path: string, body: unknown): Promise<DoorReply> {
  const res = await host.handle({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: res.body, text: JSON.stringify(res.body ?? null) };
}

/** Signs in; `choose` picks the membership (its id) when the user has several. A refused login throws with `reply` (a DoorReply). */
export async function loginThroughDoor(host: Host, email: string, password: string, choose: (memberships: LoginMembership[]) => string | undefined): Promise<string> {
  const started = await post(host, '/auth/login', { email, password, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' });
  if (started.status !== 200) {
    throw Object.assign(new Error(`login ${started.status}: ${started.text}`), { reply: started });
  }
  let code = started.body.code as string | undefined;
  if (!code) {
    const profile = choose(started.body.memberships as LoginMembership[]);
    code = (await post(host, '/auth/profile', { login: started.body.login, profile })).body.code;
  }
  const token = await host.handle({
    method: 'POST',
    path: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code ?? '', code_verifier: VERIFIER }).toString(),
  });
  return (token.body as { access_token: string }).access_token;
}
