// The host process's side of the port to main (host-messages.ts): it starts the host on main's first
// message (after encrypting a plain database left by an earlier version and sealing old secrets the new
// way), then answers each request, lock and ping in turn. The event loop is free between messages and
// between the short transactions of long work (an import yields between its Bundles), so a ping or a
// read is answered while an import runs.
//
// The last line of defence lives here now: an exception nothing caught or a rejection nobody handled is
// logged and the host keeps serving; one a request caused (a timer, a detached promise) answers that
// request 500. Logs go to main as messages; no request, body, token or key is ever part of one.
import type { BridgeEvent } from '../../shared/contract/bridge.ts';
import type { HostResponse } from '../../shared/contract/host.ts';
import { errors, isFhirError, toErrorResponse } from '../../shared/errors.ts';
import { installCrashGuard, type CrashSource } from '../host/crash-guard.ts';
import { createHost as createRealHost, type HostOptions } from '../host/host.ts';
import { databasePath, ensureDataDir } from '../host/paths.ts';
import { respondError } from '../host/routes/respond.ts';
import { derivedSealer } from '../host/sealing.ts';
import { encryptPlainDatabase } from './encrypt-database.ts';
import type { FromHost, HostPort, HostStart, ToHost } from './host-messages.ts';
import type { ShellHost } from './host-types.ts';
import { resealLegacySecrets } from './reseal-secrets.ts';

/** The purpose (HKDF info) of the key that seals sync's secrets in the desktop app. */
export const SYNC_SECRETS_PURPOSE = 'sync secrets';

export interface ServeHostOptions {
  /** Builds the host; the real one by default (tests pass a fake to plant failures). */
  createHost?: (options: HostOptions) => ShellHost;
  /** Where uncaught exceptions and unhandled rejections are heard: `process` (a stand-in in tests). */
  crashSource?: CrashSource;
}

/** Why the host could not start, for the person at this machine (main shows it; never the renderer). */
function startFailure(err: unknown): string {
  if (isFhirError(err)) {
    return err.outcome.issue?.[0]?.details?.text ?? 'The host could not start';
  }
  return err instanceof Error ? err.message : String(err);
}

export interface ServedHost {
  /** Closes the host (its database checkpointed, its audit queue written), as main's `close` does. */
  close(): Promise<void>;
}

/** Serves one host over `port` until main sends `close`. */
export function serveHost(port: HostPort<ToHost, FromHost>, options: ServeHostOptions = {}): ServedHost {
  const log = (message: string) => port.post({ type: 'log', message });
  const guard = installCrashGuard({ log, source: options.crashSource });
  const createHost = options.createHost ?? createRealHost;
  let host: ShellHost | undefined;
  let started = false;
  let nextUnseal = 0;
  const unsealing = new Map<number, (secrets: (string | null)[]) => void>();

  const unsealInMain = (sealed: string[]) =>
    new Promise<(string | null)[]>((resolve) => {
      const id = ++nextUnseal;
      unsealing.set(id, resolve);
      port.post({ type: 'unseal', id, sealed });
    });

  async function start(start: HostStart): Promise<void> {
    const dataDir = ensureDataDir(start.dataDir);
    const hostOptions: HostOptions = {
      dataDir,
      key: start.key,
      log,
      sync: start.sync,
      emit: (event, payload) => port.post({ type: 'event', event: { event, payload } as BridgeEvent }),
    };
    if (start.key) {
      const migration = encryptPlainDatabase(databasePath(dataDir), start.key);
      if (migration.migrated) {
        log(`Outpost: encrypted the existing database (${Object.keys(migration.rowCounts ?? {}).length} tables, every row kept).`);
      }
      if (start.keychain) {
        hostOptions.secretSealer = derivedSealer(start.key, SYNC_SECRETS_PURPOSE);
        const resealed = await resealLegacySecrets(databasePath(dataDir), start.key, hostOptions.secretSealer, unsealInMain);
        if (resealed > 0) {
          log(`Outpost: sealed ${resealed} sync secret${resealed === 1 ? '' : 's'} with the host's key.`);
        }
      }
    }
    host = createHost(hostOptions);
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= Promise.resolve()
      .then(() => host?.close())
      .catch((err: unknown) => log(`Outpost: closing the host failed: ${toErrorResponse(err).outcome.issue?.[0]?.details?.text ?? 'unknown error'}`))
      .finally(() => {
        host = undefined;
        guard.uninstall();
      }));

  function answer(id: number, response: HostResponse): void {
    try {
      port.post({ type: 'response', id, response });
    } catch {
      // A body that cannot cross the port (structured clone) is the host's failure, not the window's hang.
      port.post({ type: 'response', id, response: respondError(errors.internal()) });
    }
  }

  port.onMessage((message) => {
    switch (message.type) {
      case 'start':
        if (started) {
          return;
        }
        started = true;
        start(message.start).then(
          () => port.post({ type: 'ready' }),
          (err: unknown) => port.post({ type: 'start-failed', message: startFailure(err) }),
        );
        return;
      case 'request': {
        const { id, request } = message;
        let answered = false;
        const once = (response: HostResponse) => {
          if (!answered) {
            answered = true;
            answer(id, response);
          }
        };
        if (!host) {
          once(respondError(errors.internal('Outpost is still starting')));
          return;
        }
        const current = host;
        guard.run(
          () => once(respondError(errors.internal())),
          () => {
            Promise.resolve()
              .then(() => current.handle(request))
              .then(once, (err: unknown) => once(respondError(err)));
          },
        );
        return;
      }
      case 'lock-all':
        try {
          host?.lockAllSessions?.();
        } finally {
          port.post({ type: 'done', id: message.id });
        }
        return;
      case 'ping':
        port.post({ type: 'pong', id: message.id });
        return;
      case 'close':
        void close().then(() => port.post({ type: 'done', id: message.id }));
        return;
      case 'unsealed':
        unsealing.get(message.id)?.(message.secrets);
        unsealing.delete(message.id);
        return;
    }
  });
  return { close };
}
