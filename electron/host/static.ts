// Serves the built renderer (dist/renderer) in browser mode: GET/HEAD of its files with the right
// content types, the CSP and nosniff on every answer, paths that would leave the folder refused, and
// index.html for client-side routes (paths without an extension that name no file).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

export interface StaticResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The renderer's CSP in browser mode: its own origin only, no inline script or style, no eval, no frames. */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': RENDERER_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

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

/** Paths the host's router answers; every other GET is the renderer's (a file or a client-side route). */
export const API_PREFIXES: readonly string[] = ['/fhir', '/auth', '/oauth2', '/admin', '/outpost', '/scim', '/.well-known'];

export function isApiPath(urlPath: string): boolean {
  const pathname = urlPath.split(/[?#]/)[0];
  return API_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

function answer(status: number, body: Buffer | string, contentType: string, cache: string): StaticResponse {
  const buffer = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    status,
    headers: { ...HEADERS, 'content-type': contentType, 'content-length': String(buffer.length), 'cache-control': cache },
    body: buffer,
  };
}

const notFound = (): StaticResponse => answer(404, 'Not found', 'text/plain; charset=utf-8', 'no-store');

/** The real path of a regular file under root, or undefined (missing, a folder, or a symlink leading out). */
function fileInside(root: string, candidate: string): string | undefined {
  try {
    const real = realpathSync(candidate);
    return real.startsWith(root + sep) && statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers a GET for `urlPath` (path and optional query) from the built renderer in `rootDir`.
 * Never throws: a traversal attempt or a missing asset is a 404, a missing renderer build a 503.
 */
export function serveStatic(rootDir: string, urlPath: string): StaticResponse {
  let root: string;
  try {
    root = realpathSync(resolve(rootDir));
  } catch {
    return answer(503, 'The renderer is not built: run `npm run build`.', 'text/plain; charset=utf-8', 'no-store');
  }
  const pathname = urlPath.split(/[?#]/)[0] || '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return notFound();
  }
  if (decoded.includes('\0') || decoded.includes('\\') || !decoded.startsWith('/')) {
    return notFound();
  }
  const wanted = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const target = resolve(root, `.${wanted}`);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    return notFound();
  }
  let file = fileInside(root, target);
  if (!file) {
    // A client-side route (no extension): the app's shell. A missing asset stays a 404.
    if (extname(target) !== '') {
      return notFound();
    }
    file = fileInside(root, resolve(root, 'index.html'));
    if (!file) {
      return answer(503, 'The renderer is not built: run `npm run build`.', 'text/plain; charset=utf-8', 'no-store');
    }
  }
  const ext = extname(file).toLowerCase();
  // Vite names assets by content hash: they never change, index.html always may.
  const cache = rel.startsWith(`assets${sep}`) && ext !== '.html' ? 'public, max-age=31536000, immutable' : 'no-cache';
  return answer(200, readFileSync(file), CONTENT_TYPES[ext] ?? 'application/octet-stream', cache);
}
