// The two transports behind the renderer's one client. Both are a `fetch`: MedplumClient cannot tell
// which one it was given, and neither can the rest of the renderer.
// - Electron: `window.outpost.request(envelope)` (the preload bridge, shared/contract/bridge.ts).
// - Browser mode: the page's own origin over HTTP (the loopback server serves the renderer and the API).
import type { OutpostBridge } from '../../../shared/contract/bridge.ts';
import type { HostRequest, HostResponse } from '../../../shared/contract/host.ts';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Base URL MedplumClient builds its URLs on in Electron. Never reached over a network: the IPC fetch keeps only path and query. */
export const IPC_BASE_URL = 'http://outpost.ipc/';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers ?? {}).forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

function bodyText(body: BodyInit | null | undefined): string | undefined {
  if (body === undefined || body === null) {
    return undefined;
  }
  if (typeof body === 'string') {
    return body;
  }
  if (body instanceof URLSearchParams) {
    return body.toString();
  }
  throw new TypeError('The IPC transport sends text bodies only');
}

/** Turns a fetch call into the host's envelope. */
export function toHostRequest(input: string | URL, init: RequestInit = {}): HostRequest {
  const url = new URL(String(input), IPC_BASE_URL);
  const method = (init.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) {
    throw new TypeError(`Unsupported method: ${method}`);
  }
  return { method: method as HostRequest['method'], path: url.pathname + url.search, headers: headerRecord(init.headers), body: bodyText(init.body) };
}

/** Turns the host's answer into a fetch Response. */
export function toResponse(reply: HostResponse): Response {
  const headers = new Headers(reply.headers);
  const empty = reply.status === 204 || reply.status === 304 || reply.body === undefined || reply.body === null;
  const text = empty ? null : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  if (text !== null && !headers.has('content-type')) {
    headers.set('content-type', typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/fhir+json; charset=utf-8');
  }
  if (text === null) {
    headers.set('content-length', '0');
  }
  return new Response(text, { status: reply.status, headers });
}

/** A fetch over the Electron bridge. */
export function ipcFetch(bridge: OutpostBridge): FetchLike {
  return async (input, init) => {
    if (init?.signal?.aborted) {
      throw new DOMException('The request was aborted', 'AbortError');
    }
    return toResponse(await bridge.request(toHostRequest(input, init)));
  };
}

export interface Transport {
  kind: 'ipc' | 'http';
  baseUrl: string;
  fetch: FetchLike;
  bridge?: OutpostBridge;
}

/** IPC when the preload exposed `window.outpost`, same-origin HTTP otherwise. */
export function pickTransport(win: { outpost?: OutpostBridge; location: { origin: string }; fetch: typeof fetch }): Transport {
  if (win.outpost && typeof win.outpost.request === 'function') {
    return { kind: 'ipc', baseUrl: IPC_BASE_URL, fetch: ipcFetch(win.outpost), bridge: win.outpost };
  }
  return { kind: 'http', baseUrl: `${win.location.origin}/`, fetch: (input, init) => win.fetch(input, init) };
}
