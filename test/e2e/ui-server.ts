// Browser mode for the UI tests, run as a child process (`node --import tsx test/e2e/ui-server.ts
// --data <dir> --renderer <dist>`): the host with the auth routes mounted behind the loopback HTTP
// adapter (which serves the built renderer beside the API on 127.0.0.1), and the test clinic seeded.
// Prints one JSON line {url, ...} when ready.
// Stands in for `outpost serve --demo` until browser mode serves the renderer and seeds the demo clinic.
import { parseArgs } from 'node:util';
import { createHost } from '../../electron/host/host.ts';
import { startHttpServer } from '../../electron/host/http.ts';
import { seedClinic } from './seed.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, renderer: { type: 'string' } } });
if (!values.data || !values.renderer) {
  throw new Error('usage: ui-server.ts --data <dir> --renderer <dist/renderer>');
}
const rendererDir = values.renderer;
// The host mounts the auth routes itself (issue 3).
const host = createHost({ dataDir: values.data });
const clinic = seedClinic(host.rawStore);

const server = await startHttpServer(host, { port: 0, requireToken: false, rendererDir });
process.stdout.write(JSON.stringify({ url: server.url, ...clinic }) + '\n');

const stop = (): void => {
  void server.close().finally(() => {
    host.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
