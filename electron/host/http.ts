// The loopback HTTP adapter of browser mode: Node's http module on 127.0.0.1 only, mapping each
// request onto host.handle. Until login exists, every request needs the bearer token generated at
// start (written to the data folder with mode 0600). No CORS: a request from a foreign Origin is refused.
import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { HostRequest, HostResponse } from '../../shared/contract/host.ts';
import { errors, toErrorResponse, type FhirError } from '../../shared/errors.ts';
import { FHIR_JSON_UTF8 } from '../../shared/fhir/http.ts';
import type { CrashGuard } from './crash-guard.ts';
import type { Host } from './host.ts';
import { TOKEN_FILE, writeSecret } from './paths.ts';
import { respondError } from './routes/respond.ts';
import { isApiPath, serveStatic } from './static.ts';

export interface HttpServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Only loopback is allowed: the server refuses to bind anything else. */
  hostname?: '127.0.0.1';
  /** A fixed token (tests); default: a fresh random one written to `<dataDir>/http-token`. */
  token?: string;
  /**
   * Whether the adapter itself demands its bearer token (default true). Once the host authenticates
   * requests with login sessions, the adapter can leave that to the host.
   */
  requireToken?: boolean;
  /**
   * The built renderer folder (dist/renderer). When set, GET and HEAD requests outside the API paths
   * (see ./static.ts) are answered with its files, index.html for client-side routes; they need no
   * token: the app's code is not a secret, the API behind it stays guarded.
   */
  rendererDir?: string;
  /** The process's crash guard: a failure a request causes after its handler returned is answered 500 for it. */
  guard?: CrashGuard;
}

export interface HttpServer {
  /** e.g. 'http://127.0.0.1:8103' (no trailing slash). */
  url: string;
  port: number;
  token: string;
  /** Path of the token file (mode 0600), when the token was generated. */
  tokenFile?: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, response: HostResponse): void {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, ...response.headers };
  let payload: string | undefined;
  if (response.body !== undefined) {
    payload = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    headers['content-type'] ??= FHIR_JSON_UTF8;
    headers['content-length'] = String(Buffer.byteLength(payload));
  } else {
    delete headers['content-type'];
    headers['content-length'] = '0';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

function sendError(res: ServerResponse, err: FhirError, extra: Record<string, string> = {}): void {
  send(res, respondError(err, extra));
}

function tokenMatches(header: string | undefined, token: Buffer): boolean {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) {
    return false;
  }
  const given = Buffer.from(match[1]);
  return given.length === token.length && timingSafeEqual(given, token);
}

/**
 * Reads the body as text, refusing (413) a body whose stated length (Content-Length) is over the
 * limit before reading any of it, and a streamed one as soon as it passes the limit: at most `limit`
 * bytes are ever held. The rest of a refused body is discarded as it arrives (never kept), and the
 * connection closes after the answer.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const refuse = (): void => {
      req.removeAllListeners('data');
      req.on('data', () => undefined);
      req.resume();
      reject(errors.tooLarge(`Request body over ${limit} bytes`));
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      refuse();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        refuse();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8')));
    // The client stopped sending before the length it stated (or the connection broke): bad input, not ours.
    req.on('error', () => reject(errors.badRequest('The request body ended before its stated length')));
    req.on('aborted', () => reject(errors.badRequest('The request body ended before its stated length')));
  });
}

/**
 * Requests Node's parser refuses before any handler sees them (a URL and headers over 16 KiB: 431; a
 * malformed request line or header: 400) are answered with an OperationOutcome, as every other failure.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  answerOnSocket(socket, tooLarge ? errors.headersTooLarge('Request URL and headers over 16 KiB') : errors.badRequest('Malformed HTTP request'));
}

/** An answer written straight to the socket, for what never becomes a request (and CONNECT / Upgrade, which Node hands over raw). */
function answerOnSocket(socket: Socket | Duplex, err: FhirError): void {
  const { status, outcome } = toErrorResponse(err);
  const body = JSON.stringify(outcome);
  const headers = { ...SECURITY_HEADERS, 'content-type': FHIR_JSON_UTF8, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return out;
}

/** Answers a request whose handling failed outside the host's own error handling (a 413 refusal, a crash). */
function answerUnexpected(res: ServerResponse, err: unknown): void {
  if (!res.headersSent) {
    send(res, respondError(err, { connection: 'close' }));
  } else if (!res.writableEnded) {
    res.destroy();
  }
}

export async function startHttpServer(host: Host, options: HttpServerOptions = {}): Promise<HttpServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  if (hostname !== '127.0.0.1') {
    throw new Error('The Outpost HTTP server binds 127.0.0.1 only');
  }
  const tokenFile = options.token ? undefined : join(host.dataDir, TOKEN_FILE);
  const token = options.token ?? writeSecret(tokenFile as string);
  const tokenBytes = Buffer.from(token);
  const requireToken = options.requireToken ?? true;
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();

  const server = createServer((req, res) => {
    if (options.guard) {
      // A failure this request causes after its handler returned (a timer, a detached promise) is its 500.
      options.guard.run(
        (err) => answerUnexpected(res, err),
        () => void serve(req, res),
      );
    } else {
      void serve(req, res);
    }
  });
  server.on('clientError', answerClientError);
  // Node gives CONNECT and Upgrade requests to these events and closes the connection when nobody listens.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerOnSocket(socket, errors.methodNotAllowed('CONNECT is not supported')));
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => answerOnSocket(socket, errors.badRequest('Protocol upgrades are not supported')));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // DNS rebinding: a page on another name resolving to 127.0.0.1 sends its own Host.
      if (!allowedHosts.has(req.headers.host ?? '')) {
        sendError(res, errors.badRequest('Unexpected Host header'));
        return;
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigins.has(origin)) {
        sendError(res, errors.forbidden('Cross-origin requests are not allowed'));
        return;
      }
      if (options.rendererDir && (req.method === 'GET' || req.method === 'HEAD') && !isApiPath(req.url ?? '/')) {
        const file = serveStatic(options.rendererDir, req.url ?? '/');
        res.writeHead(file.status, file.headers);
        res.end(req.method === 'HEAD' ? undefined : file.body);
        return;
      }
      if (requireToken && !tokenMatches(req.headers.authorization, tokenBytes)) {
        sendError(res, errors.unauthorized('Missing or wrong bearer token'), { 'www-authenticate': 'Bearer' });
        return;
      }
      const body = await readBody(req, host.bodyLimit(req.method ?? 'GET', req.url ?? '/'));
      const request: HostRequest = {
        method: (req.method ?? 'GET').toUpperCase() as HostRequest['method'],
        path: req.url ?? '/',
        headers: headersOf(req),
        body,
      };
      if (requireToken && request.headers) {
        // The adapter's own token is not a session: the host must not read it as one.
        delete request.headers.authorization;
      }
      send(res, await host.handle(request));
    } catch (err) {
      answerUnexpected(res, err);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    tokenFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
