// The batch Bundles push and audit push send: sized under the remote's request limit, and what a
// write's answer names (the new id and version).

/** `Type/id/_history/vid` (a Location or fullUrl) -> id and versionId. */
export function parseLocation(location: string | undefined): { id?: string; versionId?: string } {
  const m = location ? /([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?\/?$/.exec(location) : null;
  return m ? { id: m[2], versionId: m[3] } : {};
}

/** The versionId in an ETag (`W/"3"`). */
export function parseEtag(etag: string | undefined): string | undefined {
  return etag ? /"([^"]+)"/.exec(etag)?.[1] : undefined;
}

/**
 * Request bodies stay under this many bytes: Medplum refuses a JSON body over its `maxJsonSize` (1 MB by
 * default) with 400 "File too large", and a Synthea Claim or CarePlan can be 10 kB: 250 of them are not.
 */
export const MAX_BUNDLE_BYTES = 900_000;

/** Consecutive groups of `items` whose batch Bundle stays under `maxBytes` (an item larger alone goes alone). */
export function splitBySize<T>(items: T[], entryOf: (item: T) => unknown, maxBytes: number): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let bytes = 64; // the Bundle around the entries
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(entryOf(item)), 'utf8') + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push(current);
      current = [];
      bytes = 64;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** A whole request refused for its size (413, or Medplum's 400 "File too large"): nothing in it ran. */
export function isTooLarge(res: { status: number; error?: string }): boolean {
  return res.status === 413 || (res.status === 400 && /too large/i.test(res.error ?? ''));
}
