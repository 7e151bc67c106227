// The host: the one door to everything Outpost does. `handle(request)` takes a HostRequest (method,
// path, headers, raw body) from any transport (IPC, loopback HTTP, CLI, tests) and answers as a
// Medplum/FHIR server would. No module-level state: tests run many hosts side by side.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { EmitBridgeEvent } from '../../shared/contract/bridge.ts';
import { MAX_BUNDLE_BODY_BYTES, MAX_JSON_DEPTH, MAX_PATH_CHARS, bodyLimitFor, hostRequestSchema, type HostRequest, type HostResponse } from '../../shared/contract/host.ts';
import { jsonNestsDeeperThan } from '../../shared/json-depth.ts';
import { FhirError, errors, outcome, toErrorResponse } from '../../shared/errors.ts';
import { FHIR_BASE_PATH, FHIR_JSON_UTF8 } from '../../shared/fhir/http.ts';
import { loadFhirDefinitions } from './fhir/definitions.ts';
import { adminRoutes, adminSegmentMatchers } from './admin/index.ts';
import { createAuditLog, type AuditLog } from './audit/log.ts';
import { AUDIT_SPILL_FILE } from './audit/spill.ts';
import { auditMigrations } from './audit/schema.ts';
import { toAccessPolicy } from './access/policy/index.ts';
import { authenticateRequest, authRoutes, bearerToken } from './auth/routes.ts';
import { previewMayRequest } from './auth/view-as.ts';
import { operationAuditEvent } from './audit/events.ts';
import { authMigrations } from './auth/schema.ts';
import { createAuthService } from './auth/service.ts';
import type { AuthService, Session } from './auth/types.ts';
import { createAccess, createReplica, exportTypes, type Access, type Repository } from './access/index.ts';
import { databasePath, ensureDataDir } from './paths.ts';
import { buildCapabilityStatement } from './routes/capability.ts';
import { fhirRoutes, fhirSegmentMatchers } from './routes/fhir.ts';
import { RouteError, createRouter, type Method, type Route, type Router, type SegmentMatchers } from './routes/router.ts';
import { createStore } from './store/index.ts';
import { createOutbox, syncMigrations } from './sync/index.ts';
import type { SecretSealer } from './sync/config.ts';
import { createSyncService, type SyncHostOptions, type SyncService } from './sync/service.ts';
import type { Store } from './store/types.ts';
import { transferMigrations } from './transfer/ledger.ts';
import { createImporter, type Importer } from './transfer/import.ts';
import { importRoutes } from './transfer/routes.ts';

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
  /** Largest request body accepted, in bytes: lowers the limits of shared/contract/host.ts (bodyLimitFor), never raises them. */
  maxBodyBytes?: number;
  /** Told about unexpected (500) errors, which clients only see as "Internal server error". */
  onUnexpectedError?: (err: unknown, req: HostRequest) => void;
  /** Where the host says what no request answers (audit events it had to keep aside or recovered). Default: stderr. */
  log?: (message: string) => void;
  /** Pushes an event to the renderer (Electron); unused until sync and auth events exist. */
  emit?: EmitBridgeEvent;
  /**
   * Extra route tables built on the host's services, tried after the FHIR API (`/fhir/R4`). Mounts that
   * share a prefix ('' included, where the auth routes live) are merged, auth's routes first.
   */
  mounts?: (services: HostServices) => HostMount[];
  /** false turns AuditEvents off: only for measuring their overhead in benchmarks. */
  audit?: boolean;
  /**
   * What a /fhir/R4 request without a session is: 'reject' (401, the default) or 'system' (the host's
   * own trusted context, full access to the default project, audited as system). 'system' is for
   * in-process callers that hold the host object (tests of the store layer, direct CLI commands).
   */
  anonymous?: 'reject' | 'system';
  /** Auth options (idle lock, token lifetimes). */
  authOptions?: { idleLockMs?: number; sessionTtlMs?: number; accessTokenTtlMs?: number };
  /** Seals sync's secrets at rest (Electron: safeStorage); default a 0600 key file in the data folder. */
  secretSealer?: SecretSealer;
  /** Sync with a remote server (electron/host/sync): background loop, fetch, runner options. */
  sync?: SyncHostOptions;
}

/** The host's access service (electron/host/access): every Repository a request or the host's own work uses. */
export interface HostAccess extends Access {
  /** The Repository of a request's bearer token (401 without a valid session). */
  forHeaders(headers: Record<string, string | undefined>): Repository;
}

export interface HostServices {
  auth: AuthService;
  access: HostAccess;
  audit: AuditLog;
}

