// Browser mode's serving of the built renderer: content types, CSP and nosniff, SPA fallback, missing
// assets and traversal refused.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost } from '../../electron/host/host.ts';
import { startHttpServer } from '../../electron/host/http.ts';
import { isApiPath, serveStatic } from '../../electron/host/static.ts';

let root: string;
let outside: string;

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'outpost-static-'));
  root = join(base, 'renderer');
  outside = join(base, 'secret.txt');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Outpost</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(outside, 'secret');
  symlinkSync(outside, join(root, 'assets', 'link.txt'));
});

afterAll(() => rmSync(join(root, '..'), { recursive: true, force: true }));

describe('serveStatic', () => {
  it('serves files with their content type, the CSP and nosniff', () => {
    const html = serveStatic(root, '/');
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toContain("script-src 'self'");
    expect(html.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.headers['cache-control']).toBe('no-cache');
    const js = serveStatic(root, '/assets/index-abc.js?v=1');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.body.toString()).toBe('console.log(1)');
    expect(serveStatic(root, '/assets/index-abc.css').headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers client-side routes with index.html, and missing assets with 404', () => {
    const route = serveStatic(root, '/patients/123');
    expect(route.status).toBe(200);
    expect(route.body.toString()).toContain('<title>Outpost</title>');
    expect(serveStatic(root, '/assets/missing.js').status).toBe(404);
  });

  it('refuses paths that leave the folder, encoded or through a symlink', () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/link.txt', '/%00', '/a\\..\\..\\secret.txt', '/%E0%A4%A']) {
      const res = serveStatic(root, path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain('secret');
    }
  });

  it('says the renderer is not built when the folder is missing', () => {
    expect(serveStatic(join(root, 'nope'), '/').status).toBe(503);
  });
});

describe('the loopback adapter serving the renderer', () => {
  it('serves the app without the token, and still guards the API', async () => {
    const host = createHost({ dataDir: ':memory:' });
    const server = await startHttpServer(host, { token: 'secret-token', rendererDir: root });
    try {
      const page = await fetch(`${server.url}/patients/1`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<title>Outpost</title>');
      expect((await fetch(`${server.url}/fhir/R4/metadata`)).status).toBe(401);
      const api = await fetch(`${server.url}/fhir/R4/metadata`, { headers: { authorization: 'Bearer secret-token' } });
      expect(api.status).toBe(200);
      expect((await fetch(`${server.url}/index.html`, { method: 'POST' })).status).toBe(401);
    } finally {
      await server.close();
      host.close();
    }
  });

  it("tells API paths from the app's", () => {
    expect(isApiPath('/fhir/R4/Patient?name=x')).toBe(true);
    expect(isApiPath('/auth/login')).toBe(true);
    expect(isApiPath('/oauth2/token')).toBe(true);
    expect(isApiPath('/fhirish')).toBe(false);
    expect(isApiPath('/')).toBe(false);
    expect(isApiPath('/assets/index.js')).toBe(false);
  });
});
