// `outpost export <folder>`: one `<ResourceType>.ndjson` per type, the FHIR bulk-data layout.
// There is no export of the raw database: every export pages through an access-checked Store
// (host.access.forSession(session), or host.access.system(project) for the CLI), so the policy's
// filters, hidden fields, stripped secrets and the project boundary apply as to any search.
import { exportAs, type AccessExportSummary } from '../enforce/index.ts';
import type { Store } from '../store/types.ts';

export type ExportSummary = AccessExportSummary;

/** Writes every resource the repository's principal may search (live versions, masked); 403 for a raw Store. */
export function exportNdjson(repo: Store, folder: string): ExportSummary {
  return exportAs(repo, undefined, folder);
}
