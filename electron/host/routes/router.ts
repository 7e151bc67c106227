// A small table-driven router: each domain (FHIR REST, later auth and Outpost's own endpoints) declares
// a table of { method, pattern, handler }. Matching is by path segments; a path that some route knows
// under another method is a 405 with `Allow`, a path nobody knows a 404.
import type { HostResponse } from '../../../shared/contract/host.ts';
import { FhirError, errors } from '../../../shared/errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler receives: the request with its path split and decoded, and the matched parameters. */
export interface RouteRequest {
  method: Method;
  /** Decoded path segments after the domain's prefix. */
  segments: string[];
  /** Raw query string without '?', as sent (it is handed to search untouched). */
  query: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body?: string;
  /** Absolute base URL of the domain, ending in '/', e.g. 'http://127.0.0.1:8103/fhir/R4/'. */
  baseUrl: string;
  /** Values of the pattern's `:name` segments. */
  params: Record<string, string>;
}

export type Handler = (req: RouteRequest) => HostResponse | Promise<HostResponse>;

export interface Route {
  method: Method;
  /** Segments separated by '/': literals, or `:name` matched by the table's segment matchers. '' = the root. */
  pattern: string;
  handler: Handler;
}

/** Decides whether a segment can fill a `:name` slot (e.g. `:id` must look like a FHIR id). */
export type SegmentMatchers = Record<string, (segment: string) => boolean>;

interface CompiledRoute extends Route {
  parts: string[];
}

export interface Router {
  dispatch(req: Omit<RouteRequest, 'params'>): Promise<HostResponse>;
}

export function createRouter(routes: Route[], matchers: SegmentMatchers): Router {
  const compiled: CompiledRoute[] = routes.map((r) => ({ ...r, parts: r.pattern === '' ? [] : r.pattern.split('/') }));
  for (const route of compiled) {
    for (const part of route.parts) {
      if (part.startsWith(':') && !matchers[part.slice(1)]) {
        throw new Error(`Route ${route.pattern}: no matcher for ${part}`);
      }
    }
  }

  function match(route: CompiledRoute, segments: string[]): Record<string, string> | undefined {
    if (route.parts.length !== segments.length) {
      return undefined;
    }
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const part = route.parts[i];
      if (part.startsWith(':')) {
        const name = part.slice(1);
        if (!matchers[name](segments[i])) {
          return undefined;
        }
        params[name] = segments[i];
      } else if (part !== segments[i]) {
        return undefined;
      }
    }
    return params;
  }

  return {
    async dispatch(req) {
      const allowed: string[] = [];
      for (const route of compiled) {
        const params = match(route, req.segments);
        if (!params) {
          continue;
        }
        if (route.method === req.method) {
          return route.handler({ ...req, params });
        }
        allowed.push(route.method);
      }
      if (allowed.length > 0) {
        const err = errors.methodNotAllowed(`Method ${req.method} is not allowed here (allowed: ${allowed.join(', ')})`);
        throw new RouteError(err, { allow: allowed.join(', ') });
      }
      throw errors.notFound(`No route for ${req.method} ${req.segments.join('/') || '/'}`);
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
