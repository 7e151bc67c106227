// Main's side of the host process (host-messages.ts): starts it, hands it each request main has checked,
// and brings the answer back; the window never waits on SQLite. When the process ends without being
// asked (a native crash, the OS killing it), the requests it held are answered 503, it is started
// again, and main is told so it can tell the person; after `maxRestarts` ends within `restartWindowMs`
// it is left down and every request is answered 503.
import { FhirError, outcome } from '../../shared/errors.ts';
import type { BridgeEvent, EmitBridgeEvent } from '../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';
import type { FromHost, HostStart, ToHost } from './host-messages.ts';
import type { ShellHost } from './host-types.ts';

/** A running host process, whatever started it (Electron's utilityProcess, or Node's child_process in tests). */
export interface HostProcessHandle {
  post(message: ToHost): void;
  onMessage(listener: (message: FromHost) => void): void;
  /** Called once when the process has ended. */
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

/** The part of Electron's UtilityProcess used here (typed here: only main.ts imports 'electron'). */
export interface UtilityProcessLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export function utilityProcessHandle(child: UtilityProcessLike): HostProcessHandle {
  return {
    post: (message) => child.postMessage(message),
    onMessage: (listener) => void child.on('message', (message) => listener(message as FromHost)),
    onExit: (listener) => void child.on('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
}

/** What main hears of a host process that ended unasked. */
export interface HostCrash {
  /** Its exit code (null when a signal ended it). */
  code: number | null;
  /** true: it is being started again; false: it ended too often and stays down. */
  restarting: boolean;
}

export interface HostClientOptions {
  spawn: () => HostProcessHandle;
  start: HostStart;
  emit?: EmitBridgeEvent;
  log: (message: string) => void;
  /** Unseals secrets sealed by the OS keychain before the host had its own process (base64 in); null when it cannot. */
  unsealLegacy?: (sealed: Buffer) => string | null;
  onCrash?: (crash: HostCrash) => void;
  /** Restarts allowed within `restartWindowMs` (default 3 within a minute). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** How long `close` waits for the host to close its database before ending the process (default 10 s). */
  closeTimeoutMs?: number;
  now?: () => number;
}

export interface HostClient extends ShellHost {
  /** Round trip of one ping through the host process's event loop, in ms. */
  ping(): Promise<number>;
  /** How many times the host process was started again after ending unasked. */
  readonly restarts: number;
}

function unavailable(text: string): HostResponse {
  const error = new FhirError(503, outcome('error', 'transient', text));
  return { status: error.status, headers: { 'content-type': 'application/fhir+json' }, body: error.outcome };
}

interface Generation {
  handle: HostProcessHandle;
  /** Resolves when the host is ready; rejects with why it could not start. */
  ready: Promise<void>;
  pending: Map<number, (message: FromHost) => void>;
  exited: boolean;
}

/** Starts the host process and resolves once its host is ready (rejects with why it could not start). */
export async function startHostProcess(options: HostClientOptions): Promise<HostClient> {
  const now = options.now ?? Date.now;
  const maxRestarts = options.maxRestarts ?? 3;
  const restartWindowMs = options.restartWindowMs ?? 60_000;
  const ends: number[] = [];
  let nextId = 0;
  let restarts = 0;
  let closing = false;
  let down = false;
  /** Set once the first host is ready: before that, an end is a failed start, not a crash to restart. */
  let serving = false;
  let current: Generation;

  function launch(): Generation {
    const handle = options.spawn();
    const pending = new Map<number, (message: FromHost) => void>();
    let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => {}); // a failed restart is reported through onExit; nobody may be waiting yet
    const generation: Generation = { handle, ready, pending, exited: false };
    handle.onMessage((message) => {
      switch (message.type) {
        case 'ready':
          settle?.resolve();
          return;
        case 'start-failed':
          settle?.reject(new Error(message.message));
          handle.kill();
          return;
        case 'event':
          options.emit?.((message.event as BridgeEvent).event, (message.event as BridgeEvent).payload);
          return;
        case 'log':
          options.log(message.message);
          return;
        case 'unseal':
          handle.post({ type: 'unsealed', id: message.id, secrets: message.sealed.map((s) => unsealLegacy(s)) });
          return;
        default:
          pending.get(message.id)?.(message);
          pending.delete(message.id);
      }
    });
    handle.onExit((code) => {
      generation.exited = true;
      settle?.reject(new Error(`The host process ended (exit code ${code}) before it was ready`));
      const answered = [...pending.values()];
      pending.clear();
      for (const resolve of answered) {
        resolve({ type: 'response', id: -1, response: unavailable('Outpost\'s data service stopped while answering: the request may not have been applied. Check, then try again.') });
      }
      if (serving && !closing && generation === current) {
        crashed(code);
      }
    });
    handle.post({ type: 'start', start: options.start });
    return generation;
  }

  function unsealLegacy(sealed: string): string | null {
    try {
      return options.unsealLegacy?.(Buffer.from(sealed, 'base64')) ?? null;
    } catch {
      return null;
    }
  }

  function crashed(code: number | null): void {
    const time = now();
    ends.push(time);
    while (ends.length > 0 && ends[0] <= time - restartWindowMs) {
      ends.shift();
    }
    const restarting = ends.length <= maxRestarts;
    options.log(`Outpost: the host process ended unexpectedly (exit code ${code}); ${restarting ? 'starting it again' : 'it ended too often and stays down'}.`);
    if (restarting) {
      restarts++;
      current = launch();
    } else {
      down = true;
    }
    options.onCrash?.({ code, restarting });
  }

  /** Sends a message with a fresh id to the host that is (or will be) ready; resolves with its answer. */
  async function call(make: (id: number) => ToHost): Promise<FromHost> {
    const generation = current;
    try {
      await generation.ready;
    } catch {
      return { type: 'response', id: -1, response: unavailable('Outpost\'s data service is not running. Restart Outpost.') };
    }
    if (generation.exited || down) {
      return { type: 'response', id: -1, response: unavailable('Outpost\'s data service is not running. Restart Outpost.') };
    }
    const id = ++nextId;
    return new Promise<FromHost>((resolve) => {
      generation.pending.set(id, resolve);
      generation.handle.post(make(id));
    });
  }

  current = launch();
  await current.ready;
  serving = true;

  return {
    async handle(request: HostRequest): Promise<HostResponse> {
      if (closing) {
        return unavailable('Outpost is closing');
      }
      const answer = await call((id) => ({ type: 'request', id, request }));
      return answer.type === 'response' ? answer.response : unavailable('Outpost\'s data service answered out of turn');
    },
    async lockAllSessions() {
      await call((id) => ({ type: 'lock-all', id }));
    },
    async ping() {
      const started = performance.now();
      await call((id) => ({ type: 'ping', id }));
      return performance.now() - started;
    },
    get restarts() {
      return restarts;
    },
    async close() {
      if (closing) {
        return;
      }
      closing = true;
      const generation = current;
      if (generation.exited) {
        return;
      }
      const exited = new Promise<void>((resolve) => generation.handle.onExit(() => resolve()));
      const id = ++nextId;
      const closed = new Promise<void>((resolve) => {
        generation.pending.set(id, () => resolve());
        generation.handle.post({ type: 'close', id });
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.closeTimeoutMs ?? 10_000)));
      await Promise.race([closed, exited, timeout]);
      clearTimeout(timer);
      generation.handle.kill();
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref?.())]);
    },
  };
}
