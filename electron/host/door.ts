// The host's one door: `handle(request)` takes a HostRequest (method, path, headers, raw body) from any
// transport (IPC, loopback HTTP, CLI, tests), refuses what no route should see (oversized, too deep,
// malformed, a "view as" preview's writes), finds the route in the one table, establishes its caller
// (the session and its enforced Repository) and answers as a Medplum/FHIR server would. Every failure
// is an OperationOutcome with its status.
import type { RouteContract } from '../../shared/contract/route.ts';
import { MAX_BUNDLE_BODY_BYTES, MAX_JSON_DEPTH, MAX_PATH_CHARS, bodyLimitFor, hostRequestSchema, type HostRequest, type HostResponse } from '../../shared/contract/host.ts';
import { FhirError, errors, outcome } from '../../shared/errors.ts';
import { jsonNestsDeeperThan } from '../../shared/json-depth.ts';
import type { Access } from './access/index.ts';
import { operationAuditEvent } from './audit/events.ts';
import type { AuditLog } from './audit/log.ts';
import type { AuthService, Session } from './auth/types.ts';
import { previewMayRequest } from './auth/view-as.ts';
import { replyMismatch } from './routes/contract.ts';
import { respondError } from './routes/respond.ts';
import { bearerToken, createRouter, type CallerResolver, type DispatchRequest, type Method, type Route, type Router } from './routes/router.ts';

export interface DoorOptions {
  routes: Route[];
  auth: AuthService;
  access: Pick<Access, 'forSession' | 'system'>;
  audit: AuditLog;
  clock: () => Date;
  /** Base URL for links when a request carries no Host header (IPC, CLI). Default 'http://localhost/'. */
  baseUrl?: string;
  /** Largest request body accepted, in bytes: lowers the limits of shared/contract/host.ts, never raises them. */
  maxBodyBytes?: number;
  /** What a FHIR request without a session is: 'reject' (401) or 'system' (the host's own work; in-process callers only). */
  anonymous?: 'reject' | 'system';
  /**
   * Check every reply of the host's own API against its contract (a mismatch is a 500 told to
   * onUnexpectedError). Default: on in tests and development (NODE_ENV 'test' or 'development').
   */
  checkReplies?: boolean;
  /** Told about unexpected (500) errors, which clients only see as "Internal server error". */
  onUnexpectedError?: (err: unknown, req: HostRequest) => void;
}

export interface Door {
  handle(req: HostRequest): Promise<HostResponse>;
  /** The largest body a request to `path` may carry (each transport refuses more, 413, before reading it all). */
  bodyLimit(method: string, path: string): number;
  readonly maxBodyBytes: number;
  /** The route table (what the contract tests walk). */
  readonly router: Router;
  /** From now on every request is a 503. */
  close(): void;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function originOf(headers: Record<string, string>, fallback: string): string {
  const host = headers.host;
  const root = host && /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? `http://${host}/` : fallback;
  return `${root.replace(/\/+$/, '')}/`;
}

/** The decoded segments of a path and its raw query. */
function splitPath(path: string): { segments: string[]; query: string } {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  try {
    return { segments: pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s)), query: q < 0 ? '' : path.slice(q + 1) };
  } catch {
    throw errors.badRequest('Malformed percent-encoding in the path');
  }
}

export function createDoor(options: DoorOptions): Door {
  const { auth, access, audit, clock } = options;
  const router = createRouter(options.routes);
  const maxBodyBytes = Math.min(options.maxBodyBytes ?? MAX_BUNDLE_BODY_BYTES, MAX_BUNDLE_BODY_BYTES);
  const bodyLimit = (method: string, path: string): number => bodyLimitFor(method, path, maxBodyBytes);
  const fallbackOrigin = options.baseUrl ?? 'http://localhost/';
  const checkReplies = options.checkReplies ?? ['test', 'development'].includes(process.env.NODE_ENV ?? '');
  let closed = false;

  const sessionOf = (headers: Record<string, string>): Session => {
    const token = bearerToken(headers);
    if (!token) {
      throw errors.unauthorized('Authentication required');
    }
    return auth.authenticate(token);
  };
  const resolver: CallerResolver = {
    caller(headers) {
      const session = sessionOf(headers);
      return { session, repo: access.forSession(session) };
    },
    repository(headers) {
      if (!headers.authorization && options.anonymous === 'system') {
        return access.system();
      }
      return access.forSession(sessionOf(headers));
    },
  };

  /**
   * A "view as" preview is read-only on every route (FHIR, Bundles, patches, admin, sync, auth): anything
   * but a read is refused here, before any handler runs, and the attempt is audited as the administrator's.
   */
  function refuseWritesOfPreview(method: string, pathname: string, headers: Record<string, string>): void {
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

  /** The request checked and split for the route table. */
  function prepare(req: HostRequest): DispatchRequest & { head: boolean } {
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
    const { segments, query } = splitPath(path);
    const lowerHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      lowerHeaders[name.toLowerCase()] = value;
    }
    refuseWritesOfPreview(method, path.split('?')[0], lowerHeaders);
    return { method: (method === 'HEAD' ? 'GET' : method) as Method, head: method === 'HEAD', segments, query, headers: lowerHeaders, body, origin: originOf(lowerHeaders, fallbackOrigin) };
  }

  return {
    router,
    maxBodyBytes,
    bodyLimit,
    async handle(req) {
      let contract: RouteContract | undefined;
      let response: HostResponse;
      try {
        const request = prepare(req);
        const matched = router.match(request);
        contract = matched.route.contract;
        const answer = await router.run(matched, request, resolver);
        response = request.head ? { status: answer.status, headers: answer.headers } : answer;
        if (request.head) {
          contract = undefined; // no body to check
        }
      } catch (err) {
        response = respondError(err);
        if (response.status >= 500) {
          options.onUnexpectedError?.(err, req);
        }
      }
      const mismatch = checkReplies && contract ? replyMismatch(contract, response) : undefined;
      if (mismatch) {
        const err = errors.internal(`The reply does not match its contract: ${mismatch}`);
        options.onUnexpectedError?.(err, req);
        return respondError(err);
      }
      return response;
    },
    close() {
      closed = true;
    },
  };
}
