// The preload under a fake 'electron': what the renderer gets as window.outpost, and nothing more.
import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, REQUEST_CHANNEL, type OutpostBridge } from '../../shared/contract/bridge.ts';

const fake = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: [] as unknown[][],
  ipc: undefined as unknown as import('node:events').EventEmitter,
}));

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const ipc = new Emitter();
  fake.ipc = ipc;
  return {
    contextBridge: {
      exposeInMainWorld: (name: string, api: unknown) => fake.exposed.set(name, api),
    },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        fake.invoke.push([channel, ...args]);
        return { status: 200, headers: { 'content-type': 'application/fhir+json' }, body: { resourceType: 'Bundle' } };
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => ipc.on(channel, listener),
      removeListener: (channel: string, listener: (...args: unknown[]) => void) => ipc.removeListener(channel, listener),
      send: () => {
        throw new Error('the preload must not use send');
      },
    },
  };
});

let bridge: OutpostBridge;
let ipc: EventEmitter;

beforeAll(async () => {
  await import('../../electron/preload.ts');
  bridge = fake.exposed.get('outpost') as OutpostBridge;
  ipc = fake.ipc;
});

describe('preload', () => {
  it('exposes one object, window.outpost, with exactly request and on', () => {
    expect([...fake.exposed.keys()]).toEqual(['outpost']);
    expect(Object.keys(bridge).sort()).toEqual(['on', 'request']);
    expect(typeof bridge.request).toBe('function');
    expect(typeof bridge.on).toBe('function');
  });

  it('sends a request on the one request channel and returns the reply', async () => {
    const envelope = { method: 'GET' as const, path: '/fhir/R4/Patient', headers: {} };
    const reply = await bridge.request(envelope);
    expect(fake.invoke).toEqual([[REQUEST_CHANNEL, envelope]]);
    expect(reply).toEqual({ status: 200, headers: { 'content-type': 'application/fhir+json' }, body: { resourceType: 'Bundle' } });
  });

  it('delivers only the payload of the subscribed event, never the raw IPC event', () => {
    const rawEvent = { sender: { send() {} }, ports: [] };
    const progress: unknown[][] = [];
    const locks: unknown[][] = [];
    const stopProgress = bridge.on('sync-progress', (...args: unknown[]) => progress.push(args));
    const stopLock = bridge.on('lock', (...args: unknown[]) => locks.push(args));
    ipc.emit(EVENT_CHANNEL, rawEvent, { event: 'sync-progress', payload: { phase: 'push', done: 3, total: 10 } });
    ipc.emit(EVENT_CHANNEL, rawEvent, { event: 'lock', payload: { reason: 'idle' } });
    ipc.emit(EVENT_CHANNEL, rawEvent, { event: 'not-an-event', payload: 1 });
    ipc.emit(EVENT_CHANNEL, rawEvent, 'garbage');
    expect(progress).toEqual([[{ phase: 'push', done: 3, total: 10 }]]);
    expect(locks).toEqual([[{ reason: 'idle' }]]);
    stopProgress();
    stopLock();
  });

  it('returns an unsubscribe that stops delivery and releases the IPC listener with the last subscriber', () => {
    const seen: unknown[] = [];
    const first = bridge.on('role-change', (payload) => seen.push(['first', payload]));
    const second = bridge.on('role-change', (payload) => seen.push(['second', payload]));
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(1);
    first();
    first(); // twice is harmless
    ipc.emit(EVENT_CHANNEL, {}, { event: 'role-change', payload: { membershipId: 'm1' } });
    expect(seen).toEqual([['second', { membershipId: 'm1' }]]);
    second();
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(0);
  });

  it('keeps delivering to other subscribers when one callback throws', () => {
    const seen: unknown[] = [];
    const a = bridge.on('lock', () => {
      throw new Error('boom');
    });
    const b = bridge.on('lock', (payload) => seen.push(payload));
    ipc.emit(EVENT_CHANNEL, {}, { event: 'lock', payload: { reason: 'suspend' } });
    expect(seen).toEqual([{ reason: 'suspend' }]);
    a();
    b();
  });

  it('refuses unknown events and non-function callbacks', () => {
    expect(() => bridge.on('anything' as 'lock', () => {})).toThrow(TypeError);
    expect(() => bridge.on('lock', 'nope' as unknown as () => void)).toThrow(TypeError);
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(0);
  });
});
