// The contract covers the host's own API: every route of the one table that is not the FHIR API is
// served from its shared/contract entry (same method, path and caller), every entry is served, and at
// the door each entry's guard and schemas hold: a session route without a session is a 401, a bad
// body or query a 400 OperationOutcome naming the field zod names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, contractRoutes, type RouteContract } from '../../shared/contract/index.ts';
import { firstIssue } from '../../shared/contract/route.ts';
import { FHIR_BASE_PATH } from '../../shared/fhir/http.ts';
import { memoryHost, type Door } from '../admin/helpers.ts';

const OWNER = { projectName: 'Contract Clinic', firstName: 'Ada', lastName: 'Owner', email: 'ada@contract.test', password: 'contract-pass-1' };

/** A path of the route with each parameter filled by a value its schema accepts. */
function pathOf(entry: RouteContract, params: Record<string, string> = {}): string {
  return '/' + entry.path.replace(/:([A-Za-z]+)/g, (_, name: string) => params[name] ?? 'a1b2c3');
}

let d: Door;
let admin: string;
let projectId: string;
beforeAll(async () => {
  d = memoryHost();
  const setup = await d.call(undefined, 'POST', '/outpost/setup', OWNER);
  projectId = setup.body.project.id;
  admin = await d.login(OWNER.email, OWNER.password);
});
afterAll(() => d.host.close());

describe('the route table and the contract', () => {
  it('every route outside the FHIR API is served from its contract entry, with the same method, path and guard', () => {
    const routes = d.host.router.routes;
    const own = routes.filter((r) => !`/${r.pattern}`.startsWith(FHIR_BASE_PATH));
    expect(own.length).toBeGreaterThan(20);
    for (const route of own) {
      expect(route.contract, `${route.method} ${route.pattern} has no contract entry`).toBeDefined();
      expect([route.contract!.method, route.contract!.path]).toEqual([route.method, route.pattern]);
      // A session route is authenticated at the door; 'public' and 'token' routes establish nobody there.
      expect(route.access, `${route.method} ${route.pattern}`).toBe(route.contract!.auth === 'session' ? 'session' : 'public');
    }
    // The FHIR API is FHIR's own contract (the CapabilityStatement), not this one.
    expect(routes.filter((r) => `/${r.pattern}`.startsWith(FHIR_BASE_PATH) && r.contract)).toEqual([]);
  });

  it('every contract entry is served by exactly one route', () => {
    const served = d.host.router.routes.map((r) => r.contract).filter(Boolean);
    for (const entry of contractRoutes()) {
      expect(served.filter((c) => c === entry), `${entry.method} ${entry.path}`).toHaveLength(1);
    }
    expect(served).toHaveLength(contractRoutes().length);
  });
});

describe('at the door', () => {
  it('a session or token route without a bearer token is a 401 OperationOutcome, before its body is read', async () => {
    const guarded = contractRoutes().filter((e) => e.auth !== 'public');
    expect(guarded.length).toBeGreaterThan(15);
    for (const entry of guarded) {
      const res = await d.call(undefined, entry.method, pathOf(entry, { projectId }), '{not json');
      expect([res.status, res.body?.resourceType], `${entry.method} ${entry.path}`).toEqual([401, 'OperationOutcome']);
    }
  });

  it('a body its schema refuses is a 400 OperationOutcome naming the field the schema names', async () => {
    const withBody = contractRoutes().filter((e) => e.body && e !== contract.auth.token);
    let checked = 0;
    for (const entry of withBody) {
      const refused = entry.body!.safeParse({ password: 42, membership: 7 });
      if (refused.success) {
        continue;
      }
      const expected = firstIssue(refused.error).path;
      const res = await d.call(entry.auth === 'public' ? undefined : admin, entry.method, pathOf(entry, { projectId }), { password: 42, membership: 7 });
      expect(res.status, `${entry.method} ${entry.path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      if (expected) {
        expect(res.body.issue[0].expression, `${entry.method} ${entry.path}`).toEqual([expected]);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
  });

  it('a query its schema refuses is a 400 naming the parameter', async () => {
    const res = await d.call(admin, 'GET', '/outpost/policy-review?membership=not%20an%20id');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['membership']);
    const unnamed = await d.call(admin, 'POST', '/outpost/import', '{"resourceType":"Patient"}');
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.issue[0].expression).toEqual(['name']);
  });

  it('the token endpoint answers its own error shape (RFC 6749), which its contract names', async () => {
    const res = await d.call(undefined, 'POST', '/oauth2/token', { grant_type: 'password', username: 'x' });
    expect(res).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(contract.auth.token.error.safeParse(res.body).success).toBe(true);
    const missing = await d.call(undefined, 'POST', '/oauth2/token', { grant_type: 'authorization_code' });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
