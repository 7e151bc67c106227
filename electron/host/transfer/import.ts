// Imports (`outpost import`, and the app's import route): loads sources unit by unit. Each unit (a
// Bundle) is one short write transaction, and the event loop gets a turn between units, so a server
// in the same process keeps answering reads while a large import runs. A unit holds the host's one
// connection and its event loop while it is written, so the import route's units are small (see
// ROUTE_CHUNK); a file that is one transaction Bundle is one unit whatever its size (FHIR says so).
//
// An import can be re-run. Every committed unit is recorded, by content hash, in the same transaction
// as its resources (ledger.ts); every file once all its units are in. A re-run after a crash skips
// what was committed and imports the rest; the same content again is a no-op that says so; `force`
// imports again on purpose.
import type { Bundle } from '@medplum/fhirtypes';
import { outcomeText } from '../../../shared/errors.ts';
import { principalOf, type CallContext, type Repository } from '../access/index.ts';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import type { Db } from '../db/types.ts';
import { contentHash, createImportLedger, type ImportLedger, type LedgerKey } from './ledger.ts';
import { fileSource, listImportFiles, unitsOfText, type ImportUnit } from './sources.ts';

export interface ImportProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
  resources: number;
}

export interface ImportFailure {
  file: string;
  message: string;
}

export interface SkippedFile {
  file: string;
  /** When the same content was imported (ISO instant). */
  importedAt: string;
  resources: number;
}

export interface ImportSummary {
  files: number;
  /** Resources written (created or updated). */
  resources: number;
  /** Entries that failed (a failed transaction counts all its entries). */
  failed: number;
  failures: ImportFailure[];
  /** Files not read at all: this importer imported the same content into this project before. */
  skippedFiles: SkippedFile[];
  /** Bundles skipped inside partly imported files (an import cut short), and the resources they hold. */
  skippedUnits: number;
  skippedResources: number;
  seconds: number;
  resourcesPerSecond: number;
}

/** Resources per transaction of NDJSON in `outpost import`: nobody waits on that process meanwhile. */
export const FILE_CHUNK = 500;
/**
 * ...and in the import route (the app's import, browser mode's): a person's import is written as
 * their session (each entry checked against the policy and audited: ~1 ms a resource on a quiet
 * machine), and every other request waits for the unit being written, so units are a few milliseconds.
 * Measured in test/electron/host-process-ping.test.ts (pings answered while 100,000 are imported).
 */
export const ROUTE_CHUNK = 10;

export interface ImportOptions {
  /** Resources per transaction for NDJSON (default FILE_CHUNK; importText: ROUTE_CHUNK). */
  chunkSize?: number;
  ctx?: CallContext;
  onProgress?: (progress: ImportProgress) => void;
  now?: () => number;
  /** Import again what the ledger says was imported already. */
  force?: boolean;
  /** Wall clock of the ledger's rows (default Date.now). */
  clock?: () => number;
}

/** What an import writes through: a Repository (a session's, or the host's system work). */
type BundleProcessor = Pick<Repository, 'processBundle'>;

