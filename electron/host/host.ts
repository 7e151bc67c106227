// The host: the one door to everything Outpost does. `handle(request)` takes a HostRequest (method,
// path, headers, raw body) from any transport (IPC, loopback HTTP, CLI, tests) and answers as a
// Medplum/FHIR server would. No module-level state: tests run many hosts side by side.
import { readFileSync } from 'node:fs';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { EmitBridgeEvent } from '../../shared/contract/bridge.ts';
import { MAX_BODY_BYTES, hostRequestSchema, type HostRequest, type HostResponse } from '../../shared/contract/host.ts';
import { FhirError, errors, outcome, toErrorResponse } from '../../shared/errors.ts';
import { FHIR_BASE_PATH, FHIR_JSON_UTF8 } from '../../shared/fhir/http.ts';
import { loadFhirDefinitions } from './fhir/definitions.ts';
import { databasePath, ensureDataDir } from './paths.ts';
import { buildCapabilityStatement } from './routes/capability.ts';
import { fhirRoutes, fhirSegmentMatchers } from './routes/fhir.ts';
import { RouteError, createRouter, type Method, type Route, type Router, type SegmentMatchers } from './routes/router.ts';
import { createStore } from './store/index.ts';
import type { Store } from './store/types.ts';

/** Another domain of routes (e.g. auth under '/auth', '/oauth2'), mounted at `prefix` ('' = the host root). */
export interface HostMount {
  prefix: string;
  routes: Route[];
  matchers?: SegmentMatchers;
}

export interface HostOptions {
  /** The data folder (holds outpost.db), or ':memory:' for a throwaway in-memory store. */
  dataDir: string;
  /** SQLCipher key of the database (the CLI reads it from outpost.key). */
  key?: string;
  clock?: () => Date;
  /** Base URL for links when a request carries no Host header (IPC, CLI). Default 'http://localhost/'. */
  baseUrl?: string;
  /** Largest request body accepted, in bytes (default and ceiling: MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Told about unexpected (500) errors, which clients only see as "Internal server error". */
  onUnexpectedError?: (err: unknown, req: HostRequest) => void;
  /** Pushes an event to the renderer (Electron); unused until sync and auth events exist. */
  emit?: EmitBridgeEvent;
  /** Extra route tables built on the host's store, tried after the FHIR API (`/fhir/R4`). */
  mounts?: (store: Store) => HostMount[];
}

export interface Host {
  handle(req: HostRequest): Promise<HostResponse>;
  close(): void;
  readonly store: Store;
  readonly dataDir: string;
  readonly maxBodyBytes: number;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function errorResponse(err: unknown): HostResponse {
  const { status, outcome } = toErrorResponse(err);
  const headers: Record<string, string> = { 'content-type': FHIR_JSON_UTF8 };
  if (err instanceof RouteError) {
    Object.assign(headers, err.headers);
  }
  return { status, headers, body: outcome };
}

interface CompiledMount {
  prefix: string;
  router: Router;
}

/** The mount whose prefix the path is under, with the decoded segments after it and the raw query. */
function route(mounts: CompiledMount[], path: string): { mount: CompiledMount; segments: string[]; query: string } | undefined {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q + 1);
  const mount = mounts.find((m) => m.prefix === '' || pathname === m.prefix || pathname.startsWith(m.prefix + '/'));
  if (!mount) {
    return undefined;
  }
  const rest = pathname.slice(mount.prefix.length).split('/').filter((s) => s !== '');
  try {
    return { mount, segments: rest.map((s) => decodeURIComponent(s)), query };
  } catch {
    throw errors.badRequest('Malformed percent-encoding in the path');
  }
}

function baseUrlFor(headers: Record<string, string>, fallback: string, prefix: string): string {
  const host = headers.host;
  const root = host && /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? `http://${host}/` : fallback;
  return `${root.replace(/\/+$/, '')}${prefix}/`;
}

export function createHost(options: HostOptions): Host {
  loadFhirDefinitions();
  const dataDir = options.dataDir;
  const path = dataDir === ':memory:' ? ':memory:' : databasePath(ensureDataDir(dataDir));
  const store = createStore({ path, key: options.key, clock: options.clock });
  const maxBodyBytes = Math.min(options.maxBodyBytes ?? MAX_BODY_BYTES, MAX_BODY_BYTES);
  const fallbackBase = options.baseUrl ?? 'http://localhost/';
  let capability: CapabilityStatement | undefined;
  let closed = false;

  const fhir = createRouter(
    fhirRoutes({
      store,
      get capability() {
        capability ??= buildCapabilityStatement(readVersion(), new Date().toISOString());
        return capability;
      },
      context: (req) => ({ baseUrl: req.baseUrl }),
    }),
    fhirSegmentMatchers
  );
  const mounts: CompiledMount[] = [
    { prefix: FHIR_BASE_PATH, router: fhir },
    ...(options.mounts?.(store) ?? []).map((m) => ({ prefix: m.prefix.replace(/\/+$/, ''), router: createRouter(m.routes, m.matchers ?? {}) })),
  ];

  async function dispatch(req: HostRequest): Promise<HostResponse> {
    if (closed) {
      throw new FhirError(503, outcome('error', 'transient', 'The host is closed'));
    }
    if (!METHODS.has(String(req.method))) {
      throw errors.methodNotAllowed(`Unsupported method: ${String(req.method)}`);
    }
    if (req.body !== undefined && Buffer.byteLength(req.body, 'utf8') > maxBodyBytes) {
      throw errors.tooLarge(`Request body over ${maxBodyBytes} bytes`);
    }
    const parsed = hostRequestSchema.safeParse(req);
    if (!parsed.success) {
      throw errors.badRequest(`Malformed request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    const { method, path, headers, body } = parsed.data;
    if (method === 'OPTIONS') {
      throw errors.methodNotAllowed('OPTIONS is not supported');
    }
    const found = route(mounts, path);
    if (!found) {
      throw errors.notFound(`Not found: ${path.split('?')[0]}`);
    }
    const lowerHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      lowerHeaders[name.toLowerCase()] = value;
    }
    const routed = await found.mount.router.dispatch({
      method: (method === 'HEAD' ? 'GET' : method) as Method,
      segments: found.segments,
      query: found.query,
      headers: lowerHeaders,
      body,
      baseUrl: baseUrlFor(lowerHeaders, fallbackBase, found.mount.prefix),
    });
    return method === 'HEAD' ? { status: routed.status, headers: routed.headers } : routed;
  }

  return {
    store,
    dataDir,
    maxBodyBytes,
    async handle(req) {
      try {
        return await dispatch(req);
      } catch (err) {
        const response = errorResponse(err);
        if (response.status >= 500) {
          options.onUnexpectedError?.(err, req);
        }
        return response;
      }
    },
    close() {
      if (!closed) {
        closed = true;
        store.close();
      }
    },
  };
}

