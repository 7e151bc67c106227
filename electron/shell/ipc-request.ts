// The one IPC request channel, main side: who may call it, what a valid envelope is, and how every
// outcome (including refusals and host crashes) becomes a plain HostResponse the renderer can read.
// Refused requests never reach the host.
import { z } from 'zod';
import { errors } from '../../shared/errors.ts';
import { MAX_PATH_CHARS, bodyLimitFor, hostRequestSchema, type HostRequest, type HostResponse } from '../../shared/contract/host.ts';
import type { CrashGuard } from '../host/crash-guard.ts';
import { respondError } from '../host/routes/respond.ts';
import { isAppUrl } from './app-protocol.ts';
import type { ShellHost } from './host-types.ts';

const MAX_HEADERS = 100;
const MAX_HEADER_VALUE_CHARS = 16 * 1024;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The IPC envelope: the host contract, stricter about what a renderer may send. Unknown keys are refused
 * (not silently dropped), header names must be HTTP tokens (passed on lower-cased, as the contract says)
 * and their number and size are bounded.
 */
export const ipcEnvelopeSchema = hostRequestSchema
  .extend({
    headers: z
      .record(z.string().regex(HEADER_NAME).max(256), z.string().max(MAX_HEADER_VALUE_CHARS))
      .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, { message: `At most ${MAX_HEADERS} headers` })
      .transform((headers) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])))
      .default({}),
  })
  .strict();

/** The byte size of a body string as UTF-8, without allocating a copy. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Copies a host response into plain data: a number, a string-to-string header record and the body.
 * IPC uses structured clone, so a stray class instance or function would otherwise fail the whole reply.
 */
function toPlainResponse(response: HostResponse): HostResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  const plain: HostResponse = { status: response.status, headers };
  if (response.body !== undefined) {
    plain.body = structuredClone(response.body);
  }
  return plain;
}

/** Why an envelope was refused, as the FhirError the renderer receives. */
export function checkEnvelope(raw: unknown): HostRequest {
  if (raw !== null && typeof raw === 'object') {
    const { method, path, body } = raw as { method?: unknown; path?: unknown; body?: unknown };
    if (typeof path === 'string' && path.length > MAX_PATH_CHARS) {
      throw errors.headersTooLarge(`Request URL longer than ${MAX_PATH_CHARS} characters`);
    }
    // The size check comes first so an oversized body is refused as 413, and before zod walks it.
    if (typeof body === 'string') {
      const limit = bodyLimitFor(String(method), String(path));
      if (body.length * 3 > limit && utf8Length(body) > limit) {
        throw errors.tooLarge(`Request body larger than ${limit} bytes`);
      }
    }
  }
  const parsed = ipcEnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
    throw errors.badRequest(`Invalid request envelope${where ? ` at ${where}` : ''}: ${issue?.message ?? 'malformed'}`, where);
  }
  return parsed.data;
}

export interface IpcRequestContext {
  /** URL of the frame that sent the message (`event.senderFrame?.url`); null when the frame is gone. */
  senderUrl: string | null | undefined;
}

export type IpcRequestHandler = (context: IpcRequestContext, envelope: unknown) => Promise<HostResponse>;

/**
 * Builds the handler behind `ipcMain.handle(REQUEST_CHANNEL, ...)`. It always resolves: a refusal or a
 * host failure is an OperationOutcome response, never a rejected promise (Electron would turn that into
 * an Error whose message leaks internals and loses the status).
 */
export function createIpcRequestHandler(getHost: () => ShellHost | undefined, guard?: CrashGuard): IpcRequestHandler {
  const handle: IpcRequestHandler = async (context, envelope) => {
    try {
      if (!isAppUrl(context.senderUrl)) {
        throw errors.forbidden('Requests are accepted only from the Outpost window');
      }
      const request = checkEnvelope(envelope);
      const host = getHost();
      if (!host) {
        throw errors.internal('Outpost is still starting');
      }
      return toPlainResponse(await host.handle(request));
    } catch (err) {
      return respondError(err);
    }
  };
  if (!guard) {
    return handle;
  }
  // A failure the request causes after the host's handler returned (a timer, a detached promise)
  // answers it 500 rather than leaving the window waiting for a reply that never comes.
  return (context, envelope) =>
    new Promise<HostResponse>((resolve) => {
      guard.run(
        () => resolve(respondError(errors.internal())),
        () => void handle(context, envelope).then(resolve),
      );
    });
}
