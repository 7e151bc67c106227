// Routes of the host's own API served from their shared/contract entry: method, path and parameters
// come from the entry, the query and body are parsed and validated with its schemas (a 400 naming the
// field, 415 for a body of another media type), and a reply can be checked against its schema.
import { z } from 'zod';
import { firstIssue, type RouteContract, type RouteError as ContractError, type RouteInput, type RouteReply } from '../../../shared/contract/route.ts';
import { errors } from '../../../shared/errors.ts';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { bodyMediaType, readJsonOrForm, validate } from './body.ts';
import type { Guarded, Route, RouteRequest, SegmentMatchers } from './router.ts';

/** The parsed query of a request: the first value of each name. */
function queryObject(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (!(name in out)) {
      out[name] = value;
    }
  }
  return out;
}

function readInput(entry: RouteContract, req: Omit<RouteRequest, 'input'>): unknown {
  const query = entry.query ? validate(entry.query, queryObject(req.query), 'query') : {};
  let body: unknown;
  if (entry.text) {
    bodyMediaType(req, entry.text);
    if (!req.body || req.body.trim() === '') {
      throw errors.badRequest('The body is empty');
    }
    body = req.body;
  } else if (entry.body) {
    body = validate(entry.body, readJsonOrForm(req, entry.form === true));
  }
  return { query, body };
}

/** What a handler of `entry` answers: its reply, or (routes with their own error shape) that shape. */
type ReplyOf<C extends RouteContract> = RouteReply<C> | (C extends { error: z.ZodType } ? ContractError<C> : never);

/** The route of a contract entry, its handler typed by the entry's schemas. */
export function route<const C extends RouteContract>(entry: C, handler: Guarded<RouteInput<C>, ReplyOf<C>>): Route {
  const params: SegmentMatchers = {};
  for (const [name, schema] of Object.entries(entry.params ?? {})) {
    params[name] = (segment) => schema.safeParse(segment).success;
  }
  return { method: entry.method, pattern: entry.path, params, contract: entry, input: (req) => readInput(entry, req), ...(handler as Guarded) };
}

/**
 * Why a reply does not match its route's contract, or undefined when it does: a success against the
 * reply schema, a failure against the error schema (an OperationOutcome unless the route says otherwise).
 */
export function replyMismatch(entry: RouteContract, reply: HostResponse): string | undefined {
  const schema = reply.status < 400 ? entry.response : (entry.error ?? OUTCOME);
  const parsed = schema.safeParse(reply.body);
  if (parsed.success) {
    return undefined;
  }
  const { path, message } = firstIssue(parsed.error);
  return `${entry.method} ${entry.path} answered ${reply.status} with a body its contract refuses at ${path ?? '(the body)'}: ${message}`;
}

const OUTCOME = z.looseObject({ resourceType: z.literal('OperationOutcome'), issue: z.array(z.looseObject({ severity: z.string(), code: z.string() })).min(1) });