export interface Host {
  handle(req: HostRequest): Promise<HostResponse>;
  close(): void;
  /**
   * The raw store, around every policy: for tests (seeding, looking at rows) only. Production code
   * reaches the data through `access` (the lint rule outpost/no-raw-store refuses `.rawStore` elsewhere).
   */
  readonly rawStore: Store;
  readonly dataDir: string;
  readonly maxBodyBytes: number;
  /** The largest body a request to `path` may carry (each transport refuses more, 413, before reading it all). */
  bodyLimit(method: string, path: string): number;
  readonly auth: AuthService;
  readonly access: HostAccess;
  readonly audit: AuditLog;
  /** Sync: the remote of each project, the runner (outpost/sync/... routes). */
  readonly sync: SyncService;
  /** Imports of files through a Repository, resumable (outpost import, outpost/import). */
  readonly importer: Importer;
  /** Screen lock / suspend: locks every open session (each unlocks with its password). */
  lockAllSessions(): number;
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
  // Every local change is recorded in sync's outbox inside its own write transaction (electron/host/sync).
  const outbox = createOutbox({ clock: options.clock });
  const store = createStore({
    path,
    key: options.key,
    clock: options.clock,
    migrations: [...authMigrations, ...auditMigrations, ...syncMigrations, ...transferMigrations],
    onChange: outbox.onChange,
    backgroundCheckpoint: true,
  });
  const clock = options.clock ?? (() => new Date());
  const importer = createImporter(store.db);
  const sync = createSyncService({ ...options.sync, store: createReplica(store), db: store.db, outbox, dataDir, sealer: options.secretSealer, clock: options.clock, emit: options.emit });
  const audit = createAuditLog({
    // Every event is written inside a transaction (the change's, or the log's own): no savepoint of its own.
    sink: { db: store.db, createEvent: (event, project) => store.inCallerTransaction.create(event, undefined, { project, validation: 'structure' }).resource.id as string },
    clock,
    enabled: options.audit,
    spillFile: dataDir === ':memory:' ? undefined : join(dataDir, AUDIT_SPILL_FILE),
    key: options.key,
    log: options.log,
  });
  // Audit events an earlier run could not store (see audit/spill.ts) are stored before anything else.
  audit.replaySpilled();
  // The access service is the only holder of the raw store above it: auth's hooks are bound late
  // (auth needs the access service's policies and credentials, access needs auth's session hooks).
  const accessService = createAccess({
    store,
    audit,
    auth: {
      setClientSecret: (clientId, secret) => auth.setClientSecret(clientId, secret),
      endSessionsForMembership: (membershipId, reason) => auth.endSessionsForMembership(membershipId, reason),
    },
  });
  const auth = createAuthService({
    db: store.db,
    credentials: accessService.credentials,
    clock,
    ...options.authOptions,
    audit: (event) => audit.auth(event),
    resolveAccessPolicy: (session) => toAccessPolicy(accessService.policyOf(session)),
    remotePasswordCheck: sync.remotePasswordCheck,
  });
  const access: HostAccess = {
    ...accessService,
    forHeaders(headers) {
      if (!headers.authorization && options.anonymous === 'system') {
        return access.system();
      }
      return access.forSession(authenticateRequest(auth, headers));
    },
  };
  /** The session-scoped store of each FHIR request, set before routing (headers object is the key). */
  const requestStores = new WeakMap<object, Repository>();
  const maxBodyBytes = Math.min(options.maxBodyBytes ?? MAX_BUNDLE_BODY_BYTES, MAX_BUNDLE_BODY_BYTES);
  const bodyLimit = (method: string, path: string): number => bodyLimitFor(method, path, maxBodyBytes);
  const fallbackBase = options.baseUrl ?? 'http://localhost/';
  let capability: CapabilityStatement | undefined;
  let closed = false;

  const fhir = createRouter(
    fhirRoutes({
      storeFor(req) {
        const scoped = requestStores.get(req.headers);
        if (!scoped) {
          throw errors.unauthorized('Authentication required');
        }
        return scoped;
      },
      get capability() {
        capability ??= buildCapabilityStatement(readVersion(), new Date().toISOString());
        return capability;
      },
      context: (req) => ({ baseUrl: req.baseUrl }),
    }),
    fhirSegmentMatchers
  );
  const services: HostServices = { auth, access, audit };
  const extra: HostMount[] = [
    { prefix: '', routes: [meRoute(auth, access), exportTypesRoute(auth, access), ...authRoutes(auth)] },
    // First-run setup, project administration (invite, passwords, memberships) and the policy review.
    { prefix: '', routes: adminRoutes({ directory: auth.directory, auth, access, audit, clock }), matchers: adminSegmentMatchers },
    // Sync: status, run, conflicts, the project's remote (outpost/sync/...).
    { prefix: '', ...sync.mount({ audit, auth, forSession: (session) => access.forSession(session) }) },
    // The app's import of files, resumable like the command line's (outpost/import).
    { prefix: '', routes: importRoutes({ auth, access, importer }) },
    ...(options.mounts?.(services) ?? []),
  ];
  const byPrefix = new Map<string, HostMount>();
  for (const m of extra) {
    const prefix = m.prefix.replace(/\/+$/, '');
    const known = byPrefix.get(prefix);
    byPrefix.set(prefix, known ? { prefix, routes: [...known.routes, ...m.routes], matchers: { ...known.matchers, ...m.matchers } } : { ...m, prefix });
  }
  // Longest prefix first, so '' (the host root) is tried last.
  const mounts: CompiledMount[] = [
    { prefix: FHIR_BASE_PATH, router: fhir },
    ...[...byPrefix.values()].sort((a, b) => b.prefix.length - a.prefix.length).map((m) => ({ prefix: m.prefix, router: createRouter(m.routes, m.matchers ?? {}) })),
  ];

