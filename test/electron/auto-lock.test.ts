import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { LockReason } from '../../shared/contract/bridge.ts';
import { startAutoLock } from '../../electron/shell/auto-lock.ts';

function fakePowerMonitor() {
  const emitter = new EventEmitter() as EventEmitter & { idle: number; getSystemIdleTime(): number };
  emitter.idle = 0;
  emitter.getSystemIdleTime = () => emitter.idle;
  return emitter;
}

function manualTimers() {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  return {
    setInterval: (callback: () => void) => {
      callbacks.set(next, callback);
      return next++;
    },
    clearInterval: (handle: unknown) => void callbacks.delete(handle as number),
    tick: () => [...callbacks.values()].forEach((cb) => cb()),
    get count() {
      return callbacks.size;
    },
  };
}

describe('auto-lock', () => {
  it('locks on screen lock and on suspend', () => {
    const powerMonitor = fakePowerMonitor();
    const reasons: LockReason[] = [];
    const lock = startAutoLock({ powerMonitor, lock: (reason) => void reasons.push(reason), timers: manualTimers() });
    powerMonitor.emit('lock-screen');
    powerMonitor.emit('suspend');
    expect(reasons).toEqual(['lock-screen', 'suspend']);
    lock.stop();
    powerMonitor.emit('lock-screen');
    expect(reasons).toHaveLength(2);
  });

  it('locks once per idle stretch, and again after new input and a new idle stretch', () => {
    const powerMonitor = fakePowerMonitor();
    const timers = manualTimers();
    const reasons: LockReason[] = [];
    const lock = startAutoLock({ powerMonitor, idleSeconds: 300, lock: (reason) => void reasons.push(reason), timers });
    powerMonitor.idle = 299;
    timers.tick();
    expect(reasons).toEqual([]);
    powerMonitor.idle = 300;
    timers.tick();
    powerMonitor.idle = 900;
    timers.tick();
    expect(reasons).toEqual(['idle']);
    powerMonitor.idle = 2; // the person came back
    timers.tick();
    powerMonitor.idle = 301;
    timers.tick();
    expect(reasons).toEqual(['idle', 'idle']);
    lock.stop();
    expect(timers.count).toBe(0);
  });

  it('reports a failing lock instead of throwing into Electron', async () => {
    const powerMonitor = fakePowerMonitor();
    const failures: unknown[] = [];
    startAutoLock({
      powerMonitor,
      timers: manualTimers(),
      lock: async () => {
        throw new Error('host closed');
      },
      onError: (err) => failures.push(err),
    });
    powerMonitor.emit('suspend');
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
  });
});
