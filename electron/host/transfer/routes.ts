// The app's import and export routes (shared/contract/transfer.ts):
//   POST outpost/import?name=<file name>[&force=true]   body: the file's text (a JSON Bundle or resource,
//        or NDJSON), decompressed by the app -> the import summary
//   GET  outpost/export/types                           the types the session's export holds
// The same importer as `outpost import`, as the session: every entry checked against its access
// policy and audited. A re-run of the same file is skipped and said so (ledger.ts); `force=true`
// imports it again. A file of which nothing could be imported (not JSON, nested too deep, every
// Bundle refused) is a 400 OperationOutcome with the reasons; one partly imported is answered with
// the summary of both.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { transferContract } from '../../../shared/contract/transfer.ts';
import { FhirError } from '../../../shared/errors.ts';
import { exportTypes } from '../access/index.ts';
import { route } from '../routes/contract.ts';
import { respondJson } from '../routes/respond.ts';
import { authenticated, type Route } from '../routes/router.ts';
import { describeImport, type Importer, type ImportSummary } from './import.ts';

export interface TransferRouteDeps {
  importer: Importer;
}

/** Nothing imported, nothing skipped, and something went wrong: the file is bad input. */
function nothingImported(summary: ImportSummary): boolean {
  return summary.failures.length > 0 && summary.resources === 0 && summary.skippedFiles.length === 0 && summary.skippedUnits === 0;
}

export function transferRoutes(deps: TransferRouteDeps): Route[] {
  return [
    route(
      transferContract.import,
      authenticated(async (req, { repo }) => {
        const { query, body } = req.input();
        const summary = await deps.importer.importText(repo, query.name, body, { force: query.force === 'true' });
        if (nothingImported(summary)) {
          const issue: OperationOutcomeIssue[] = summary.failures.slice(0, 20).map((f) => ({ severity: 'error', code: 'invalid', details: { text: f.message } }));
          throw new FhirError(400, { resourceType: 'OperationOutcome', issue });
        }
        return respondJson({ ...summary, message: describeImport(summary, 'choose "Import again" to import it anyway') });
      })
    ),
    route(transferContract.exportTypes, authenticated((_req, { repo }) => respondJson({ types: exportTypes(repo) }))),
  ];
}
