// The app's import route (mounted at the host root):
//   POST outpost/import?name=<file name>[&force=true]   body: the file's text (a JSON Bundle or resource,
//        or NDJSON), decompressed by the app -> the import summary
// The same importer as `outpost import`, as the session: every entry checked against its access
// policy and audited. A re-run of the same file is skipped and said so (ledger.ts); `force=true`
// imports it again. A file of which nothing could be imported (not JSON, nested too deep, every
// Bundle refused) is a 400 OperationOutcome with the reasons; one partly imported is answered with
// the summary of both.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { FhirError, errors } from '../../../shared/errors.ts';
import { FHIR_JSON, mediaType } from '../../../shared/fhir/http.ts';
import { safeText } from '../../../shared/safe-text.ts';
import { authenticateRequest } from '../auth/routes.ts';
import type { AuthService, Session } from '../auth/types.ts';
import type { Route } from '../routes/router.ts';
import type { Repository } from '../access/index.ts';
import { describeImport, type Importer, type ImportSummary } from './import.ts';

export const IMPORT_PATH = 'outpost/import';

const TEXT_TYPES = new Set([FHIR_JSON, 'application/json', 'application/fhir+ndjson', 'application/x-ndjson', 'application/ndjson', 'text/plain']);

export interface ImportRouteDeps {
  auth: AuthService;
  access: { forSession(session: Session): Repository };
  importer: Importer;
}

export interface ImportAnswer extends ImportSummary {
  /** The summary in words, as the app shows it. */
  message: string;
}

/** Nothing imported, nothing skipped, and something went wrong: the file is bad input. */
function nothingImported(summary: ImportSummary): boolean {
  return summary.failures.length > 0 && summary.resources === 0 && summary.skippedFiles.length === 0 && summary.skippedUnits === 0;
}

export function importRoutes(deps: ImportRouteDeps): Route[] {
  return [
    {
      method: 'POST',
      pattern: IMPORT_PATH,
      handler: async (req): Promise<HostResponse> => {
        const session = authenticateRequest(deps.auth, req.headers);
        const type = mediaType(req.headers['content-type']) ?? FHIR_JSON;
        if (!TEXT_TYPES.has(type)) {
          throw errors.unsupportedMediaType(`The import route takes FHIR JSON or NDJSON text, not ${type}`);
        }
        const query = new URLSearchParams(req.query);
        const name = safeText(query.get('name') ?? '', 255);
        if (!name) {
          throw errors.badRequest('The import needs the file name (?name=)', 'name');
        }
        if (!req.body || req.body.trim() === '') {
          throw errors.badRequest('The file is empty');
        }
        const summary = await deps.importer.importText(deps.access.forSession(session), name, req.body, { force: query.get('force') === 'true' });
        if (nothingImported(summary)) {
          const issue: OperationOutcomeIssue[] = summary.failures.slice(0, 20).map((f) => ({ severity: 'error', code: 'invalid', details: { text: f.message } }));
          throw new FhirError(400, { resourceType: 'OperationOutcome', issue });
        }
        const answer: ImportAnswer = { ...summary, message: describeImport(summary, 'choose "Import again" to import it anyway') };
        return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: answer };
      },
    },
  ];
}
