// Both ends of the port between main and the host process, joined in this process (each message goes
// through structured clone, as between processes): the host side's crash guard and answers
// (electron/shell/host-serve.ts), and main's side (host-client.ts): a host process that ends unasked
// answers its requests 503 and is started again, one that keeps ending stays down, one that cannot
// start says why.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';
import type { HostOptions } from '../../electron/host/host.ts';
import { startHostProcess, type HostCrash, type HostProcessHandle } from '../../electron/shell/host-client.ts';
import type { FromHost, ToHost } from '../../electron/shell/host-messages.ts';
import { serveHost } from '../../electron/shell/host-serve.ts';
import type { ShellHost } from '../../electron/shell/host-types.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'outpost-host-serve-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const PASSWORD = 'canary-password-7f3a';
const TOKEN = 'canary-token-91bc';

interface FakeProcess {
  handle: HostProcessHandle;
  crashes: EventEmitter;
  logs: string[];
  /** Ends the "process" as a crash would: nothing more goes either way. */
  end(code: number | null): void;
}

/** A host "process" in this one: serveHost behind a port whose messages are structured-cloned. */
function inProcess(createHost: (options: HostOptions) => ShellHost): FakeProcess {
  const toHost = new EventEmitter();
  const toMain = new EventEmitter();
  const exits = new EventEmitter();
  const crashes = new EventEmitter();
  const logs: string[] = [];
  let alive = true;
  serveHost(
    {
      post: (message) => void setImmediate(() => alive && toMain.emit('message', structuredClone(message))),
      onMessage: (listener) => void toHost.on('message', (message: ToHost) => alive && listener(message)),
    },
    { createHost, crashSource: crashes },
  );
  const end = (code: number | null) => {
    if (alive) {
      alive = false;
      setImmediate(() => exits.emit('exit', code));
    }
  };
  toMain.on('message', (message: FromHost) => message.type === 'log' && logs.push(message.message));
  return {
    handle: {
      post: (message) => void setImmediate(() => toHost.emit('message', structuredClone(message))),
      onMessage: (listener) => void toMain.on('message', listener),
      onExit: (listener) => void exits.once('exit', listener),
      kill: () => end(null),
    },
    crashes,
    logs,
    end,
  };
}

