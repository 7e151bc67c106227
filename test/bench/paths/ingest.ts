// The write paths of `npm run bench -- paths`, raced Bundle by Bundle against the core: each generated
// Synthea Bundle goes to every contestant in turn (the order rotates per Bundle), so all of them run
// under the same machine load and the ratios hold on a shared, noisy machine.
//   core    the store's processBundle (encrypted, structural validation): the rate the issue calls the
//           core's, timed as the store bench times it (the call alone, the Bundle already parsed);
//   import  `outpost import` of the Bundle as a file: the CLI's importer and principal (host.importer,
//           host.access.system), file read, hashes, ledger and the enforcement point included;
//   HTTP    the Bundle POSTed to /fhir/R4 over loopback HTTP as a signed-in clinic administrator
//           (every entry checked and audited), the answer read and parsed as a browser would;
//   IPC     the same request through the desktop app's IPC request handler;
//   HTTP, audit off   the HTTP door of a host with audit off: not a target, the reference that says how
//           much of the doors' time is their AuditEvents (one per entry, written with the entry).
//   reading the file   what the import does before it writes (the file read, hashed, checked for depth,
//           parsed and cut into units, by the import's own source code): not a target, the reference
//           that says how much of the import's time the core is spared by being handed a parsed Bundle.
// Each contestant writes its own encrypted database. Time is counted per 100,000-resource slice, so a
// large run shows how each rate holds up as the store grows.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { DEFAULT_PROJECT_ID } from '../../../electron/host/db/project.ts';
import { FILE_CHUNK } from '../../../electron/host/transfer/import.ts';
import { fileSource } from '../../../electron/host/transfer/sources.ts';
import type { Host } from '../../../electron/host/host.ts';
import { createStore } from '../../../electron/host/store/index.ts';
import type { Store } from '../../../electron/host/store/types.ts';
import { storeProcess } from '../ingest.ts';
import { type Door, httpDoor, ipcDoor, openHost, seedAdmin, signIn } from './door.ts';

export const SLICE = 100_000;

export interface PathRow {
  path: string;
  resources: number;
  bundles: number;
  seconds: number;
  failures: number;
  firstFailure?: string;
  /** Seconds spent in each SLICE-resource slice of the run (slice k: resources k*SLICE .. (k+1)*SLICE). */
  slices: number[];
}

export interface Contestant {
  row: PathRow;
  /** Runs one Bundle (`text`: its JSON); returns milliseconds, or undefined when it failed. */
  run(bundle: Bundle, text: string): Promise<number | undefined>;
}

function newRow(name: string): PathRow {
  return { path: name, resources: 0, bundles: 0, seconds: 0, failures: 0, slices: [] };
}

function fail(row: PathRow, message: string): undefined {
  row.failures++;
  row.firstFailure ??= message.slice(0, 300);
  return undefined;
}

export const CORE = 'core: store processBundle (encrypted, structural validation)';

export function coreContestant(store: Store, idMap: Map<string, string>): Contestant {
  const row = newRow(CORE);
  return {
    row,
    async run(bundle) {
      try {
        return storeProcess(store, bundle, { validation: 'structure' }, idMap);
      } catch (err) {
        return fail(row, (err as Error).message);
      }
    },
  };
}

/**
 * A contestant that is handed each Bundle as a file, as `outpost import` is: the file is written
 * untimed, then `work` is timed on it; `work` answers a failure message, or undefined.
 */
function fileContestant(name: string, file: string, work: (file: string) => Promise<string | undefined>): Contestant {
  const row = newRow(name);
  return {
    row,
    async run(_bundle, text) {
      writeFileSync(file, text);
      const t0 = performance.now();
      const failure = await work(file);
      const ms = performance.now() - t0;
      return failure === undefined ? ms : fail(row, failure);
    },
  };
}

/** `outpost import <file>`: the command line's importer and principal, one file per Bundle. */
export function importContestant(host: Host, dir: string): Contestant {
  const repo = host.access.system(DEFAULT_PROJECT_ID, { name: 'outpost import (CLI)' });
  return fileContestant('outpost import (the CLI\'s importer, host.access.system)', path.join(dir, 'import-unit.json'), async (file) => {
    const summary = await host.importer.importFiles(repo, [file]);
    return summary.failed || summary.failures.length ? (summary.failures[0]?.message ?? 'failed') : undefined;
  });
}

/** The reference row's name: the import's reading of its file, without writing. */
export const IMPORT_READ_ONLY = 'reading the import\'s file: read, hashed, parsed into units, nothing written (reference, not a target)';

/** What `outpost import` does with a file before it writes: its own source code, the units dropped. */
export function importReadContestant(dir: string): Contestant {
  return fileContestant(IMPORT_READ_ONLY, path.join(dir, 'import-read-unit.json'), async (file) => {
    const source = fileSource(file);
    await source.hash();
    let entries = 0;
    for await (const unit of source.units(FILE_CHUNK)) {
      entries += unit.bundle.entry?.length ?? 0;
    }
    return entries > 0 ? undefined : 'no entries read';
  });
}

