// A reply that does not match its contract is caught on both sides: the host (in tests and
// development) answers 500 and reports it instead of sending it, and the renderer's typed client
// refuses it with the route and the field named, instead of handing it to a store.
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { contract } from '../../shared/contract/index.ts';
import { defineRoute } from '../../shared/contract/route.ts';
import { route } from '../../electron/host/routes/contract.ts';
import { respondJson } from '../../electron/host/routes/respond.ts';
import { authenticated, open } from '../../electron/host/routes/router.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { ContractError, createHostApi } from '../../renderer/src/api/host-api.ts';

const planted = defineRoute({ method: 'GET', path: 'outpost/test/count', auth: 'public', response: z.object({ count: z.number() }) });
const plantedSession = defineRoute({ method: 'GET', path: 'outpost/test/mine', auth: 'session', response: z.object({ project: z.string() }) });

let host: Host | undefined;
afterEach(() => host?.close());

function plantedHost(reply: unknown, checkReplies?: boolean): { host: Host; unexpected: unknown[] } {
  const unexpected: unknown[] = [];
  host = createHost({
    dataDir: ':memory:',
    checkReplies,
    onUnexpectedError: (err) => unexpected.push(err),
    // A handler typed against another shape than its contract's: only the runtime check sees it.
    routes: () => [route(planted, open(() => respondJson(reply as { count: number })))],
  });
  return { host, unexpected };
}

describe('the host checks its replies against the contract', () => {
  it('a reply its schema refuses is a 500, reported with the route and the field; a matching one goes through', async () => {
    const bad = plantedHost({ count: 'seven' });
    const res = await bad.host.handle({ method: 'GET', path: '/outpost/test/count', headers: {} });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(JSON.stringify(res.body)).not.toContain('seven');
    expect(String(bad.unexpected[0])).toMatch(/GET outpost\/test\/count answered 200 with a body its contract refuses at count/);
    bad.host.close();

    const good = plantedHost({ count: 7 });
    expect(await good.host.handle({ method: 'GET', path: '/outpost/test/count', headers: {} })).toMatchObject({ status: 200, body: { count: 7 } });
    expect(good.unexpected).toEqual([]);
  });

  it('is on under vitest by default, and off when asked (production builds leave NODE_ENV unset)', async () => {
    expect((await plantedHost({ count: 'x' }).host.handle({ method: 'GET', path: '/outpost/test/count', headers: {} })).status).toBe(500);
    host!.close();
    expect((await plantedHost({ count: 'x' }, false).host.handle({ method: 'GET', path: '/outpost/test/count', headers: {} })).status).toBe(200);
  });

  it("a failure whose body is not an OperationOutcome is caught too; the door's own 401 is one", async () => {
    const unexpected: unknown[] = [];
    host = createHost({
      dataDir: ':memory:',
      onUnexpectedError: (err) => unexpected.push(err),
      routes: () => [
        route(planted, open(() => ({ status: 403, headers: {}, body: { denied: true } as never }))),
        route(plantedSession, authenticated((_req, { session }) => respondJson({ project: session.projectId }))),
      ],
    });
    expect((await host.handle({ method: 'GET', path: '/outpost/test/count', headers: {} })).status).toBe(500);
    expect(String(unexpected[0])).toMatch(/answered 403 with a body its contract refuses/);
    expect((await host.handle({ method: 'GET', path: '/outpost/test/mine', headers: {} })).status).toBe(401);
    expect(unexpected).toHaveLength(1);
  });
});

describe("the renderer's typed client checks the host's replies", () => {
  /** A MedplumClient whose every request is answered with `body`. */
  function clientAnswering(body: unknown): MedplumClient {
    return new MedplumClient({
      baseUrl: 'http://outpost.test/',
      storage: new ClientStorage(new MemoryStorage()),
      fetch: async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }),
    });
  }

  it('refuses a status without its lists, naming the route and the field', async () => {
    const api = createHostApi(clientAnswering({ online: true, running: false, conflicts: [], counts: { pending: 0, held: 0 } }));
    const call = api.call(contract.sync.status);
    await expect(call).rejects.toBeInstanceOf(ContractError);
    await expect(api.call(contract.sync.status)).rejects.toThrow(/GET outpost\/sync\/status does not match its contract at pending/);
  });

  it('refuses a "me" whose membership is not a ProjectMembership, and takes one that is', async () => {
    const me = { user: {}, profile: {}, project: {}, membership: { resourceType: 'Patient' }, config: { resourceType: 'UserConfiguration' }, security: { mfaEnrolled: false, sessionId: 's', loginTime: 't', authMethod: 'password' } };
    await expect(createHostApi(clientAnswering(me)).call(contract.auth.me)).rejects.toThrow(/at membership\.resourceType/);
    const fine = { ...me, membership: { resourceType: 'ProjectMembership', id: 'm1' } };
    expect((await createHostApi(clientAnswering(fine)).call(contract.auth.me)).membership.id).toBe('m1');
  });

  it('fills path parameters and query from the call, encoded', async () => {
    const urls: string[] = [];
    const medplum = new MedplumClient({
      baseUrl: 'http://outpost.test/',
      storage: new ClientStorage(new MemoryStorage()),
      fetch: async (url: string) => {
        urls.push(url);
        return new Response(JSON.stringify({ unlocked: true, failedAttemptsForgotten: 2 }), { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    expect(await createHostApi(medplum).call(contract.admin.unlockMember, { params: { projectId: 'p 1', membershipId: 'm/2' } })).toEqual({ unlocked: true, failedAttemptsForgotten: 2 });
    expect(urls).toEqual(['http://outpost.test/admin/projects/p%201/members/m%2F2/unlock']);
  });
});