/** Lets an end be heard (it arrives like a process's 'exit' event, a turn later). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const ok = (body: unknown): HostResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body });
const request = (path: string, body?: unknown): HostRequest => ({
  method: body === undefined ? 'GET' : 'POST',
  path,
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe('the host process serving over its port', () => {
  it('a failure a request causes outside the host (a timer, a detached promise) is its 500; the host keeps serving and its log carries no secret', async () => {
    let proc!: FakeProcess;
    let closed = 0;
    const spawn = () => {
      proc = inProcess(() => ({
        handle: async (req) => {
          if (req.path === '/boom') {
            setTimeout(() => proc.crashes.emit('uncaughtException', new Error('planted at /home/someone/secret')), 5);
            return new Promise<HostResponse>(() => {}); // never answers: only the guard can
          }
          if (req.path === '/reject') {
            setTimeout(() => proc.crashes.emit('unhandledRejection', new Error('planted rejection')), 5);
            return new Promise<HostResponse>(() => {});
          }
          return ok({ path: req.path });
        },
        close: () => void closed++,
      }));
      return proc.handle;
    };
    const host = await startHostProcess({ spawn, start: { dataDir, key: 'k'.repeat(64) }, log: () => {} });
    for (const path of ['/boom', '/reject']) {
      const reply = await host.handle(request(path, { password: PASSWORD }));
      expect(reply.status).toBe(500);
      expect(reply.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] });
      expect(JSON.stringify(reply)).not.toMatch(/planted|secret|home/);
    }
    expect(await host.handle(request('/fhir/R4/metadata'))).toEqual(ok({ path: '/fhir/R4/metadata' }));
    expect(await host.ping()).toBeGreaterThanOrEqual(0);
    expect(proc.logs.join('\n')).toMatch(/uncaught exception during a request \(the host keeps running\)/);
    expect(proc.logs.join('\n')).toMatch(/unhandled promise rejection during a request/);
    for (const secret of [PASSWORD, TOKEN, 'k'.repeat(64)]) {
      expect(proc.logs.join('\n')).not.toContain(secret);
    }
    await host.close();
    expect(closed).toBe(1);
    expect(host.restarts).toBe(0);
  });

  it('a request the host throws on is an OperationOutcome; the host is built from the start message and its events reach main', async () => {
    const built: HostOptions[] = [];
    const events: unknown[] = [];
    const host = await startHostProcess({
      spawn: () =>
        inProcess((options) => {
          built.push(options);
          return {
            handle: async (req) => {
              options.emit?.('sync-progress', { phase: 'pull', done: 1, total: 2 });
              throw new Error(`no route for ${req.path}`);
            },
            close: () => {},
          };
        }).handle,
      start: { dataDir, sync: { background: true } },
      emit: (event, payload) => events.push({ event, payload }),
      log: () => {},
    });
    const reply = await host.handle(request('/x'));
    expect(reply.status).toBe(500);
    expect(JSON.stringify(reply.body)).not.toContain('no route');
    expect(events).toEqual([{ event: 'sync-progress', payload: { phase: 'pull', done: 1, total: 2 } }]);
    expect(built[0]).toMatchObject({ dataDir: dataDir, sync: { background: true } });
    expect(built[0].secretSealer).toBeUndefined(); // no keychain key: the host's own key file
    await host.close();
  });

  it('a host process that ends unasked: what it held is answered 503, main is told, a new one serves; one that keeps ending stays down', async () => {
    const processes: FakeProcess[] = [];
    const crashes: HostCrash[] = [];
    let clock = 0;
    let stall = false;
    const host = await startHostProcess({
      spawn: () => {
        const generation = processes.length;
        const proc = inProcess(() => ({
          handle: (req) => (stall ? new Promise<HostResponse>(() => {}) : Promise.resolve(ok({ generation, path: req.path }))),
          close: () => {},
        }));
        processes.push(proc);
        return proc.handle;
      },
      start: { dataDir },
      log: () => {},
      onCrash: (crash) => crashes.push(crash),
      maxRestarts: 2,
      restartWindowMs: 60_000,
      now: () => clock,
    });
    expect((await host.handle(request('/a'))).body).toEqual({ generation: 0, path: '/a' });

    stall = true;
    const held = host.handle(request('/held'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    processes[0].end(139);
    const answer = await held;
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
    expect(JSON.stringify(answer.body)).toMatch(/may not have been applied/);
    stall = false;
    expect((await host.handle(request('/b'))).body).toEqual({ generation: 1, path: '/b' });
    expect(crashes).toEqual([{ code: 139, restarting: true }]);
    expect(host.restarts).toBe(1);

    // Ends far apart are each restarted; three within the window are one too many.
    clock += 120_000;
    processes[1].end(1);
    await settle();
    expect((await host.handle(request('/c'))).body).toEqual({ generation: 2, path: '/c' });
    processes[2].end(1);
    await settle();
    await host.ping();
    processes[3].end(1);
    await settle();
    expect(crashes.map((c) => c.restarting)).toEqual([true, true, true, false]);
    expect(processes).toHaveLength(4);
    const down = await host.handle(request('/d'));
    expect(down.status).toBe(503);
    expect(JSON.stringify(down.body)).toMatch(/not running/);
    await host.close();
  });

  it('a host that cannot start: the start fails with its reason and nothing is started again', async () => {
    const crashes: HostCrash[] = [];
    let spawned = 0;
    const start = startHostProcess({
      spawn: () => {
        spawned++;
        return inProcess(() => {
          throw new Error('Cannot open outpost.db: wrong key, or the file is not a database');
        }).handle;
      },
      start: { dataDir },
      log: () => {},
      onCrash: (crash) => crashes.push(crash),
    });
    await expect(start).rejects.toThrow(/wrong key/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spawned).toBe(1);
    expect(crashes).toEqual([]);
  });

  it('close: the host closes its database, then the process ends; that end is no crash', async () => {
    const crashes: HostCrash[] = [];
    let proc!: FakeProcess;
    let closed = 0;
    const host = await startHostProcess({
      spawn: () => {
        proc = inProcess(() => ({ handle: async () => ok({}), close: () => void closed++ }));
        return proc.handle;
      },
      start: { dataDir },
      log: () => {},
      onCrash: (crash) => crashes.push(crash),
    });
    await host.close();
    expect(closed).toBe(1);
    expect((await host.handle(request('/after'))).status).toBe(503);
    expect(crashes).toEqual([]);
  });
});
