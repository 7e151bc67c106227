// A host on ':memory:' reached through its door: requests as the renderer sends them, and Medplum's
// login flow (POST /auth/login, /auth/profile, /oauth2/token) for real sessions.
import { createHost, type Host } from '../../electron/host/host.ts';
import { loginThroughDoor } from '../helpers/door-login.ts';

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
    login: (email, password, role) =>
      loginThroughDoor(host, email, password, (choices) => {
        const chosen = choices.find((m) => !role || `${m.profile.display} ${m.profile.reference}`.includes(role));
        if (!chosen) {
          throw new Error(`no membership matching ${role}: ${JSON.stringify(choices)}`);
        }
        return chosen.id;
      }),
  };
}

export function memoryHost(): Door {
  return door(createHost({ dataDir: ':memory:' }));
}