/** One thing to import: a file on disk, or a file's text given to the import route. */
interface Source {
  name: string;
  hash(): Promise<string>;
  units(chunkSize: number): AsyncGenerator<ImportUnit>;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isSuccess(status: string | undefined): boolean {
  return /^2\d\d/.test(status ?? '');
}

/** Whose imports these are: the project, and the command line ('system') or the session's membership. */
function ledgerKeyOf(store: BundleProcessor, ctx: CallContext | undefined): LedgerKey {
  const principal = principalOf(store);
  const importer = principal?.kind === 'user' && principal.session ? `ProjectMembership/${principal.session.membership.id}` : 'system';
  return { project: principal?.project ?? ctx?.project ?? DEFAULT_PROJECT_ID, importer };
}

function emptySummary(files: number): ImportSummary {
  return { files, resources: 0, failed: 0, failures: [], skippedFiles: [], skippedUnits: 0, skippedResources: 0, seconds: 0, resourcesPerSecond: 0 };
}

async function importSources(store: BundleProcessor, ledger: ImportLedger, sources: Source[], options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? Date.now;
  const start = now();
  const summary = emptySummary(sources.length);
  // Local files take the store's compiled structural validation (R4 StructureDefinitions: types,
  // cardinality, required elements and bindings, formats) without FHIRPath invariants, like the demo
  // seed: full validation alone caps import near 300 resources/s. A caller may still ask for 'full'.
  const ctx: CallContext = { validation: 'structure', ...options.ctx };
  const key = ledgerKeyOf(store, options.ctx);
  for (const [index, source] of sources.entries()) {
    try {
      const fileHash = await source.hash();
      const before = options.force ? undefined : ledger.committed(key, 'file', fileHash);
      if (before) {
        summary.skippedFiles.push({ file: source.name, importedAt: new Date(before.importedAt).toISOString(), resources: before.resources });
      } else {
        const fileTally = { resources: 0, failed: 0, complete: true };
        let unitNo = 0;
        for await (const unit of source.units(options.chunkSize ?? FILE_CHUNK)) {
          unitNo++;
          importUnit(store, unit, `${source.name}#${unitNo}`, { ledger, key, ctx, force: options.force, clock }, summary, fileTally);
          options.onProgress?.({ file: source.name, filesDone: index, filesTotal: sources.length, resources: summary.resources });
          await yieldToEventLoop();
        }
        if (unitNo === 0) {
          // Nothing in it to import (a Bundle without entries, an empty NDJSON file): say so, remember nothing.
          summary.failures.push({ file: source.name, message: 'No resources to import in this file' });
        } else if (fileTally.complete) {
          ledger.transaction(() =>
            ledger.record(key, { kind: 'file', hash: fileHash, source: source.name, resources: fileTally.resources, failed: fileTally.failed, importedAt: clock() }),
          );
        }
      }
    } catch (err) {
      summary.failures.push({ file: source.name, message: outcomeText(err, 'failed') });
    }
    options.onProgress?.({ file: source.name, filesDone: index + 1, filesTotal: sources.length, resources: summary.resources });
  }
  summary.seconds = (now() - start) / 1000;
  summary.resourcesPerSecond = summary.seconds > 0 ? summary.resources / summary.seconds : 0;
  return summary;
}

interface UnitContext {
  ledger: ImportLedger;
  key: LedgerKey;
  ctx: CallContext;
  force?: boolean;
  clock: () => number;
}

/** One Bundle: skipped when committed before, else written with its ledger row in one transaction. */
function importUnit(
  store: BundleProcessor,
  { bundle: unit, hash }: ImportUnit,
  source: string,
  u: UnitContext,
  summary: ImportSummary,
  fileTally: { resources: number; failed: number; complete: boolean },
): void {
  const size = unit.entry?.length ?? 0;
  const before = u.force ? undefined : u.ledger.committed(u.key, 'unit', hash);
  if (before) {
    summary.skippedUnits++;
    summary.skippedResources += before.resources;
    fileTally.resources += before.resources;
    fileTally.failed += before.failed;
    return;
  }
  let written = 0;
  let failed = 0;
  /** Counts the unit's answers and writes its ledger row, in the unit's transaction. */
  const recordUnit = (response: Bundle): void => {
    for (const entry of response.entry ?? []) {
      if (isSuccess(entry.response?.status)) {
        written++;
      } else {
        failed++;
        const issue = (entry.response?.outcome ?? entry.resource) as { issue?: { details?: { text?: string } }[] } | undefined;
        if (summary.failures.length < 100) {
          summary.failures.push({ file: source, message: issue?.issue?.[0]?.details?.text ?? `entry failed with ${entry.response?.status}` });
        }
      }
    }
    u.ledger.record(u.key, { kind: 'unit', hash, source, resources: written, failed, importedAt: u.clock() });
  };
  try {
    if (unit.type === 'transaction') {
      // The ledger row is written in the Bundle's own transaction: one around it would make the
      // Bundle's a savepoint, and SQLite copies each page a savepoint changes (5% of an import).
      let recorded = false;
      const response = store.processBundle(unit, u.ctx, (answer) => {
        recordUnit(answer);
        recorded = true;
      });
      if (!recorded) {
        // A processor that left commitWith out (a wrapper that drops the argument): the unit is in,
        // so its row is written now, or a re-run would import it twice.
        u.ledger.transaction(() => recordUnit(response));
      }
    } else {
      // A batch's entries commit with the ledger row in this one transaction (each in its savepoint).
      u.ledger.transaction(() => recordUnit(store.processBundle(unit, u.ctx)));
    }
  } catch (err) {
    // A failed transaction wrote nothing, its ledger row included: a re-run tries it again.
    summary.failed += size;
    summary.failures.push({ file: source, message: outcomeText(err, 'failed') });
    fileTally.complete = false;
    return;
  }
  summary.resources += written;
  summary.failed += failed;
  fileTally.resources += written;
  fileTally.failed += failed;
}

export interface Importer {
  /** `outpost import`: files and folders (see sources.ts for the formats). */
  importFiles(repo: BundleProcessor, paths: string[], options?: ImportOptions): Promise<ImportSummary>;
  /** The import route: one file's text (JSON or NDJSON, already decompressed), named as the person chose it. */
  importText(repo: BundleProcessor, name: string, text: string, options?: ImportOptions): Promise<ImportSummary>;
}

/**
 * The importer of one store file. It holds the import ledger (its own table, on the store's connection,
 * so a Bundle's resources and its ledger row commit together); the resources go through the Repository
 * each call is given.
 */
export function createImporter(db: Db): Importer {
  const ledger = createImportLedger(db);
  return {
    importFiles(repo, paths, options = {}) {
      const sources = listImportFiles(paths).map(
        (file): Source => ({ name: file, ...fileSource(file) }),
      );
      return importSources(repo, ledger, sources, options);
    },
    importText(repo, name, text, options = {}) {
      const textHash = contentHash(text);
      const source: Source = { name, hash: async () => textHash, units: (chunkSize) => unitsOfText(text, name, chunkSize, textHash) };
      return importSources(repo, ledger, [source], { chunkSize: ROUTE_CHUNK, ...options });
    },
  };
}

/** What a summary says in one line: written, failed, skipped as imported before; `forceHint` says how to import again. */
export function describeImport(summary: ImportSummary, forceHint = '--force imports again'): string {
  const parts = [`Imported ${summary.resources} resources from ${summary.files} file${summary.files === 1 ? '' : 's'} in ${summary.seconds.toFixed(1)} s (${Math.round(summary.resourcesPerSecond)} resources/s)`];
  if (summary.failed || summary.failures.length) {
    parts.push(`${summary.failed} failed`);
  }
  if (summary.skippedUnits) {
    parts.push(`${summary.skippedUnits} Bundle${summary.skippedUnits === 1 ? '' : 's'} (${summary.skippedResources} resources) skipped: committed by an earlier run that did not finish`);
  }
  if (summary.skippedFiles.length) {
    const first = summary.skippedFiles.map((f) => f.importedAt).sort()[0];
    const resources = summary.skippedFiles.reduce((n, f) => n + f.resources, 0);
    parts.push(
      summary.skippedFiles.length === summary.files
        ? `nothing new: ${summary.files === 1 ? 'this file was' : `these ${summary.files} files were`} imported before (${resources} resources, first on ${first}); ${forceHint}`
        : `${summary.skippedFiles.length} file${summary.skippedFiles.length === 1 ? '' : 's'} (${resources} resources) skipped: imported before, first on ${first}`,
    );
  }
  return parts.join('; ');
}
