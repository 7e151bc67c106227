// `outpost export <folder>`: one `<ResourceType>.ndjson` per type, the FHIR bulk-data layout.
// There is no export of the raw database: every export pages through a Repository
// (host.access.forSession(session), or host.access.system(project) for the CLI), so the policy's
// filters, hidden fields, stripped secrets and the project boundary apply as to any search.
import { exportAs, type AccessExportSummary, type Repository } from '../access/index.ts';

export type ExportSummary = AccessExportSummary;

/** Writes every resource the repository's principal may search (live versions, masked); 403 for anything else. */
export function exportNdjson(repo: Repository, folder: string): ExportSummary {
  return exportAs(repo, undefined, folder);
}
