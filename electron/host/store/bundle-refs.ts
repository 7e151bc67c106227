// Parsing Bundle entry URLs and rewriting the references inside a transaction: `urn:uuid:` /
// `urn:oid:` fullUrls (and any other fullUrl an entry declares) become `Type/id`, conditional
// references (`Patient?identifier=x|y`) become the one resource they match.
import { errors } from '../../../shared/errors.ts';

export interface EntryUrl {
  resourceType?: string;
  id?: string;
  versionId?: string;
  /** Query string without '?', or undefined when the URL has none. */
  query?: string;
  history?: boolean;
  /** `Type/_search`. */
  search?: boolean;
}

/** Parses `Patient`, `Patient/1`, `Patient/1/_history/2`, `Patient?x=y`, `Patient/_history`, `_history`... */
export function parseEntryUrl(raw: string, baseUrl: string): EntryUrl {
  let url = raw.trim();
  if (url.startsWith(baseUrl)) {
    url = url.slice(baseUrl.length);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    throw errors.badRequest(`Entry URL is not on this server: ${raw.slice(0, 200)}`, 'Bundle.entry.request.url');
  }
  url = url.replace(/^\/+/, '');
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q + 1) : undefined;
  const seg = path.split('/').filter((s) => s !== '');
  const out: EntryUrl = { query };
  if (seg[0] === '_history' && seg.length === 1) {
    return { ...out, history: true };
  }
  if (seg.length === 0 || seg.length > 4) {
    throw errors.badRequest(`Unsupported entry URL: ${raw.slice(0, 200)}`, 'Bundle.entry.request.url');
  }
  out.resourceType = seg[0];
  if (seg.length >= 2) {
    if (seg[1] === '_history' && seg.length === 2) {
      out.history = true;
    } else if (seg[1] === '_search' && seg.length === 2) {
      out.search = true;
    } else {
      out.id = seg[1];
      if (seg.length >= 3) {
        if (seg[2] !== '_history') {
          throw errors.badRequest(`Unsupported entry URL: ${raw.slice(0, 200)}`, 'Bundle.entry.request.url');
        }
        if (seg.length === 4) {
          out.versionId = seg[3];
        } else {
          out.history = true;
        }
      }
    }
  }
  return out;
}

const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]+)\?(.+)$/;

export interface ReferenceResolver {
  /** fullUrl -> `Type/id` for every entry that declares one. */
  fullUrls: Map<string, string>;
  /** Resolves `Type?query` to `Type/id`; throws 400 (no match) or 412 (several). */
  conditional(reference: string, resourceType: string, query: string): string;
}

/**
 * Returns `value` with every `reference` string (anywhere: nested extensions, contained resources,
 * backbone elements) and every `url` equal to a declared fullUrl (Attachment.url) pointing at the
 * stored resource. Copy-on-write: only the objects on the way to a rewritten string are copied, so
 * the caller's Bundle is never mutated and untouched subtrees cost no allocation.
 */
export function rewriteReferences(value: unknown, resolver: ReferenceResolver): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const r = typeof v === 'object' && v !== null ? rewriteReferences(v, resolver) : v;
      if (r !== v) {
        out ??= value.slice();
        out[i] = r;
      }
    }
    return out ?? value;
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const v = obj[key];
    let r: unknown = v;
    if (typeof v === 'string') {
      if (key === 'reference' || key === 'url') {
        r = rewriteOne(key, v, resolver);
      }
    } else if (typeof v === 'object' && v !== null) {
      r = rewriteReferences(v, resolver);
    }
    if (r !== v) {
      out ??= { ...obj };
      out[key] = r;
    }
  }
  return out ?? obj;
}

function rewriteOne(key: string, v: string, resolver: ReferenceResolver): string {
  const mapped = resolver.fullUrls.get(v);
  if (mapped !== undefined) {
    return mapped;
  }
  if (key === 'reference') {
    if (v.startsWith('urn:uuid:') || v.startsWith('urn:oid:')) {
      throw errors.badRequest(`Reference to ${v.slice(0, 100)}, which no entry of the Bundle declares`, 'Bundle.entry.resource');
    }
    const m = CONDITIONAL_REFERENCE.exec(v);
    if (m) {
      return resolver.conditional(v, m[1], m[2]);
    }
  }
  return v;
}
