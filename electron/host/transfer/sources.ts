// What `outpost import` reads: files and folders of FHIR JSON (a Bundle or one resource), NDJSON
// (one resource per line), each optionally gzipped. A source yields "units": Bundles ready for the
// store's processBundle, each short enough to be one short write transaction.
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync, createGunzip } from 'node:zlib';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';

const EXTENSIONS = ['.json', '.json.gz', '.ndjson', '.ndjson.gz'];

export function isImportable(file: string): boolean {
  const lower = file.toLowerCase();
  return EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** The files named by the arguments: files as given, folders searched recursively (sorted, importable names only). */
export function listImportFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) {
        walk(full);
      } else if (isImportable(name)) {
        out.push(full);
      }
    }
  };
  for (const path of paths) {
    const stat = statSync(path); // throws ENOENT for a missing path: the CLI reports it
    if (stat.isDirectory()) {
      walk(path);
    } else {
      out.push(path);
    }
  }
  return out;
}

/** PUT when the resource has an id (keeps ids, so references between files still resolve), else POST. */
function entryFor(resource: Resource, fullUrl?: string): BundleEntry {
  const request = resource.id
    ? { method: 'PUT' as const, url: `${resource.resourceType}/${resource.id}` }
    : { method: 'POST' as const, url: resource.resourceType };
  return { ...(fullUrl ? { fullUrl } : {}), resource, request };
}

export function transactionOf(entries: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

function requireResource(value: unknown, where: string): Resource {
  if (!value || typeof value !== 'object' || typeof (value as Resource).resourceType !== 'string') {
    throw errors.badRequest(`${where}: not a FHIR resource`);
  }
  return value as Resource;
}

/**
 * One JSON document as units: transaction and batch Bundles go to the store as they are (a transaction
 * must stay atomic); a collection Bundle (or searchset) becomes one transaction of its resources, so
 * urn:uuid references between its entries resolve; any other resource is a one-entry transaction.
 */
export function unitsOfJson(value: unknown, where: string): Bundle[] {
  const resource = requireResource(value, where);
  if (resource.resourceType !== 'Bundle') {
    return [transactionOf([entryFor(resource)])];
  }
  const bundle = resource as Bundle;
  if (bundle.type === 'transaction' || bundle.type === 'batch') {
    return [bundle];
  }
  const entries = (bundle.entry ?? [])
    .filter((e) => e.resource)
    .map((e) => entryFor(e.resource as Resource, e.fullUrl));
  return entries.length ? [transactionOf(entries)] : [];
}

function readText(file: string): string {
  const raw = readFileSync(file);
  return (file.toLowerCase().endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

/** NDJSON lines streamed in chunks of `chunkSize` resources, each chunk a transaction of PUTs. */
async function* unitsOfNdjson(file: string, chunkSize: number): AsyncGenerator<Bundle> {
  const input = createReadStream(file);
  const stream = file.toLowerCase().endsWith('.gz') ? input.pipe(createGunzip()) : input;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let entries: BundleEntry[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw errors.badRequest(`${file}:${lineNo}: not valid JSON`);
    }
    entries.push(entryFor(requireResource(value, `${file}:${lineNo}`)));
    if (entries.length >= chunkSize) {
      yield transactionOf(entries);
      entries = [];
    }
  }
  if (entries.length) {
    yield transactionOf(entries);
  }
}

/** The units of one file, by its extension. */
export async function* unitsOfFile(file: string, chunkSize: number): AsyncGenerator<Bundle> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.ndjson') || lower.endsWith('.ndjson.gz')) {
    yield* unitsOfNdjson(file, chunkSize);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(readText(file));
  } catch {
    throw errors.badRequest(`${file}: not valid JSON`);
  }
  yield* unitsOfJson(value, file);
}
