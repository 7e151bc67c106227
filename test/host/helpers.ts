// Helpers for the host tests: a host on a fresh data folder, a request shorthand, and row counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResponse } from '../../shared/contract/host.ts';
import { createHost, type Host, type HostOptions } from '../../electron/host/host.ts';

export interface TestHost extends Host {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HostResponse & { body: any }>;
  counts(): { resource: number; history: number };
  dispose(): void;
}

export function tempDir(prefix = 'outpost-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A host on a new temporary data folder; `call` takes paths relative to /fhir/R4/. */
export function makeHost(options: Partial<HostOptions> = {}): TestHost {
  const dataDir = options.dataDir ?? tempDir();
  const host = createHost({ anonymous: 'system', audit: false, ...options, dataDir });
  return Object.assign(host, {
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const contentType: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/fhir+json' };
      return (await host.handle({
        method: method as 'GET',
        path: path.startsWith('/') ? path : `/fhir/R4/${path}`,
        headers: { ...contentType, ...headers },
        body: text,
      })) as HostResponse & { body: any };
    },
    counts() {
      const one = (sql: string): number => (host.rawStore.db.prepare(sql).get() as { n: number }).n;
      return { resource: one('SELECT count(*) AS n FROM resource'), history: one('SELECT count(*) AS n FROM resource_history') };
    },
    dispose() {
      host.close();
      if (!options.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  });
}

/** The path and query of an absolute link, for following it through host.handle. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

export const patient = (family: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ family, given: ['Test'] }],
  ...extra,
});
