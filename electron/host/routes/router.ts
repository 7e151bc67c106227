// The routes kit's router: one table of routes, each { method, pattern from the host root, access,
// handler }, that every domain (FHIR REST, auth, admin, sync, transfer) contributes to. Matching is by
// path segments; a path some route knows under another method is a 405 with `Allow`, a path nobody
// knows a 404. The wrappers below take their input and reply types from where they are used (a
// contract's `route(entry, authenticated(...))`), never from the handler. Who the caller is comes from the door (host.ts), resolved before the handler runs, so a
// handler never authenticates by itself and never sees more than its caller's Repository.
import type { HostResponse } from '../../../shared/contract/host.ts';
import type { RouteContract } from '../../../shared/contract/route.ts';
import { FhirError, errors } from '../../../shared/errors.ts';
import type { Repository } from '../access/index.ts';
import type { Session } from '../auth/types.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler receives: the request with its path split and decoded, and the matched parameters. */
export interface RouteRequest<I = unknown> {
  method: Method;
  /** Decoded path segments from the host root ('fhir', 'R4', 'Patient', '123'). */
  segments: string[];
  /** Raw query string without '?', as sent (search hands it to the engine untouched). */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body?: string;
  /** Absolute URL of the host root, ending in '/', e.g. 'http://127.0.0.1:8103/'. */
  origin: string;
  /** Values of the pattern's `:name` segments. */
  params: Record<string, string>;
  /** The query and body as the route's contract parses them (400 naming the field); parsed on first call. */
  input(): I;
}

/** Who a request runs as: its session and the session's enforced Repository (the access layer's). */
export interface Caller {
  session: Session;
  repo: Repository;
}

/** A reply whose body has a known type (a HostResponse). */
export interface Answer<B = unknown> extends HostResponse {
  body?: B;
}

type Result<B> = Answer<B> | Promise<Answer<B>>;

export type PublicHandler<I = unknown, B = unknown> = (req: RouteRequest<I>) => Result<B>;
export type SessionHandler<I = unknown, B = unknown> = (req: RouteRequest<I>, caller: Caller) => Result<B>;
export type RepositoryHandler<I = unknown, B = unknown> = (req: RouteRequest<I>, repo: Repository) => Result<B>;

/**
 * How a route's caller is established before its handler runs:
 * - 'public': not at all (sign-in, setup, the CapabilityStatement; lock and sign-out read the bearer token themselves);
 * - 'session': a signed-in session, 401 without one; the handler gets the session and its Repository;
 * - 'repository': the same, the handler gets only the Repository (the FHIR API; a host made for
 *   in-process callers with `anonymous: 'system'` hands a request without a token the host's own).
 */
export type Guarded<I = unknown, B = unknown> =
  | { access: 'public'; handle: PublicHandler<I, B> }
  | { access: 'session'; handle: SessionHandler<I, B> }
  | { access: 'repository'; handle: RepositoryHandler<I, B> };

/** A handler that needs a signed-in session: it gets the session and that session's enforced Repository. */
export function authenticated<I = unknown, B = unknown>(handle: SessionHandler<NoInfer<I>, NoInfer<B>>): Guarded<I, B> {
  return { access: 'session', handle };
}

/** A handler that needs only the caller's enforced Repository (the FHIR API). */
export function withRepository<I = unknown, B = unknown>(handle: RepositoryHandler<NoInfer<I>, NoInfer<B>>): Guarded<I, B> {
  return { access: 'repository', handle };
}

/** A handler anyone may call. */
export function open<I = unknown, B = unknown>(handle: PublicHandler<NoInfer<I>, NoInfer<B>>): Guarded<I, B> {
  return { access: 'public', handle };
}

/** Decides whether a segment can fill a `:name` slot (e.g. `:id` must look like a FHIR id). */
export type SegmentMatchers = Record<string, (segment: string) => boolean>;

