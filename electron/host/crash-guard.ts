// The last line of defence of a process that serves the host (browser mode's `outpost serve`,
// Electron's main process): an exception nothing caught, or a promise rejection nobody handled, is
// logged and the process keeps serving. Node would otherwise end the process, with every open
// request, every queued audit event and the window with it.
//
// Each request runs in a scope (AsyncLocalStorage) that knows how to answer it: a failure raised by
// anything the request started (a timer, a callback, a detached promise) is attributed to it, and it
// is answered 500 with an OperationOutcome instead of hanging.
import { AsyncLocalStorage } from 'node:async_hooks';
import { safeText } from '../../shared/safe-text.ts';

/** The events the guard listens to: `process`, or a stand-in in tests. */
export interface CrashSource {
  on(event: 'uncaughtException' | 'unhandledRejection', listener: (err: unknown) => void): unknown;
  off(event: 'uncaughtException' | 'unhandledRejection', listener: (err: unknown) => void): unknown;
}

export interface CrashGuard {
  /** Runs `fn` as one request: a crash it causes later calls `answer500` (once, if still unanswered). */
  run<T>(answer500: (err: unknown) => void, fn: () => T): T;
  /** What the process-level listeners do (exposed for tests that cannot throw for real). */
  handle(kind: 'uncaughtException' | 'unhandledRejection', err: unknown): void;
  /** How many failures the guard has absorbed. */
  readonly absorbed: number;
  uninstall(): void;
}

export interface CrashGuardOptions {
  log: (message: string) => void;
  source?: CrashSource;
}

interface Scope {
  answer500: (err: unknown) => void;
  answered: boolean;
}

function describe(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  // The log is a terminal or a file: no control character from a request may reach it raw.
  return (safeText(text.replace(/\n/g, ' | '), 4_000) ?? 'unknown error').replace(/ \| /g, '\n    ');
}

export function installCrashGuard(options: CrashGuardOptions): CrashGuard {
  const source = options.source ?? process;
  const scopes = new AsyncLocalStorage<Scope>();
  let absorbed = 0;

  function handle(kind: 'uncaughtException' | 'unhandledRejection', err: unknown): void {
    absorbed++;
    const scope = scopes.getStore();
    options.log(`Outpost: ${kind === 'uncaughtException' ? 'uncaught exception' : 'unhandled promise rejection'}${scope ? ' during a request' : ''} (the host keeps running): ${describe(err)}`);
    if (scope && !scope.answered) {
      scope.answered = true;
      try {
        scope.answer500(err);
      } catch (answerErr) {
        options.log(`Outpost: could not answer the failed request: ${describe(answerErr)}`);
      }
    }
  }
  const onException = (err: unknown): void => handle('uncaughtException', err);
  const onRejection = (err: unknown): void => handle('unhandledRejection', err);
  source.on('uncaughtException', onException);
  source.on('unhandledRejection', onRejection);

  return {
    run(answer500, fn) {
      const scope: Scope = { answer500, answered: false };
      return scopes.run(scope, fn);
    },
    handle,
    get absorbed() {
      return absorbed;
    },
    uninstall() {
      source.off('uncaughtException', onException);
      source.off('unhandledRejection', onRejection);
    },
  };
}
