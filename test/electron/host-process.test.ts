// electron/main.ts with the host in its own process (a fake utilityProcess.fork runs the real entry,
// electron/host-process.ts, as a Node child over IPC): the key reaches it in its first message only, a
// plain database is encrypted there before the host opens it, secrets the keychain sealed before are
// sealed the host's way, and a crash of the process is answered, told to the person and repaired.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../electron/host/db/open.ts';
import { derivedSealer } from '../../electron/host/sealing.ts';
import { SYNC_SECRETS_PURPOSE } from '../../electron/shell/host-serve.ts';
import { safeStorageSealer } from '../../electron/shell/secret-sealer.ts';
import { APP_PAGE, useMainHarness } from './main-harness.ts';

vi.mock('electron', async () => (await import('./main-harness.ts')).fakeElectronModule);

const STUB_ENTRY = join(import.meta.dirname, 'stub-host-process.mjs');
const metadata = { method: 'GET', path: '/fhir/R4/metadata', headers: {} };

describe('Electron main with the host in its own process', () => {
  const t = useMainHarness();
  const logs: string[] = [];
  const keyOf = (userData: string) => t.safeStorage.decryptString(readFileSync(join(userData, 'outpost.key.sealed')));

  it('answers over IPC from the host process; the key travels in its first message, never on its command line; a crash is answered 503, told and repaired', async () => {
    const { env, main } = await t.start({}, { realHost: true, log: (line) => logs.push(line) });
    expect((await t.invoke(env, APP_PAGE, metadata)).status).toBe(200);
    const key = keyOf(env.paths.userData);
    expect(env.forks).toHaveLength(1);
    expect(JSON.stringify({ args: env.forks[0].args, options: env.forks[0].options })).not.toContain(key);
    expect(env.forks[0].child.spawnargs.join(' ')).not.toContain(key);

    // A request the host process holds when it dies is answered (503, "check, then try again"), not left hanging.
    const pid = env.forks[0].child.pid!;
    process.kill(pid, 'SIGSTOP');
    const held = t.invoke(env, APP_PAGE, { method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@b.c', password: 'canary-password-5d1' }) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(pid, 'SIGKILL');
    const answer = await held;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });

    // The person is told (beside the window), and a new host process answers.
    expect(env.messageBoxes).toHaveLength(1);
    expect(env.messageBoxes[0].window).toBe(env.windows[0]);
    expect(env.messageBoxes[0].options).toMatchObject({ type: 'warning', message: expect.stringMatching(/stopped unexpectedly and was started again/) });
    expect((await t.invoke(env, APP_PAGE, metadata)).status).toBe(200);
    expect(env.forks).toHaveLength(2);
    expect(env.errorBoxes).toEqual([]);
    expect(env.quit.count).toBe(0);

    await main!.shutdown();
    expect(env.forks.every(({ child }) => child.exitCode !== null || child.signalCode !== null)).toBe(true);
    expect(env.messageBoxes).toHaveLength(1); // closing is no crash
    const logged = logs.join('\n');
    expect(logged).toMatch(/host process ended unexpectedly/);
    for (const secret of [key, 'canary-password-5d1']) {
      expect(logged).not.toContain(secret);
    }
  });

  it('a host process that keeps ending: an error for the person, and the app quits', async () => {
    const { env } = await t.start({}, { realHost: true, hostEntry: STUB_ENTRY, log: () => {} });
    expect((await t.invoke(env, APP_PAGE, metadata)).body).toEqual({ pid: env.forks[0].child.pid });
    for (let i = 0; i < 4; i++) {
      const fork = env.forks[i];
      await new Promise<void>((resolve) => {
        fork.child.once('exit', () => setTimeout(resolve, 20));
        fork.child.kill('SIGKILL');
      });
      if (i < 3) {
        expect((await t.invoke(env, APP_PAGE, metadata)).body).toEqual({ pid: env.forks[i + 1].child.pid });
      }
    }
    expect(env.messageBoxes.map((box) => box.options.type)).toEqual(['warning', 'warning', 'warning']);
    expect(env.errorBoxes).toHaveLength(1);
    expect(env.errorBoxes[0][1]).toMatch(/stopped several times in a row/);
    expect(env.quit.count).toBe(1);
    expect((await t.invoke(env, APP_PAGE, metadata)).status).toBe(503);
    expect(env.forks).toHaveLength(4);
  });

  it('encrypts a plain database from an earlier version in the host process, before the host opens it', async () => {
    const userData = join(t.root, 'appData', 'Outpost');
    mkdirSync(userData, { recursive: true });
    const plain = new Database(join(userData, 'outpost.db'));
    plain.exec("CREATE TABLE notes(text); INSERT INTO notes VALUES ('canary-note-1'), ('canary-note-2')");
    plain.close();

    const { main } = await t.start({}, { realHost: true, log: () => {} });
    await main!.shutdown();
    const bytes = readFileSync(join(userData, 'outpost.db'));
    expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
    expect(bytes.includes('canary-note')).toBe(false);
    const reopened = openDatabase(join(userData, 'outpost.db'), keyOf(userData));
    expect(reopened.prepare('SELECT text FROM notes ORDER BY text').pluck().all()).toEqual(['canary-note-1', 'canary-note-2']);
    reopened.close();
  });

  it('a sync secret the keychain sealed before is sealed again with the host key, once', async () => {
    const first = await t.start({}, { realHost: true, log: () => {} });
    await first.main!.shutdown();
    const userData = first.env.paths.userData;
    const key = keyOf(userData);
    const old = safeStorageSealer(t.safeStorage, 'linux')!.seal(Buffer.from('canary-remote-token', 'utf8'));
    const db = openDatabase(join(userData, 'outpost.db'), key);
    db.prepare("INSERT INTO sync_remote (project, base_url, auth, secret, updated_at) VALUES ('p1', 'https://remote.example/fhir/R4/', 'token', ?, 0)").run(old);
    db.close();

    const startLogs: string[] = [];
    const second = await t.start({}, { realHost: true, log: (line) => startLogs.push(line) });
    await second.main!.shutdown();
    const after = openDatabase(join(userData, 'outpost.db'), key);
    const sealed = after.prepare<[], Buffer>("SELECT secret FROM sync_remote WHERE project = 'p1'").pluck().get()!;
    after.close();
    expect(sealed.equals(old)).toBe(false);
    expect(derivedSealer(key, SYNC_SECRETS_PURPOSE).unseal(sealed).toString('utf8')).toBe('canary-remote-token');
    expect(startLogs.join('\n')).toMatch(/sealed 1 sync secret with the host's key/);
    expect(startLogs.join('\n')).not.toContain('canary-remote-token');
  });
});
