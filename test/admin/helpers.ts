// A host on ':memory:' reached through its door: requests as the renderer sends them, and Medplum's
// login flow (POST /auth/login, /auth/profile, /oauth2/token) for real sessions.
import { createHost, type Host } from '../../electron/host/host.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

export interface Reply {
  status: number;
  body: any;
}

export interface Door {
  host: Host;
  call(token: string | undefined, method: string, path: string, body?: unknown): Promise<Reply>;
  /** Signs in; `role` picks a membership by the text of its profile display or reference. */
  login(email: string, password: string, role?: string): Promise<string>;
}

export function door(host: Host): Door {
  async function call(token: string | undefined, method: string, path: string, body?: unknown): Promise<Reply> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await host.handle({
      method: method as 'GET',
      path,
      headers: { ...(text !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: text,
    });
    return { status: res.status, body: res.body };
  }
  return {
    host,
    call,
    async login(email, password, role) {
      const started = await call(undefined, 'POST', '/auth/login', { email, password, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' });
      if (started.status !== 200) {
        throw Object.assign(new Error(`login ${started.status}: ${JSON.stringify(started.body)}`), { reply: started });
      }
      let code = started.body.code as string | undefined;
      if (!code) {
        const choices = started.body.memberships as { id: string; profile: { reference: string; display?: string } }[];
        const chosen = choices.find((m) => !role || `${m.profile.display} ${m.profile.reference}`.includes(role));
        if (!chosen) {
          throw new Error(`no membership matching ${role}: ${JSON.stringify(choices)}`);
        }
        code = (await call(undefined, 'POST', '/auth/profile', { login: started.body.login, profile: chosen.id })).body.code;
      }
      const token = await host.handle({
        method: 'POST',
        path: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: code ?? '', code_verifier: VERIFIER }).toString(),
      });
      return (token.body as { access_token: string }).access_token;
    },
  };
}

export function memoryHost(): Door {
  return door(createHost({ dataDir: ':memory:' }));
}
