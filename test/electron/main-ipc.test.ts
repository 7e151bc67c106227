// electron/main.ts under a fake 'electron' (main-harness.ts): the one IPC request channel (origin,
// validation and size refusals that never reach the host, replies and failures as OperationOutcome),
// events to the window, auto-lock, the keychain key at start-up, and IPC through to the real host (in its
// own process: host-process.test.ts has the rest of that).
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, REQUEST_CHANNEL } from '../../shared/contract/bridge.ts';
import { MAX_BODY_BYTES, MAX_BUNDLE_BODY_BYTES } from '../../shared/contract/host.ts';
import { createFakeSafeStorage } from './fake-safe-storage.ts';
import { APP_PAGE, OK_BODY, useMainHarness } from './main-harness.ts';

vi.mock('electron', async () => (await import('./main-harness.ts')).fakeElectronModule);

describe('Electron main process: IPC, events, auto-lock, keys', () => {
  const t = useMainHarness();

  describe('IPC', () => {
    it('registers exactly one request channel', async () => {
      const { env } = await t.start();
      expect([...env.ipcHandlers.keys()]).toEqual([REQUEST_CHANNEL]);
    });

    it('passes a valid request from the app to host.handle and brings its reply back', async () => {
      const { env } = await t.start();
      const envelope = { method: 'GET', path: '/fhir/R4/Patient?name=smith', headers: { accept: 'application/fhir+json' } };
      const reply = await t.invoke(env, APP_PAGE, envelope);
      expect(t.host.record.handled).toEqual([envelope]);
      expect(reply).toEqual({ status: 200, headers: { 'content-type': 'application/fhir+json' }, body: OK_BODY });
      expect(structuredClone(reply)).toEqual(reply);

      const post = { method: 'POST', path: '/fhir/R4/Patient', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Patient"}' };
      await t.invoke(env, 'app://outpost/patients/new', post);
      expect(t.host.record.handled[1]).toEqual(post);

      // Header names reach the host lower-cased, as the host contract says.
      await t.invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient', headers: { Authorization: 'Bearer t', 'If-None-Match': 'W/"1"' } });
      expect(t.host.record.handled[2].headers).toEqual({ authorization: 'Bearer t', 'if-none-match': 'W/"1"' });
      await t.invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/metadata' });
      expect(t.host.record.handled[3]).toEqual({ method: 'GET', path: '/fhir/R4/metadata', headers: {} });
    });

    it('refuses requests from any other origin without reaching the host', async () => {
      const { env } = await t.start();
      const envelope = { method: 'GET', path: '/fhir/R4/Patient', headers: {} };
      for (const sender of ['https://evil.example/', 'http://127.0.0.1:8103/', 'file:///tmp/x.html', 'app://evil/index.html', 'app://user:pw@outpost/', 'about:blank', '', null]) {
        const reply = await t.invoke(env, sender, envelope);
        expect(reply.status, String(sender)).toBe(403);
        expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] });
      }
      expect(t.host.record.handled).toEqual([]);
    });

    it('refuses envelopes that fail validation without reaching the host', async () => {
      const { env } = await t.start();
      const invalid: unknown[] = [
        undefined,
        null,
        'GET /fhir/R4/Patient',
        [],
        {},
        { method: 'TRACE', path: '/fhir/R4/Patient', headers: {} },
        { method: 'get', path: '/fhir/R4/Patient', headers: {} },
        { method: 'GET', path: 'fhir/R4/Patient', headers: {} },
        { method: 'GET', path: '', headers: {} },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-bad\r\ninjected': 'x' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-bad': 42 } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'bad header': 'x' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-${i}`, 'v'])) },
        { method: 'GET', path: '/fhir/R4/Patient', headers: { 'x-big': 'v'.repeat(17 * 1024) } },
        { method: 'POST', path: '/fhir/R4/Patient', headers: {}, body: { resourceType: 'Patient' } },
        { method: 'GET', path: '/fhir/R4/Patient', headers: {}, __proto__: { polluted: true }, extra: 'field' },
      ];
      for (const envelope of invalid) {
        const reply = await t.invoke(env, APP_PAGE, envelope);
        expect(reply.status, JSON.stringify(envelope)).toBe(400);
        expect(reply.headers['content-type']).toContain('fhir+json');
        expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] });
      }
      // A URL over 16 KiB is 431, as the HTTP adapter answers it.
      const long = await t.invoke(env, APP_PAGE, { method: 'GET', path: '/' + 'a'.repeat(17 * 1024), headers: {} });
      expect(long.status).toBe(431);
      expect(long.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly' }] });
      expect(t.host.record.handled).toEqual([]);
    });

    it('refuses a body over the size limit without reaching the host', async () => {
      const { env } = await t.start();
      const body = 'x'.repeat(MAX_BODY_BYTES + 1);
      const reply = await t.invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/Binary', headers: {}, body });
      expect(reply.status).toBe(413);
      expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] });
      // Multi-byte characters count as the bytes they take, not as string length.
      const wide = 'é'.repeat(MAX_BODY_BYTES / 2 + 1);
      expect((await t.invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/Binary', headers: {}, body: wide })).status).toBe(413);
      // A Bundle posted to the FHIR base may be larger, up to its own limit.
      const bundle = 'x'.repeat(MAX_BUNDLE_BODY_BYTES + 1);
      expect((await t.invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4', headers: {}, body: bundle })).status).toBe(413);
      expect(t.host.record.handled).toEqual([]);
      expect((await t.invoke(env, APP_PAGE, { method: 'POST', path: '/fhir/R4/', headers: {}, body })).status).toBe(200);
      expect(t.host.record.handled).toHaveLength(1);
    });

    it('answers a host failure with a 500 OperationOutcome that leaks nothing', async () => {
      t.host.record.reply = async () => {
        throw new Error('SQLITE_CORRUPT at /home/someone/secret/path.db');
      };
      const { env } = await t.start();
      const reply = await t.invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient', headers: {} });
      expect(reply.status).toBe(500);
      expect(JSON.stringify(reply)).not.toContain('secret');
      expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });
    });

    it('a failure the request causes outside the host (a timer, a detached promise) is its 500, and main keeps serving', async () => {
      const crashes = new EventEmitter();
      t.host.record.reply = (req) => {
        if (req.path.endsWith('/throw-later')) {
          setTimeout(() => crashes.emit('uncaughtException', new Error('planted at /home/someone/secret')), 5);
          return new Promise(() => undefined); // the handler itself never answers
        }
        if (req.path.endsWith('/reject-later')) {
          setTimeout(() => crashes.emit('unhandledRejection', new Error('planted rejection')), 5);
          return new Promise(() => undefined);
        }
        return Promise.resolve({ status: 200, headers: { 'content-type': 'application/fhir+json' }, body: OK_BODY });
      };
      const { env } = await t.start({}, { crashSource: crashes });
      for (const path of ['/outpost/throw-later', '/outpost/reject-later']) {
        const reply = await t.invoke(env, APP_PAGE, { method: 'GET', path, headers: {} });
        expect(reply.status, path).toBe(500);
        expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });
        expect(JSON.stringify(reply)).not.toContain('secret');
        expect((await t.invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/Patient', headers: {} })).status).toBe(200);
      }
      expect(crashes.listenerCount('uncaughtException')).toBe(1);
    });

    it('sends host events to the window on the event channel', async () => {
      const { env } = await t.start();
      const emit = t.host.record.options[0].emit!;
      emit('sync-progress', { phase: 'pull', done: 5, total: 20 });
      emit('role-change', { membershipId: 'm-2' });
      expect(env.windows[0].webContents.sent).toEqual([
        [EVENT_CHANNEL, { event: 'sync-progress', payload: { phase: 'pull', done: 5, total: 20 } }],
        [EVENT_CHANNEL, { event: 'role-change', payload: { membershipId: 'm-2' } }],
      ]);
      env.windows[0].close();
      emit('lock', { reason: 'manual' }); // no window left: nothing to send to, nothing thrown
    });
  });

  describe('with the real host', () => {
    it('answers FHIR requests over IPC from an encrypted database in userData', async () => {
      const { env, main } = await t.start({}, { realHost: true });
      const metadata = await t.invoke(env, APP_PAGE, { method: 'GET', path: '/fhir/R4/metadata', headers: {} });
      expect(metadata.status).toBe(200);
      expect(metadata.body).toMatchObject({ resourceType: 'CapabilityStatement' });
      // The API needs a session (issue 3): without one, a FHIR request is a 401 OperationOutcome and writes nothing.
      const created = await t.invoke(env, APP_PAGE, {
        method: 'POST',
        path: '/fhir/R4/Patient',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Canarysson' }] }),
      });
      expect(created.status).toBe(401);
      expect(created.body).toMatchObject({ resourceType: 'OperationOutcome' });
      const login = await t.invoke(env, APP_PAGE, {
        method: 'POST',
        path: '/auth/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.org', password: 'Canarysson-password', codeChallenge: 'x'.repeat(43), codeChallengeMethod: 'S256' }),
      });
      expect(login.status).toBe(400);
      await main!.shutdown();
      const bytes = readFileSync(join(env.paths.userData, 'outpost.db'));
      expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
      expect(bytes.includes('Canarysson')).toBe(false);
    });
  });

  describe('auto-lock', () => {
    it('locks every session and tells the renderer on screen lock and suspend', async () => {
      const { env } = await t.start();
      env.powerMonitor.emit('lock-screen');
      env.powerMonitor.emit('suspend');
      await new Promise((resolve) => setImmediate(resolve));
      expect(t.host.record.locked).toBe(2);
      expect(env.windows[0].webContents.sent).toEqual([
        [EVENT_CHANNEL, { event: 'lock', payload: { reason: 'lock-screen' } }],
        [EVENT_CHANNEL, { event: 'lock', payload: { reason: 'suspend' } }],
      ]);
    });

    it('stops listening when the app quits, and closes the host', async () => {
      const { env } = await t.start();
      env.appEvents.emit('will-quit');
      await new Promise((resolve) => setImmediate(resolve));
      expect(t.host.record.closed).toBe(1);
      expect(env.ipcHandlers.size).toBe(0);
      env.powerMonitor.emit('lock-screen');
      await new Promise((resolve) => setImmediate(resolve));
      expect(t.host.record.locked).toBe(0);
    });
  });

  describe('database key and encryption at rest', () => {
    it('creates the key once in the OS keychain and gives the same key to the host on every start', async () => {
      const first = await t.start();
      await first.main!.shutdown();
      const second = await t.start();
      expect(t.host.record.options.map((o) => o.dataDir)).toEqual([second.env.paths.userData, second.env.paths.userData]);
      const [a, b] = t.host.record.options.map((o) => o.key);
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(b).toBe(a);
      expect(t.safeStorage.encryptCalls).toBe(1);
      expect(existsSync(join(second.env.paths.userData, 'outpost.key.sealed'))).toBe(true);
      expect(existsSync(join(second.env.paths.userData, 'outpost.key'))).toBe(false);
    });

    it('refuses to start, opening nothing, when the keychain cannot unseal the key (a copied data folder)', async () => {
      const first = await t.start();
      await first.main!.shutdown();
      t.safeStorage = createFakeSafeStorage(); // another user's or machine's keychain
      await expect(t.start()).rejects.toThrow(/could not unlock the database key/);
      expect(t.host.record.options).toHaveLength(1);
      expect(t.env.windows).toHaveLength(0);
      expect(t.env.ipcHandlers.size).toBe(0);
    });
  });
});
