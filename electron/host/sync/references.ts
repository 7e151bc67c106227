// How sync names a resource on both sides: the Outpost identifier that carries a local id to the remote,
// and literal references (`Type/id`) in what sync sends and receives: one pattern and one walker, so
// push, audit push and pull translate ids between the workstation and the remote the same way.

/**
 * The identifier system (a meta.tag system for types without `identifier`) of a local id on the remote:
 * push finds its creates again by it, and merging ignores it (conflicts/merge.ts).
 */
export const OUTPOST_ID_SYSTEM = 'https://outpost.local/fhir/local-id';

/** A literal relative reference `Type/id` (absolute URLs, `#contained` and conditional ones do not match). */
export const LITERAL_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** Every `reference` string of a resource, with a setter to rewrite it in place. */
export function forEachReference(value: unknown, fn: (ref: string, set: (v: string) => void) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) forEachReference(v, fn);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        fn(v, (next) => (obj[key] = next));
      } else if (typeof v === 'object') {
        forEachReference(v, fn);
      }
    }
  }
}
