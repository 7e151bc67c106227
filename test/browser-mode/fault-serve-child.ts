// `outpost serve` as the CLI runs it (serveCommand: the crash guard, the HTTP adapter, the host), with
// routes that fail the ways nothing inside a request's own error handling can catch: an exception
// thrown from a timer the request started, and a promise rejection nobody handles. Each leaves its
// request unanswered by its handler. Usage: fault-serve-child.ts <dataDir>
import { serveCommand } from '../../electron/host/cli/commands.ts';
import { open, type Route } from '../../electron/host/routes/router.ts';

const never = new Promise<never>(() => undefined);

const faults: Route[] = [
    {
      method: 'GET',
      pattern: 'outpost/test-faults/throw-later',
      ...open(() => {
        setTimeout(() => {
          throw new Error('planted: thrown from a timer');
        }, 10);
        return never;
      }),
    },
    {
      method: 'GET',
      pattern: 'outpost/test-faults/reject-detached',
      ...open(() => {
        void Promise.reject(new Error('planted: rejection nobody handles'));
        return never;
      }),
    },
    {
      method: 'GET',
      pattern: 'outpost/test-faults/throw-after-answer',
      ...open(() => {
        setImmediate(() => {
          throw new Error('planted: thrown after the answer');
        });
        return { status: 200, headers: { 'content-type': 'application/json' }, body: { ok: true } };
      }),
    },
];

const stop = new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
process.exitCode = await serveCommand(process.argv[2], 0, { stdout: process.stdout, stderr: process.stderr, waitForStop: () => stop }, { routes: () => faults });
