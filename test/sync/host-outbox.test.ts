// The host records every local FHIR write in sync's outbox (with its AuditEvents kept out of it), and a
// refused request records nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { makeHost, type TestHost } from '../host/helpers.ts';

let host: TestHost | undefined;
afterEach(() => host?.dispose());

function outbox(h: TestHost): { type: string; op: string }[] {
  return h.rawStore.db.prepare('SELECT type, op FROM sync_outbox ORDER BY seq').all() as { type: string; op: string }[];
}

describe('host outbox wiring', () => {
  it('a create and an update through /fhir/R4 are one create row; AuditEvents are not in it; a 400 adds nothing', async () => {
    host = makeHost({ audit: true });
    const created = await host.call('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Wired' }] });
    expect(created.status).toBe(201);
    await host.call('PUT', `Patient/${created.body.id}`, { ...created.body, gender: 'female' });
    const refused = await host.call('POST', 'Patient', { resourceType: 'Patient', gender: 42 });
    expect(refused.status).toBe(400);
    host.audit.flush();
    expect(host.rawStore.db.prepare("SELECT count(*) AS n FROM resource WHERE type = 'AuditEvent'").get()).not.toEqual({ n: 0 });
    expect(outbox(host)).toEqual([{ type: 'Patient', op: 'create' }]);
  });
});
