// Literal references (`Type/id`) in what sync sends and receives: one pattern and one walker, so push,
// audit push and pull translate ids between the workstation and the remote the same way.

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
