import { afterEach, describe, expect, it } from 'vitest';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
afterEach(() => c?.close());

describe('door', () => {
  it('401 without a session, metadata public, a no-policy member reads and writes', async () => {
    c = createClinic();
    expect((await c.call(undefined, 'GET', 'Patient')).status).toBe(401);
    expect((await c.call(undefined, 'GET', 'metadata')).status).toBe(200);
    const p = await c.person('Nina', {});
    const token = await c.login(p.email);
    const created = await c.call(token, 'POST', 'Patient', patient('Doe'));
    expect(created.status, created.text).toBe(201);
    expect((await c.call(token, 'GET', `Patient/${created.body.id}`)).status).toBe(200);
    expect((await c.call(token, 'GET', 'Patient?family=Doe')).body.total).toBe(1);
  });
});
