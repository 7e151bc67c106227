// The host process: Electron main starts this file with utilityProcess.fork and talks to it over its
// parentPort (electron/shell/host-messages.ts); tests start it as a Node child process and talk to it
// over Node's IPC channel, with the same messages. It runs the same host module as browser mode and the
// CLI. Like main.ts it is an entry point; unlike main.ts it never imports 'electron' (nothing of the
// window, keychain or protocol is here: main keeps those).
import { limitHeapGrowth } from './host/process-memory.ts';
import { hostSidePort } from './shell/host-messages.ts';
import { serveHost } from './shell/host-serve.ts';

/** Starts serving: called on load when this file is the process's entry point. */
export function runHostProcess(): void {
  limitHeapGrowth();
  const port = hostSidePort(process);
  const served = serveHost(port);
  // Main gone without a word (it crashed, or a test's parent died): close the database, then end.
  port.onGone?.(() => void served.close().finally(() => process.exit(0)));
}

const isEntry = (process as { parentPort?: unknown }).parentPort !== undefined || process.env.OUTPOST_HOST_PROCESS === '1';
if (isEntry) {
  runHostProcess();
}
