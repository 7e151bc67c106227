// Browser mode for the UI tests, run as a child process (`node --import tsx test/e2e/ui-server.ts
// --data <dir> --renderer <dist>`): the host with the auth routes mounted, the built renderer served
// beside the API on 127.0.0.1, and the test clinic seeded. Prints one JSON line {url, ...} when ready.
// Stands in for `outpost serve --demo` until browser mode serves the renderer and seeds the demo clinic.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { authMigrations } from '../../electron/host/auth/schema.ts';
import { authRoutes } from '../../electron/host/auth/routes.ts';
import { createAuthService } from '../../electron/host/auth/service.ts';
import type { AuthService } from '../../electron/host/auth/types.ts';
import { createHost } from '../../electron/host/host.ts';
import { serveStatic } from '../../electron/host/static.ts';
import { allMigrations, runMigrations } from '../../electron/host/store/index.ts';
import { seedClinic } from './seed.ts';

const API_PREFIXES = ['/fhir/', '/auth/', '/oauth2/', '/admin/', '/outpost/'];

const { values } = parseArgs({ options: { data: { type: 'string' }, renderer: { type: 'string' } } });
if (!values.data || !values.renderer) {
  throw new Error('usage: ui-server.ts --data <dir> --renderer <dist/renderer>');
}
const rendererDir = values.renderer;
let auth: AuthService | undefined;
const host = createHost({
  dataDir: values.data,
  mounts: (store) => {
    runMigrations(store.db, allMigrations(authMigrations));
    auth = createAuthService({ store });
    return [{ prefix: '', routes: authRoutes(auth) }];
  },
});
const clinic = seedClinic(host.store);

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}

const server = createServer((req, res) => {
  void (async () => {
    const url = req.url ?? '/';
    if (!API_PREFIXES.some((p) => url.startsWith(p))) {
      const file = serveStatic(rendererDir, url);
      res.writeHead(file.status, file.headers);
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers[k] = v;
    }
    const reply = await host.handle({ method: (req.method ?? 'GET') as 'GET', path: url, headers, body: await readBody(req) });
    const payload = reply.body === undefined ? undefined : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...reply.headers, ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }) });
    res.end(payload);
  })().catch((err: unknown) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err));
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, ...clinic }) + '\n');
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  host.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
