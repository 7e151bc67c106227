// A raw HTTP/1.1 client for the fuzz suite: it writes exactly the bytes it is given (NUL and control
// characters in header values, a Content-Length that lies, invalid UTF-8 in the body), which fetch and
// Node's http client refuse to send, and reads whatever comes back until the server closes.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** Request target as sent, e.g. `/fhir/R4/Patient?name=%00`. */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Sent instead of the body's real length ('' leaves the header out, as a chunk-less streamed body would). */
  contentLength?: string;
  /** The client gives up this long after sending (a body cut short): the connection is reset, no answer expected. */
  abortAfterMs?: number;
}

export type RawAnswer = { status: number; headers: Record<string, string>; body: Buffer } | { dropped: string } | { aborted: true };

/** Sends one request on its own connection (Connection: close) and reads the whole answer. */
export function sendRaw(port: number, req: RawRequest, timeoutMs = 15_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (answer: RawAnswer): void => {
      if (!done) {
        done = true;
        socket.destroy();
        resolve(answer);
      }
    };
    socket.setTimeout(timeoutMs, () => finish({ dropped: `no answer in ${timeoutMs} ms` }));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      // A write refused after the server answered early (413 before the body) is not a dropped request.
      if (chunks.length === 0) finish({ dropped: `socket error: ${err.message}` });
    });
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) {
        finish({ dropped: raw.length ? `an incomplete answer: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}` : 'the connection closed without an answer' });
        return;
      }
      const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = raw.subarray(split + 4);
      const length = headers['content-length'];
      if (length !== undefined && /^\d+$/.test(length)) body = body.subarray(0, Number(length));
      if (!Number.isInteger(status)) {
        finish({ dropped: `no status line: ${JSON.stringify(statusLine.slice(0, 200))}` });
        return;
      }
      finish({ status, headers, body });
    });
    socket.on('connect', () => {
      const body = req.body ?? Buffer.alloc(0);
      const lengthHeader = req.contentLength === undefined ? (req.body ? `Content-Length: ${body.length}\r\n` : '') : req.contentLength === '' ? '' : `Content-Length: ${req.contentLength}\r\n`;
      const head = `${req.method} ${req.target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${req.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}${lengthHeader}\r\n`;
      socket.write(Buffer.from(head, 'latin1'));
      if (body.length) socket.write(body);
      // No half-close: a client that sends FIN before the answer tells Node's server it is gone.
      if (req.abortAfterMs !== undefined) {
        setTimeout(() => finish({ aborted: true }), req.abortAfterMs);
      }
    });
  });
}