const MAPPED_TYPES = new Set(['Patient', 'Encounter']);

/** The reference row's name: the HTTP door with audit off. */
export const AUDIT_OFF_DOOR = 'transaction Bundle through the HTTP door, audit off (reference, not a target)';

/** A transaction Bundle POSTed through a door as the signed-in administrator; `idMap` as storeProcess fills it. */
export function doorContestant(door: Door, idMap: Map<string, string>, name = `transaction Bundle through the ${door.name} door (a clinic administrator's session)`): Contestant {
  const row = newRow(name);
  return {
    row,
    async run(bundle, text) {
      const t0 = performance.now();
      const answer = await door.send('POST', '/fhir/R4', text);
      const ms = performance.now() - t0;
      const body = answer.body as Bundle | undefined;
      if (answer.status !== 200 || body?.type !== 'transaction-response') {
        return fail(row, `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
      body.entry?.forEach((e, i) => {
        const generated = bundle.entry?.[i]?.resource;
        const location = e.response?.location;
        if (generated && MAPPED_TYPES.has(generated.resourceType) && location) {
          const [type, id] = location.split('/');
          idMap.set(`${generated.resourceType}/${generated.id}`, `${type}/${id}`);
        }
      });
      return ms;
    },
  };
}

export interface RaceSetup {
  contestants: Contestant[];
  /** The core's store, for the searches afterwards (open). */
  core: Store;
  /** Generated `Type/id` -> the core store's `Type/id` (patients and encounters). */
  coreIds: Map<string, string>;
  /** Hosts by contestant name, open, for the request sections. */
  hosts: { import: Host; http: Host; ipc: Host };
  /** Doors of the HTTP and IPC hosts. */
  doors: { http: Door; ipc: Door };
  /** Generated `Type/id` -> each door host's `Type/id` (patients and encounters). */
  doorIds: { http: Map<string, string>; ipc: Map<string, string> };
  close(): Promise<void>;
}

export async function setUpRace(dir: string, key: string): Promise<RaceSetup> {
  const core = createStore({ path: path.join(dir, 'core.db'), key, backgroundCheckpoint: true });
  const coreIds = new Map<string, string>();
  const importHost = openHost(path.join(dir, 'import'), key);
  const httpHost = openHost(path.join(dir, 'http'), key);
  const ipcHost = openHost(path.join(dir, 'ipc'), key);
  const quietHost = openHost(path.join(dir, 'http-audit-off-race'), key, false);
  await seedAdmin(httpHost);
  await seedAdmin(ipcHost);
  await seedAdmin(quietHost);
  const http = await httpDoor(httpHost, await signIn(httpHost));
  const ipc = ipcDoor(ipcHost, await signIn(ipcHost));
  const quiet = await httpDoor(quietHost, await signIn(quietHost));
  const doorIds = { http: new Map<string, string>(), ipc: new Map<string, string>() };
  return {
    contestants: [
      coreContestant(core, coreIds),
      importContestant(importHost, dir),
      importReadContestant(dir),
      doorContestant(http, doorIds.http),
      doorContestant(ipc, doorIds.ipc),
      doorContestant(quiet, new Map(), AUDIT_OFF_DOOR),
    ],
    core,
    coreIds,
    hosts: { import: importHost, http: httpHost, ipc: ipcHost },
    doors: { http, ipc },
    doorIds,
    async close() {
      await http.close();
      await ipc.close();
      await quiet.close();
      core.close();
      importHost.close();
      httpHost.close();
      ipcHost.close();
      quietHost.close();
    },
  };
}

/** Runs every Bundle through every contestant (rotating order); `onBundle` sees each Bundle once, untimed. */
export async function race(bundles: Iterable<{ bundle: Bundle }>, contestants: Contestant[], log: (m: string) => void, onBundle?: (bundle: Bundle) => void): Promise<number> {
  let index = 0;
  let resources = 0;
  let nextLog = 20_000;
  for (const { bundle } of bundles) {
    const text = JSON.stringify(bundle);
    const count = bundle.entry?.length ?? 0;
    const slice = Math.floor(resources / SLICE);
    for (let k = 0; k < contestants.length; k++) {
      const c = contestants[(index + k) % contestants.length];
      // Each contestant gets its own copy: processBundle rewrites the Bundle it is given.
      const ms = await c.run(JSON.parse(text) as Bundle, text);
      if (ms !== undefined) {
        c.row.seconds += ms / 1000;
        c.row.slices[slice] = (c.row.slices[slice] ?? 0) + ms / 1000;
        c.row.resources += count;
        c.row.bundles++;
      }
    }
    onBundle?.(JSON.parse(text) as Bundle);
    index++;
    resources += count;
    if (resources >= nextLog) {
      log(`  ${resources} resources written by each path`);
      nextLog += 20_000;
    }
  }
  return resources;
}
