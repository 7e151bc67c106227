// `outpost import`: loads files into the store unit by unit. Each unit (a Bundle) is one short write
// transaction, and the event loop gets a turn between units, so a server in the same process keeps
// answering reads while a large import runs.
import type { Bundle } from '@medplum/fhirtypes';
import { outcomeText } from '../../../shared/errors.ts';
import type { CallContext, Store } from '../store/types.ts';
import { listImportFiles, unitsOfFile } from './sources.ts';

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

export interface ImportSummary {
  files: number;
  /** Resources written (created or updated). */
  resources: number;
  /** Entries that failed (a failed transaction counts all its entries). */
  failed: number;
  failures: ImportFailure[];
  seconds: number;
  resourcesPerSecond: number;
}

export interface ImportOptions {
  /** Resources per transaction for NDJSON (default 500). */
  chunkSize?: number;
  ctx?: CallContext;
  onProgress?: (progress: ImportProgress) => void;
  now?: () => number;
}

type BundleProcessor = Pick<Store, 'processBundle'>;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isSuccess(status: string | undefined): boolean {
  return /^2\d\d/.test(status ?? '');
}

export async function importFiles(store: BundleProcessor, paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const files = listImportFiles(paths);
  const summary: ImportSummary = { files: files.length, resources: 0, failed: 0, failures: [], seconds: 0, resourcesPerSecond: 0 };

  // Local files take the store's compiled structural validation (R4 StructureDefinitions: types,
  // cardinality, required elements, formats) without FHIRPath invariants, like the demo seed: full
  // validation alone caps import near 300 resources/s. A caller may still ask for 'full'.
  const ctx: CallContext = { validation: 'structure', ...options.ctx };
  for (const [index, file] of files.entries()) {
    try {
      for await (const unit of unitsOfFile(file, options.chunkSize ?? 500)) {
        processUnit(store, unit, file, summary, ctx);
        options.onProgress?.({ file, filesDone: index, filesTotal: files.length, resources: summary.resources });
        await yieldToEventLoop();
      }
    } catch (err) {
      summary.failures.push({ file, message: outcomeText(err, 'failed') });
    }
    options.onProgress?.({ file, filesDone: index + 1, filesTotal: files.length, resources: summary.resources });
  }
  summary.seconds = (now() - start) / 1000;
  summary.resourcesPerSecond = summary.seconds > 0 ? summary.resources / summary.seconds : 0;
  return summary;
}

function processUnit(store: BundleProcessor, unit: Bundle, file: string, summary: ImportSummary, ctx?: CallContext): void {
  const size = unit.entry?.length ?? 0;
  let response: Bundle;
  try {
    response = store.processBundle(unit, ctx);
  } catch (err) {
    // A failed transaction wrote nothing.
    summary.failed += size;
    summary.failures.push({ file, message: outcomeText(err, 'failed') });
    return;
  }
  for (const entry of response.entry ?? []) {
    if (isSuccess(entry.response?.status)) {
      summary.resources++;
    } else {
      summary.failed++;
      const issue = (entry.response?.outcome ?? entry.resource) as { issue?: { details?: { text?: string } }[] } | undefined;
      if (summary.failures.length < 100) {
        summary.failures.push({ file, message: issue?.issue?.[0]?.details?.text ?? `entry failed with ${entry.response?.status}` });
      }
    }
  }
}
