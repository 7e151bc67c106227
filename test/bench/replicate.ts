// Synthetic data for the benchmarks: the 46 Synthea transaction Bundles replicated with fresh ids until a
// target resource count is reached. Every copy of a Bundle gets fresh urn:uuid fullUrls, resource ids,
// references and identifiers (so each copy is a distinct patient with their own organizations and
// practitioners); dates, codes and values are kept. Patient given names are rotated across copies so
// that family + given picks one person, as in a real clinic where family names repeat.
//
// Generation is lazy (a generator of Bundles) and deterministic (seeded), so several passes over the
// same data (raw baseline, store, floor, MemoryRepository) cost no memory for the data itself and see
// exactly the same resources.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle, BundleEntry, HumanName, Identifier, Patient, Resource } from '@medplum/fhirtypes';

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const IS_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Template {
  file: string;
  /**
   * The Bundle's minified JSON text cut at every UUID: `pieces[0] uuid[slots[0]] pieces[1] ...`. A copy is
   * the pieces joined around fresh UUIDs (no regex, no object walk per copy).
   */
  pieces: string[];
  /** For each cut, the index of the distinct template UUID that stood there. */
  slots: number[];
  distinctUuids: number;
  resourceCount: number;
  /** `given` of each official name of the template's Patient (for the rotation across copies). */
  patientGiven: string[][];
}

export interface GeneratedBundle {
  /** 0-based copy of the fixture set this Bundle belongs to. */
  copy: number;
  template: number;
  bundle: Bundle;
}

export function fixturesDir(repoRoot: string): string {
  return path.resolve(repoRoot, '..', 'shared', 'fixtures', 'synthea-r4');
}

export function loadTemplates(dir: string): Template[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort();
  return files.map((file) => {
    const bundle = JSON.parse(gunzipSync(readFileSync(path.join(dir, file))).toString('utf8')) as Bundle;
    const text = JSON.stringify(bundle);
    const pieces: string[] = [];
    const slots: number[] = [];
    const distinct = new Map<string, number>();
    let last = 0;
    for (const match of text.matchAll(UUID_RE)) {
      pieces.push(text.slice(last, match.index));
      let slot = distinct.get(match[0]);
      if (slot === undefined) {
        slot = distinct.size;
        distinct.set(match[0], slot);
      }
      slots.push(slot);
      last = match.index + match[0].length;
    }
    pieces.push(text.slice(last));
    const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
    return {
      file,
      pieces,
      slots,
      distinctUuids: distinct.size,
      resourceCount: bundle.entry?.length ?? 0,
      patientGiven: (patient?.name ?? []).map((n) => n.given ?? []),
    };
  });
}

/** Small, fast, seedable PRNG (sfc32): the same seed gives the same data in every pass. */
export function createRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) {
    next();
  }
  return next;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** A random (version 4) UUID from the seeded generator. */
export function randomUuid(next: () => number): string {
  const a = hex8(next());
  const b = hex8((next() & 0xffff0fff) | 0x4000);
  const c = hex8(((next() & 0x3fffffff) | 0x80000000) >>> 0);
  const d = hex8(next());
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}

export interface ReplicateOptions {
  /** Stop after the Bundle that reaches this many resources. */
  resources: number;
  seed?: number;
}

/**
 * Yields transaction Bundles (copy-major: all 46 templates of copy 0, then copy 1, ...) until at least
 * `resources` resources were produced. Each yielded Bundle is a fresh object the caller may mutate.
 */
export function* replicateBundles(templates: Template[], opts: ReplicateOptions): Generator<GeneratedBundle> {
  const next = createRandom(opts.seed ?? 20_260_101);
  let produced = 0;
  let serial = 0;
  for (let copy = 0; produced < opts.resources; copy++) {
    for (let t = 0; t < templates.length && produced < opts.resources; t++) {
      const template = templates[t];
      const fresh: string[] = [];
      for (let i = 0; i < template.distinctUuids; i++) {
        fresh.push(randomUuid(next));
      }
      const parts: string[] = [template.pieces[0]];
      for (let i = 0; i < template.slots.length; i++) {
        parts.push(fresh[template.slots[i]], template.pieces[i + 1]);
      }
      const bundle = JSON.parse(parts.join('')) as Bundle;
      const rotatedGiven = templates[(t + copy) % templates.length].patientGiven;
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource;
        if (resource?.resourceType === 'Patient') {
          serial++;
          freshenPatient(resource, rotatedGiven, serial);
        } else if (resource?.resourceType === 'Practitioner') {
          serial++;
          freshenIdentifiers(resource.identifier, serial);
        }
      }
      produced += bundle.entry?.length ?? 0;
      yield { copy, template: t, bundle };
    }
  }
}

function freshenPatient(patient: Patient, rotatedGiven: string[][], serial: number): void {
  patient.name?.forEach((name: HumanName, i) => {
    const given = rotatedGiven[i] ?? rotatedGiven[0];
    if (name.given && given) {
      name.given = [...given];
    }
  });
  freshenIdentifiers(patient.identifier, serial);
}

/** Identifiers that are not UUIDs (SSN, driver's license, passport, NPI) get a value unique to this copy. */
function freshenIdentifiers(identifiers: Identifier[] | undefined, serial: number): void {
  for (const identifier of identifiers ?? []) {
    const value = identifier.value;
    if (value === undefined || IS_UUID.test(value)) {
      continue;
    }
    const digits = String(serial).padStart(6, '0');
    if (identifier.system === 'http://hl7.org/fhir/sid/us-ssn') {
      identifier.value = `999-${digits.slice(0, 2)}-${digits.slice(2).padStart(4, '0')}`;
    } else {
      // Keep the shape (letters around), replace the number: S99942380 -> S99<serial>, X45815551X -> X<serial>X.
      identifier.value = value.replace(/\d+/, (num) => `${num.slice(0, Math.max(0, num.length - digits.length))}${digits}`);
    }
  }
}

/**
 * The same resources with their ids as `Type/id` references (what a server would have stored): ids
 * taken from the Bundle, every `urn:uuid:` reference rewritten. Used by the floor tables and
 * MemoryRepository, which take resources with ids rather than transaction Bundles.
 */
export function resolveBundle(bundle: Bundle): Resource[] {
  const targets = new Map<string, string>();
  const entries: BundleEntry[] = bundle.entry ?? [];
  for (const entry of entries) {
    if (entry.fullUrl && entry.resource?.id) {
      targets.set(entry.fullUrl, `${entry.resource.resourceType}/${entry.resource.id}`);
    }
  }
  const out: Resource[] = [];
  for (const entry of entries) {
    if (entry.resource) {
      rewriteReferences(entry.resource, targets);
      out.push(entry.resource);
    }
  }
  return out;
}

function rewriteReferences(node: unknown, targets: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const item of node) {
      rewriteReferences(item, targets);
    }
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (key === 'reference' && typeof value === 'string') {
        const target = targets.get(value);
        if (target !== undefined) {
          record[key] = target;
        }
      } else if (typeof value === 'object') {
        rewriteReferences(value, targets);
      }
    }
  }
}
