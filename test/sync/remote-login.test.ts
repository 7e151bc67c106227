// Remote login: a member whose User has no local password (as pulled from the remote) signs in with the
// password the remote knows (Medplum's /auth/login -> code -> /oauth2/token, checked by the remote);
// the host then keeps a local verifier, so the next login works offline. Users with a local password
// are never sent to the remote, and a wrong password stays wrong.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { createMedplumAuth, type MedplumAuth } from '../helpers/medplum-auth.ts';
import { ADMIN, clinic, type Clinic } from './runner-helpers.ts';

let server: TestFhirServer;
let auth: MedplumAuth;
let c: Clinic;

beforeEach(async () => {
  auth = createMedplumAuth({ users: [{ email: 'field@example.org', password: 'remote-pass-1' }, { email: ADMIN.email, password: 'other-remote-pw' }] });
  server = await startFhirServer(auth);
  c = await clinic();
  await c.invite('field@example.org', [{ resourceType: 'Patient' }]); // no password: a pulled-like User
});
afterEach(async () => {
  c.host.close();
  await server.close();
});

const storedHash = () =>
  c.host.rawStore.db.prepare("SELECT json_extract(content, '$.passwordHash') FROM resource WHERE type = 'User' AND json_extract(content, '$.email') = 'field@example.org'").pluck().get() as string | null;

describe('remote login', () => {
  it('checks the password with the remote once, then works offline with the local verifier', async () => {
    await expect(c.login('field@example.org', 'remote-pass-1')).rejects.toThrow(/login 400/); // no remote configured yet
    await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: server.baseUrl, token: server.token });

    await expect(c.login('field@example.org', 'not-the-password')).rejects.toThrow(/login 400/);
    expect(storedHash()).toBeNull();
    expect(auth.calls).toEqual([{ path: '/auth/login', status: 400 }]);

    const token = await c.login('field@example.org', 'remote-pass-1');
    expect((await c.call(token, 'GET', '/auth/me')).body.user.email).toBe('field@example.org');
    expect(auth.calls.slice(1)).toEqual([
      { path: '/auth/login', status: 200 },
      { path: '/oauth2/token', grant: 'authorization_code', status: 200 },
      { path: '/auth/me', status: 200 },
    ]);
    expect(storedHash()).toMatch(/^\$2[aby]\$10\$/);

    await server.close(); // offline from here on
    expect(await c.login('field@example.org', 'remote-pass-1')).toEqual(expect.any(String));
    await expect(c.login('field@example.org', 'not-the-password')).rejects.toThrow(/login 400/);
    expect(auth.calls).toHaveLength(4);
    server = await startFhirServer(); // for afterEach
  });

  it('never asks the remote about a user with a local password', async () => {
    await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: server.baseUrl, token: server.token });
    await expect(c.login(ADMIN.email, 'other-remote-pw')).rejects.toThrow(/login 400/);
    expect(auth.calls).toEqual([]);
  });
});
