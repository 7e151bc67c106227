// What `outpost import` reads: files and folders of FHIR JSON (a Bundle or one resource), NDJSON
// (one resource per line), each optionally gzipped. A source yields "units": Bundles ready for the
// store's processBundle, each short enough to be one short write transaction, each with the sha-256 of
// the text it was read from (the import ledger's key for it). That hash is taken as the text is read:
// hashing the Bundle again (JSON.stringify, then sha-256) cost an import 15 µs a resource, a tenth of
// its time.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { gunzipSync, createGunzip } from 'node:zlib';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { MAX_JSON_DEPTH } from '../../../shared/contract/host.ts';
import { errors } from '../../../shared/errors.ts';
import { jsonNestsDeeperThan } from '../../../shared/json-depth.ts';
import { contentHash } from './ledger.ts';

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

/** A Bundle for the store and the sha-256 (hex) of the text it came from: a whole JSON document, or an NDJSON chunk's lines. */
export interface ImportUnit {
  bundle: Bundle;
  hash: string;
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

/** The file's bytes, decompressed when it is gzipped. */
function readContent(file: string): Buffer {
  const raw = readFileSync(file);
  return file.toLowerCase().endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** One JSON text (a whole document, or an NDJSON line), refused before parsing when it nests too deep. */
function parseJsonText(text: string, where: string): unknown {
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw errors.badRequest(`${where}: nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw errors.badRequest(`${where}: not valid JSON`);
  }
}

/** The file's content, decompressed when it is gzipped. */
function openContent(file: string): Readable {
  const input = createReadStream(file);
  return file.toLowerCase().endsWith('.gz') ? input.pipe(createGunzip()) : input;
}

/** NDJSON lines in chunks of `chunkSize` resources, each chunk a transaction of PUTs, hashed over its lines. */
async function* unitsOfLines(lines: AsyncIterable<string> | Iterable<string>, where: string, chunkSize: number): AsyncGenerator<ImportUnit> {
  let entries: BundleEntry[] = [];
  let hash = createHash('sha256');
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') {
      continue;
    }
    entries.push(entryFor(requireResource(parseJsonText(line, `${where}:${lineNo}`), `${where}:${lineNo}`)));
    hash.update(line).update('\n');
    if (entries.length >= chunkSize) {
      yield { bundle: transactionOf(entries), hash: hash.digest('hex') };
      entries = [];
      hash = createHash('sha256');
    }
  }
  if (entries.length) {
    yield { bundle: transactionOf(entries), hash: hash.digest('hex') };
  }
}

function isNdjsonName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('.ndjson') || lower.endsWith('.ndjson.gz');
}

/** A file to import: the sha-256 of its content (decompressed) and its units. */
export interface FileSource {
  hash(): Promise<string>;
  units(chunkSize: number): AsyncGenerator<ImportUnit>;
}

/** A JSON document's units (at most one): each is the whole document, so its hash is the document's. */
function unitsOfDocument(text: string, where: string, hash: string): ImportUnit[] {
  return unitsOfJson(parseJsonText(text, where), where).map((bundle) => ({ bundle, hash }));
}

/**
 * A file by its extension: NDJSON is hashed and read as streams, line by line; a JSON document is read
 * once, whole, and that one read is both hashed and parsed.
 */
export function fileSource(file: string): FileSource {
  if (isNdjsonName(file)) {
    return {
      hash: () => hashFileContent(file),
      units: (chunkSize) => unitsOfLines(createInterface({ input: openContent(file), crlfDelay: Infinity }), file, chunkSize),
    };
  }
  let content: Buffer | undefined;
  let digest: string | undefined;
  const read = (): Buffer => (content ??= readContent(file));
  const hash = (): string => (digest ??= contentHash(read()));
  return {
    hash: async () => hash(),
    async *units() {
      const documentHash = hash();
      const text = read().toString('utf8');
      content = undefined; // parsed from here on: the bytes are no longer needed
      yield* unitsOfDocument(text, file, documentHash);
    },
  };
}

/**
 * The units of a file's text sent to the import route: NDJSON when its name says so, or when it is
 * more than one JSON document (one per line); otherwise one JSON document, whose hash is `textHash`.
 */
export async function* unitsOfText(text: string, name: string, chunkSize: number, textHash: string): AsyncGenerator<ImportUnit> {
  const trimmed = text.trim();
  if (isNdjsonName(name) || !trimmed.startsWith('{') || /\}\s*\n\s*\{/.test(trimmed)) {
    yield* unitsOfLines(trimmed.split(/\r?\n/), name, chunkSize);
    return;
  }
  yield* unitsOfDocument(trimmed, name, textHash);
}

/** sha-256 (hex) of a file's content, decompressed when it is gzipped: the same data hashes alike, zipped or not. */
export async function hashFileContent(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of openContent(file)) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