  /**
   * A "view as" preview is read-only on every route (FHIR, Bundles, patches, admin, sync, auth): anything
   * but a read is refused here, before any handler runs, and the attempt is audited as the administrator's.
   */
  function refuseWritesOfPreview(method: string, path: string, headers: Record<string, string>): void {
    const pathname = path.split('?')[0];
    if (!headers.authorization || previewMayRequest(method, pathname)) {
      return;
    }
    let session: Session | undefined;
    try {
      session = auth.authenticate(bearerToken(headers) ?? '');
    } catch {
      return; // not a valid session: the route answers 401 itself
    }
    const viewAs = session.viewAs;
    if (!viewAs) {
      return;
    }
    const reason = `A "view as" preview is read-only: ${method} ${pathname} refused`;
    audit.write(
      operationAuditEvent({
        action: 'view-as-write-refused',
        project: session.projectId,
        agent: { who: viewAs.admin, user: { reference: `User/${viewAs.adminUserId}` }, viewing: session.profile },
        outcome: 'denied',
        reason,
        recorded: clock().toISOString(),
      }),
      session.projectId
    );
    throw errors.forbidden(reason);
  }

  async function dispatch(req: HostRequest): Promise<HostResponse> {
    if (closed) {
      throw new FhirError(503, outcome('error', 'transient', 'The host is closed'));
    }
    if (!METHODS.has(String(req.method))) {
      throw errors.methodNotAllowed(`Unsupported method: ${String(req.method)}`);
    }
    if (typeof req.path === 'string' && req.path.length > MAX_PATH_CHARS) {
      throw errors.headersTooLarge(`Request URL longer than ${MAX_PATH_CHARS} characters`);
    }
    if (typeof req.body === 'string') {
      const limit = bodyLimit(String(req.method), String(req.path));
      // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: only a body that may be over is measured.
      if (req.body.length * 3 > limit && Buffer.byteLength(req.body, 'utf8') > limit) {
        throw errors.tooLarge(`Request body over ${limit} bytes`);
      }
      if (/^\s*[[{]/.test(req.body) && jsonNestsDeeperThan(req.body, MAX_JSON_DEPTH)) {
        throw errors.badRequest(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
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
    refuseWritesOfPreview(method, path, lowerHeaders);
    if (found.mount.router === fhir && !(found.segments.length === 1 && found.segments[0] === 'metadata')) {
      // Every FHIR request but the CapabilityStatement runs as a session, through the enforcement point.
      requestStores.set(lowerHeaders, access.forHeaders(lowerHeaders));
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
    rawStore: store,
    dataDir,
    maxBodyBytes,
    bodyLimit,
    auth,
    access,
    audit,
    sync,
    importer,
    lockAllSessions: () => auth.lockAllSessions(),
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
        sync.stop();
        audit.close();
        store.close();
      }
    },
  };
}


/** GET outpost/export/types: the types the session's export holds (the CLI's export list, see exportTypes). */
function exportTypesRoute(auth: AuthService, access: HostAccess): Route {
  return {
    method: 'GET',
    pattern: 'outpost/export/types',
    handler: (req) => ({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { types: exportTypes(access.forSession(authenticateRequest(auth, req.headers))) } }),
  };
}

/** GET /auth/me with the profile as the session may read it (hidden fields removed and marked). */
function meRoute(auth: AuthService, access: HostAccess): Route {
  return {
    method: 'GET',
    pattern: 'auth/me',
    handler: (req) => {
      const session = authenticateRequest(auth, req.headers);
      const me = auth.me(session);
      const [type, id] = (session.profile.reference ?? '').split('/');
      let profile: Record<string, unknown> = { resourceType: type, id };
      // Only a role that may read its profile's type asks for it: a refused read would be audited as a
      // denied request of the person at every sign-in (the researcher's policy has no Practitioner).
      const readable = !me.accessPolicy || me.accessPolicy.resource?.some((e) => (e.resourceType === type || e.resourceType === '*') && (e.interaction ?? []).includes('read'));
      if (readable) {
        try {
          profile = access.forSession(session).read(type, id) as unknown as Record<string, unknown>;
        } catch {
          // Not visible to its own role (criteria): identity only.
        }
      }
      const viewAs = session.viewAs ? { viewAs: { admin: session.viewAs.admin } } : {};
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { ...me, profile, ...viewAs } };
    },
  };
}
