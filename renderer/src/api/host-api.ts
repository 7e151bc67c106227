// The renderer's typed client of the host's own API (every route but the FHIR API's), built from the
// contract both sides compile against (shared/contract): a call names its route's entry, its
// parameters, query and body are typed by the entry's schemas, and its reply is checked against the
// entry's reply schema before a store sees it. It goes through the renderer's one MedplumClient (so
// tokens, refresh and the lock gate apply as to every other request).
import type { MedplumClient } from '@medplum/core';
import { firstIssue, routePath, type RouteContract, type RouteReply, type RouteRequestOf } from '../../../shared/contract/route.ts';

/** The host answered with a body its route's contract refuses: a bug on one side, never shown as data. */
export class ContractError extends Error {
  constructor(route: RouteContract, path: string | undefined, message: string) {
    super(`The host's answer to ${route.method} ${route.path} does not match its contract at ${path ?? '(the body)'}: ${message}`);
    this.name = 'ContractError';
  }
}

type Args<R extends RouteContract> = object extends RouteRequestOf<R> ? [request?: RouteRequestOf<R>] : [request: RouteRequestOf<R>];

export interface HostApi {
  /** Calls a route of the contract and answers its reply, checked; failures throw as MedplumClient's do. */
  call<R extends RouteContract>(route: R, ...args: Args<R>): Promise<RouteReply<R>>;
  /** A reply obtained another way (MedplumClient's own login helpers), checked against its route's contract. */
  check<R extends RouteContract>(route: R, reply: unknown): RouteReply<R>;
}

interface AnyRequest {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  contentType?: string;
}

export function createHostApi(medplum: MedplumClient): HostApi {
  function check<R extends RouteContract>(route: R, reply: unknown): RouteReply<R> {
    const parsed = route.response.safeParse(reply);
    if (!parsed.success) {
      const { path, message } = firstIssue(parsed.error);
      throw new ContractError(route, path, message);
    }
    return parsed.data as RouteReply<R>;
  }

  return {
    check,
    async call(route, ...args) {
      const request = (args[0] ?? {}) as AnyRequest;
      const url = routePath(route, request.params, request.query);
      // Actions without fields still send a JSON body, as MedplumClient's own posts do.
      const body = request.body ?? {};
      let reply: unknown;
      switch (route.method) {
        case 'GET':
          reply = await medplum.get(url, { cache: 'no-cache' });
          break;
        case 'POST':
          reply = await medplum.post(url, body, request.contentType);
          break;
        case 'PUT':
          reply = await medplum.put(url, body, request.contentType);
          break;
        case 'PATCH':
          reply = await medplum.patch(url, body as never);
          break;
        case 'DELETE':
          reply = await medplum.delete(url);
          break;
      }
      return check(route, reply);
    },
  };
}
