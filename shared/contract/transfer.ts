// The app's import of files and its export: the same importer and export list as `outpost import` and
// `outpost export`, as the session.
import { z } from 'zod';
import { safeText } from '../safe-text.ts';
import { defineRoute } from './route.ts';

/** What an import did, as `outpost import` prints it and the import route answers it. */
export const importSummarySchema = z.object({
  files: z.number(),
  /** Resources written (created or updated). */
  resources: z.number(),
  /** Entries that failed (a failed transaction counts all its entries). */
  failed: z.number(),
  failures: z.array(z.object({ file: z.string(), message: z.string() })),
  /** Files not read at all: this importer imported the same content into this project before. */
  skippedFiles: z.array(z.object({ file: z.string(), importedAt: z.string(), resources: z.number() })),
  /** Bundles skipped inside partly imported files (an import cut short), and the resources they hold. */
  skippedUnits: z.number(),
  skippedResources: z.number(),
  seconds: z.number(),
  resourcesPerSecond: z.number(),
});

export const transferContract = {
  /**
   * One file's text (a JSON Bundle or resource, or NDJSON; the app decompresses .gz), named by `name`: a
   * file imported before is skipped and said so unless `force`. A file of which nothing could be
   * imported is a 400 OperationOutcome with the reasons.
   */
  import: defineRoute({
    method: 'POST',
    path: 'outpost/import',
    auth: 'session',
    query: z.object({
      // Written into the import ledger and the summary: control characters escaped, 255 characters at most.
      name: z
        .string()
        .default('')
        .transform((v) => safeText(v, 255) ?? '')
        .pipe(z.string().min(1, { message: 'the import needs the file name (?name=)' })),
      force: z.enum(['true', 'false']).optional(),
    }),
    text: ['application/fhir+json', 'application/json', 'application/fhir+ndjson', 'application/x-ndjson', 'application/ndjson', 'text/plain'],
    response: importSummarySchema.extend({ message: z.string() }),
  }),
  /** The types the session's export holds (the list `outpost export` writes). */
  exportTypes: defineRoute({ method: 'GET', path: 'outpost/export/types', auth: 'session', response: z.object({ types: z.array(z.string()) }) }),
};
