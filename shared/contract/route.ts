// How a route of the host's own API (everything but the FHIR REST API under /fhir/R4) is described: its
// method and path, who may call it, the zod schemas of its path parameters, query and body, and of its
// reply. The host validates every request with these (a 400 OperationOutcome naming the field) and, in
// tests and development, every reply; the renderer's client is typed by them and checks each reply.
import { z } from 'zod';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FHIR_ID_PATTERN } from '../fhir/http.ts';

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route:
 * - 'public': anyone (sign-in, first-run setup);
 * - 'session': a signed-in session (401 without one); the handler gets the session and its Repository;
 * - 'token': a session's bearer token even when the session is locked (lock, unlock, sign-out).
 */
export type RouteAuth = 'public' | 'session' | 'token';

export interface RouteContract {
  method: RouteMethod;
  /** From the host root, without a leading '/': literal segments and `:name` parameters. */
  path: string;
  auth: RouteAuth;
  /** Schemas of the `:name` segments of the path (a segment that fails its schema matches no route: 404). */
  params?: Readonly<Record<string, z.ZodType<string, string>>>;
  /** The query string as an object of strings (the first value of each name). */
  query?: z.ZodType;
  /** A JSON body (an empty body is `{}`); with `form`, an application/x-www-form-urlencoded body too. */
  body?: z.ZodType;
  form?: boolean;
  /** A text body of these media types (a file's content), instead of JSON. */
  text?: readonly string[];
  /** The reply of a success (2xx). */
  response: z.ZodType;
  /** The reply of a failure (4xx/5xx): an OperationOutcome unless the route says otherwise (OAuth's token endpoint). */
  error?: z.ZodType;
}

/** Declares a route: the literal types of `method`, `path` and the schemas are kept for the typed client. */
export function defineRoute<const R extends RouteContract>(route: R): R {
  return route;
}

type Schema<R, K extends keyof RouteContract> = K extends keyof R ? (R[K] extends z.ZodType ? R[K] : undefined) : undefined;

/** The parsed query and body a handler of the route gets. */
export interface RouteInput<R extends RouteContract> {
  query: Schema<R, 'query'> extends z.ZodType ? z.output<Schema<R, 'query'>> : Record<string, never>;
  body: R extends { text: readonly string[] } ? string : Schema<R, 'body'> extends z.ZodType ? z.output<Schema<R, 'body'>> : undefined;
}

/** The reply body of a success. */
export type RouteReply<R extends RouteContract> = z.output<R['response']>;

/** The reply body of a failure. */
export type RouteError<R extends RouteContract> = R extends { error: z.ZodType } ? z.output<R['error']> : OperationOutcome;

/** The names of a path's `:name` segments. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamNames<Rest> : P extends `${string}:${infer Name}` ? Name : never;

/** What a client sends: path parameters, query and body, as the schemas take them (before defaults and transforms). */
export type RouteRequestOf<R extends RouteContract> = ([ParamNames<R['path']>] extends [never] ? unknown : { params: Record<ParamNames<R['path']>, string> }) &
  (Schema<R, 'query'> extends z.ZodType ? { query: z.input<Schema<R, 'query'>> } : unknown) &
  (R extends { text: readonly string[] }
    ? { body: string; contentType: R['text'][number] }
    : Schema<R, 'body'> extends z.ZodType
      ? { body: z.input<Schema<R, 'body'>> }
      : unknown);

/** The path of a route with its parameters filled in (each encoded), and the query appended. */
export function routePath(route: RouteContract, params: Record<string, string> = {}, query?: Record<string, unknown>): string {
  const path = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) {
        return segment;
      }
      const value = params[segment.slice(1)];
      if (value === undefined) {
        throw new TypeError(`${route.method} ${route.path}: no value for ${segment}`);
      }
      return encodeURIComponent(value);
    })
    .join('/');
  const text = Object.entries(query ?? {})
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return text ? `${path}?${text}` : path;
}

/** The first problem zod found, as a field path ('membership.access.0.policy') and words. */
export function firstIssue(error: z.ZodError): { path?: string; message: string } {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') || undefined;
  return { path, message: issue?.message ?? 'invalid' };
}

// Shapes several routes share.

/**
 * An object with at least these fields: the others are kept, not dropped (a resource's, a policy's), and
 * its type names only these, as TypeScript's own object types do.
 */
export function objectWith<S extends z.ZodRawShape>(shape: S): z.ZodObject<S> {
  return z.looseObject(shape) as unknown as z.ZodObject<S>;
}

/** A FHIR resource id (a path parameter or a field). */
export const fhirId = z.string().regex(FHIR_ID_PATTERN, { message: 'Invalid id' });

/**
 * A FHIR resource of one type, as the FHIR API answers it: the contract checks its type and id, the FHIR
 * layer validates the rest (the store accepts only valid resources).
 */
export function resourceOf<T extends Resource>(resourceType: T['resourceType']): z.ZodType<T> {
  return objectWith({ resourceType: z.literal(resourceType), id: z.string().optional() }) as unknown as z.ZodType<T>;
}

/** Any FHIR resource (a conflict's versions, a profile). */
export const anyResource = objectWith({ resourceType: z.string().min(1), id: z.string().optional() }) as unknown as z.ZodType<Resource>;

/** A Reference as the host writes them. */
export const reference = objectWith({ reference: z.string().optional(), display: z.string().optional() });

/** An OperationOutcome: every failure, and the answer of actions with nothing else to say (allOk). */
export const operationOutcome = resourceOf<OperationOutcome>('OperationOutcome');
