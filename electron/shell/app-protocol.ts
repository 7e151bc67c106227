// The `app://outpost/` protocol: serves the built renderer's files, and nothing else, to the window.
// Loading from a privileged standard scheme (rather than file://) gives the renderer a real origin to
// check IPC senders against, lets the CSP say 'self', and keeps every other local file out of reach.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SECURITY_HEADERS } from './csp.ts';

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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

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

/**
 * Maps a request path onto a file under `rootDir`, or null when it would leave it (`..`, encoded
 * separators, NUL bytes, absolute paths). Paths ending in `/` mean their `index.html`.
 */
export function resolveAppPath(rootDir: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) {
    return null;
  }
  const relativePath = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const root = resolve(rootDir);
  const target = resolve(root, `.${relativePath.startsWith('/') ? '' : '/'}${relativePath}`);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    return null;
  }
  return target;
}

function respond(status: number, body: BodyInit | null, contentType = 'text/plain; charset=utf-8'): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': contentType, 'cache-control': 'no-cache' },
  });
}

async function isFileInside(root: string, file: string): Promise<boolean> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    // A symlink inside the renderer folder must not lead out of it.
    return realFile.startsWith(realRoot + sep) && (await stat(realFile)).isFile();
  } catch {
    return false;
  }
}

export interface AppProtocolOptions {
  /** The built renderer folder (holds index.html). */
  rootDir: string;
}

/**
 * The handler given to `protocol.handle(APP_SCHEME, ...)`: GET/HEAD of files under `rootDir`, with the
 * CSP on every answer. A path without an extension that names no file falls back to index.html so the
 * renderer's client-side routes survive a reload.
 */
export function createAppProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const root = resolve(options.rootDir);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return respond(405, 'Method not allowed');
    }
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return respond(400, 'Bad request');
    }
    if (!isAppUrl(url.href)) {
      return respond(404, 'Not found');
    }
    let file = resolveAppPath(root, url.pathname === '/' ? '/index.html' : url.pathname);
    if (file === null) {
      return respond(404, 'Not found');
    }
    if (!(await isFileInside(root, file))) {
      if (extname(file) !== '') {
        return respond(404, 'Not found');
      }
      file = resolve(root, 'index.html');
      if (!(await isFileInside(root, file))) {
        return respond(404, 'Not found');
      }
    }
    const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const body = request.method === 'HEAD' ? null : new Uint8Array(await readFile(file));
    return respond(200, body, contentType);
  };
}
