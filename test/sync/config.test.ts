// The remote of a project: secrets sealed at rest and never shown again (no route answer, no status, no
// log), the browser-mode key file is 0600, the database file never holds the secret in clear, and a
// reopened host unseals it to sync.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aesSealer } from '../../electron/host/sealing.ts';
import { SYNC_SECRET_KEY_FILE, serverRootOf, tokenUrlFor } from '../../electron/host/sync/config.ts';
import { createHost } from '../../electron/host/host.ts';
import { clinic, type Clinic } from './runner-helpers.ts';

const TOKEN = 'tok-Very-Secret-4242';
const CLIENT_SECRET = 'client-Secret-9191';

let c: Clinic | undefined;
afterEach(() => {
  c?.host.close();
  c = undefined;
  vi.restoreAllMocks();
});

function everyLogLine(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  }
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (lines.push(String(chunk)), true));
  return lines;
}

describe('sync remote configuration', () => {
  it('an admin sets a token remote; no answer, status or log ever carries the secret; the file is sealed with a 0600 key', async () => {
    const logs = everyLogLine();
    // Browser mode without a database key, so the file bytes are plain and can be searched.
    c = await clinic();
    const put = await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: 'https://fhir.invalid/fhir/R4', token: TOKEN });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ project: c.projectId, baseUrl: 'https://fhir.invalid/fhir/R4/', auth: 'token' });
    const get = await c.call(c.admin, 'GET', '/outpost/sync/remote');
    expect(get.body).toEqual(put.body);
    const status = await c.call(c.admin, 'GET', '/outpost/sync/status');
    expect(status.body.remote).toEqual({ baseUrl: 'https://fhir.invalid/fhir/R4/', auth: 'token' });
    // A run against an unreachable remote fails in words, without the token.
    const run = await c.call(c.admin, 'POST', '/outpost/sync/run', {});
    expect(run.body.errors).toEqual(['Cannot reach the remote https://fhir.invalid/fhir/R4/ (offline?)']);
    const cc = await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: 'http://127.0.0.1:9/fhir/R4/', clientId: 'ws-1', clientSecret: CLIENT_SECRET });
    expect(cc.body).toMatchObject({ auth: 'client-credentials', clientId: 'ws-1' });
    const ccRun = await c.call(c.admin, 'POST', '/outpost/sync/run', {});
    expect(ccRun.body.errors.length).toBeGreaterThan(0);
    for (const answer of [put, get, status, run, cc, ccRun, await c.call(c.admin, 'GET', '/outpost/sync/status')]) {
      expect(JSON.stringify(answer.body)).not.toContain(TOKEN);
      expect(JSON.stringify(answer.body)).not.toContain(CLIENT_SECRET);
    }
    expect(logs.join('\n')).not.toMatch(/tok-Very-Secret|client-Secret/);

    const dataDir = c.dataDir;
    c.host.close();
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith('outpost.db'))) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(Buffer.from(CLIENT_SECRET)), file).toBe(false);
      expect(bytes.includes(Buffer.from(TOKEN)), file).toBe(false);
    }
    const keyFile = join(dataDir, SYNC_SECRET_KEY_FILE);
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    // Reopened: the secret unseals for sync itself.
    const again = createHost({ dataDir });
    expect(again.sync.config.settings(c.projectId)).toMatchObject({ auth: 'client-credentials', clientSecret: CLIENT_SECRET });
    again.close();
  });

  it('only project admins read or change the remote; bad input is a 400 that changes nothing', async () => {
    c = await clinic();
    await c.invite('nurse@example.org', [{ resourceType: 'Patient' }], 'nurse-pass-1');
    const nurse = await c.login('nurse@example.org', 'nurse-pass-1');
    for (const [method, body] of [['GET'], ['PUT', { baseUrl: 'https://x.example/fhir/R4/', token: 't' }], ['DELETE']] as const) {
      const res = await c.call(nurse, method, '/outpost/sync/remote', body);
      expect(res.status, method).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await c.call(undefined, 'GET', '/outpost/sync/status')).status).toBe(401);
    expect((await c.call(c.admin, 'GET', '/outpost/sync/remote')).status).toBe(404);
    for (const body of [{ baseUrl: 'ftp://x/', token: 't' }, { baseUrl: 'https://x/' }, { baseUrl: 'https://u:p@x/', token: 't' }, { baseUrl: 'https://x/', token: 't', clientId: 'a' }]) {
      const res = await c.call(c.admin, 'PUT', '/outpost/sync/remote', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(c.host.sync.config.list()).toEqual([]);
    await c.call(c.admin, 'PUT', '/outpost/sync/remote', { baseUrl: 'https://x.example/fhir/R4/', token: TOKEN });
    expect((await c.call(c.admin, 'DELETE', '/outpost/sync/remote')).status).toBe(200);
    expect(c.host.sync.config.list()).toEqual([]);

    // Where the project's data goes is audited: the admin's changes and the nurse's refused attempts, never the secret.
    const audit = await c.call(c.admin, 'GET', '/fhir/R4/AuditEvent?_count=200');
    const events = (audit.body.entry ?? []).map((e: { resource: { subtype?: { code?: string }[]; outcome?: string } }) => e.resource);
    const syncEvents = events
      .map((e: { subtype?: { code?: string }[]; outcome?: string }) => [e.subtype?.find((s) => s.code?.startsWith('sync-'))?.code, e.outcome])
      .filter(([code]: [string | undefined]) => code);
    expect(syncEvents).toEqual(expect.arrayContaining([['sync-remote-set', '0'], ['sync-remote-removed', '0'], ['sync-remote-set', '4'], ['sync-remote-removed', '4']]));
    expect(syncEvents.filter(([code]: [string]) => code === 'sync-remote-set')).toHaveLength(2); // the 400s changed nothing and are not a change
    expect(JSON.stringify(audit.body)).not.toContain(TOKEN);
  });

  it('derives the token endpoint from the base URL as on Medplum, unless configured', () => {
    expect(serverRootOf('https://api.medplum.com/fhir/R4/')).toBe('https://api.medplum.com/');
    expect(tokenUrlFor({ baseUrl: 'https://api.medplum.com/fhir/R4' })).toBe('https://api.medplum.com/oauth2/token');
    expect(tokenUrlFor({ baseUrl: 'https://h.example/medplum/fhir/R4/' })).toBe('https://h.example/medplum/oauth2/token');
    expect(tokenUrlFor({ baseUrl: 'https://h.example/fhir/R4/', tokenUrl: 'https://auth.example/token' })).toBe('https://auth.example/token');
    const sealer = aesSealer(Buffer.alloc(32, 7));
    const sealed = sealer.seal(Buffer.from('abc'));
    expect(sealed.includes(Buffer.from('abc'))).toBe(false);
    expect(sealer.unseal(sealed).toString()).toBe('abc');
    expect(() => aesSealer(Buffer.alloc(32, 8)).unseal(sealed)).toThrow(/cannot be unsealed/);
  });
});
