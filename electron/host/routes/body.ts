// The one reader of request bodies: JSON (FHIR resources and patches, the host's own API), form bodies,
// and validation by a zod schema. Every problem is a 400/415 FhirError raised before anything is
// touched, so bad input changes nothing.
import type { z } from 'zod';
import { firstIssue } from '../../../shared/contract/route.ts';
import { errors } from '../../../shared/errors.ts';
import { FHIR_JSON, FORM_URL_ENCODED, mediaType } from '../../../shared/fhir/http.ts';

/** JSON bodies: `application/fhir+json` or `application/json` (MedplumClient posts its auth bodies as FHIR JSON). */
export const JSON_TYPES: readonly string[] = [FHIR_JSON, 'application/json'];

export interface BodyRequest {
  headers: Record<string, string>;
  body?: string;
}

/** The media type of the body, one of `accepted` (no content type: IPC clients, read as JSON); 415 otherwise. */
export function bodyMediaType(req: BodyRequest, accepted: readonly string[] = JSON_TYPES): string {
  const type = mediaType(req.headers['content-type']) ?? FHIR_JSON;
  if (!accepted.includes(type)) {
    throw errors.unsupportedMediaType(`Unsupported content type: ${type} (expected ${accepted.join(' or ')})`);
  }
  return type;
}

/**
 * The body parsed as JSON. An empty body is `empty` when given (the host's own API: an action without
 * fields), else a 400 (a FHIR write needs its resource).
 */
export function readJson(req: BodyRequest, options: { accept?: readonly string[]; empty?: unknown } = {}): unknown {
  bodyMediaType(req, options.accept ?? JSON_TYPES);
  const text = req.body;
  if (text === undefined || text.trim() === '') {
    if (options.empty !== undefined) {
      return options.empty;
    }
    throw errors.badRequest('Request body is empty');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw errors.badRequest('Request body is not valid JSON');
  }
}

/** A JSON or, when `form` is set, an application/x-www-form-urlencoded body (OAuth's token requests). */
export function readJsonOrForm(req: BodyRequest, form: boolean): unknown {
  if (form && mediaType(req.headers['content-type']) === FORM_URL_ENCODED) {
    return Object.fromEntries(new URLSearchParams(req.body ?? ''));
  }
  return readJson(req, { empty: {} });
}

/** `value` as `schema` parses it; a 400 naming the field (`where`: what is validated) otherwise. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw errors.badRequest(`Invalid ${path ?? where}: ${message}`, path);
  }
  return parsed.data;
}
