// The `app://outpost/` protocol: serves the built renderer's files, and nothing else, to the window.
// Loading from a privileged standard scheme (rather than file://) gives the renderer a real origin to
// check IPC senders against, lets the CSP say 'self', and keeps every other local file out of reach.
// The files are answered by the same code as browser mode (electron/host/static.ts): one place that
// refuses traversal and symlinks leading out, and one Content-Security-Policy for both modes.
import { RENDERER_CSP, serveStatic } from '../host/static.ts';

/** Headers of the protocol's own refusals (the static server's answers carry the same policy). */
const REFUSAL_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': RENDERER_CSP,
  'x-content-type-options': 'nosniff',
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
};

export const APP_SCHEME = 'app';
export const APP_HOST = 'outpost';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The privileges `protocol.registerSchemesAsPrivileged` gives the scheme (before the app is ready). */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
} as const;

/** True when `url` belongs to the app's own origin (`app://outpost`). */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) {
    return false;
  }
  try {
    // WHATWG URL gives non-special schemes an opaque 'null' origin, so compare scheme and host instead.
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

export interface AppProtocolOptions {
  /** The built renderer folder (holds index.html). */
  rootDir: string;
}

/**
 * The handler given to `protocol.handle(APP_SCHEME, ...)`: GET/HEAD of files under `rootDir` (a path
 * without an extension that names no file is the app's page, so client-side routes survive a reload),
 * with the renderer's CSP and companion headers on every answer.
 */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const refusal = (status: number, text: string) => new Response(text, { status, headers: REFUSAL_HEADERS });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return refusal(405, 'Method not allowed');
    }
    if (!isAppUrl(request.url)) {
      return refusal(404, 'Not found');
    }
    const url = new URL(request.url);
    const answer = serveStatic(options.rootDir, url.pathname + url.search);
    const body = request.method === 'HEAD' ? null : new Uint8Array(answer.body);
    return new Response(body, { status: answer.status, headers: answer.headers });
  };
}