export type Route = {
  method: Method;
  /** Segments from the host root separated by '/': literals, or `:name` checked by `params`. */
  pattern: string;
  params?: SegmentMatchers;
  /** The shared/contract entry of a route of the host's own API (every route but the FHIR API's). */
  contract?: RouteContract;
  /** Parses the route's input (its contract's query and body); routes without a contract have none. */
  input?: (req: Omit<RouteRequest, 'input'>) => unknown;
} & Guarded;

/** What the door knows and the table does not: who a request's bearer token is. */
export interface CallerResolver {
  /** The session of the request and its Repository; 401 without a valid session. */
  caller(headers: Record<string, string>): Caller;
  /** The Repository of a 'repository' route. */
  repository(headers: Record<string, string>): Repository;
}

export type DispatchRequest = Omit<RouteRequest, 'params' | 'input'>;

export interface Matched {
  route: Route;
  params: Record<string, string>;
}

export interface Router {
  /** The route a request reaches, with its parameters; a 404 or 405 FhirError otherwise. */
  match(req: Pick<DispatchRequest, 'method' | 'segments'>): Matched;
  /** Establishes the matched route's caller (401 when it needs one and there is none), then runs its handler. */
  run(matched: Matched, req: DispatchRequest, resolver: CallerResolver): Promise<HostResponse>;
  readonly routes: readonly Route[];
}

interface CompiledRoute {
  route: Route;
  parts: string[];
}

export function createRouter(routes: Route[]): Router {
  const compiled: CompiledRoute[] = routes.map((route) => ({ route, parts: route.pattern === '' ? [] : route.pattern.split('/') }));
  const seen = new Set<string>();
  for (const { route, parts } of compiled) {
    for (const part of parts) {
      if (part.startsWith(':') && !route.params?.[part.slice(1)]) {
        throw new Error(`Route ${route.method} ${route.pattern}: no matcher for ${part}`);
      }
    }
    const key = `${route.method} ${route.pattern}`;
    if (seen.has(key)) {
      throw new Error(`Two routes for ${key}`);
    }
    seen.add(key);
  }

  function paramsOf({ route, parts }: CompiledRoute, segments: string[]): Record<string, string> | undefined {
    if (parts.length !== segments.length) {
      return undefined;
    }
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const part = parts[i];
      if (part.startsWith(':')) {
        const name = part.slice(1);
        if (!route.params![name](segments[i])) {
          return undefined;
        }
        params[name] = segments[i];
      } else if (part !== segments[i]) {
        return undefined;
      }
    }
    return params;
  }

  function match(req: Pick<DispatchRequest, 'method' | 'segments'>): Matched {
    const allowed: string[] = [];
    for (const entry of compiled) {
      const params = paramsOf(entry, req.segments);
      if (!params) {
        continue;
      }
      if (entry.route.method === req.method) {
        return { route: entry.route, params };
      }
      allowed.push(entry.route.method);
    }
    if (allowed.length > 0) {
      const err = errors.methodNotAllowed(`Method ${req.method} is not allowed here (allowed: ${allowed.join(', ')})`);
      throw new RouteError(err, { allow: allowed.join(', ') });
    }
    throw errors.notFound(`Not found: /${req.segments.join('/')}`);
  }

  return {
    routes,
    match,
    async run({ route, params }, req, resolver) {
      let parsed: { value: unknown } | undefined;
      const request: RouteRequest = {
        ...req,
        params,
        input() {
          parsed ??= { value: route.input ? route.input({ ...req, params }) : {} };
          return parsed.value;
        },
      };
      switch (route.access) {
        case 'public':
          return route.handle(request);
        case 'session':
          return route.handle(request, resolver.caller(req.headers));
        case 'repository':
          return route.handle(request, resolver.repository(req.headers));
      }
    },
  };
}

/** A FhirError with extra response headers (e.g. `Allow` on a 405). */
export class RouteError extends FhirError {
  readonly headers: Record<string, string>;
  constructor(err: FhirError, headers: Record<string, string>) {
    super(err.status, err.outcome);
    this.headers = headers;
  }
}

/** The bearer token of a request, or undefined. */
export function bearerToken(headers: Record<string, string | undefined>): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}
