// Export through the enforcement point: one `<ResourceType>.ndjson` per type the principal may
// search, each paged through the principal's own search (so masks, secrets and project boundaries
// apply exactly as to any other read). AuditEvents are not exported: sync carries them.
// Only a Repository made by the access service is accepted: anything else (the raw store included) is
// refused, so no export path can read the database around the session's policy.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errors } from '../../../shared/errors.ts';
import { entriesFor } from './policy/index.ts';
import { principalOf, type Repository } from './repository.ts';

export interface AccessExportSummary {
  folder: string;
  counts: Record<string, number>;
  resources: number;
  seconds: number;
}

const PAGE = 1000;

/**
 * The types an export of this principal holds: those present in its project that it may search
 * (AuditEvents aside: sync carries them). The UI's export asks for the same list (GET outpost/export/types)
 * and pages through the same searches, so both write what the role can see.
 */
export function exportTypes(repo: Repository): string[] {
  const principal = principalOf(repo);
  if (!principal) {
    throw errors.forbidden('Export runs only through an access-checked repository (a session or the host system context)');
  }
  return repo.storedTypes().filter((type) => type !== 'AuditEvent' && entriesFor(principal.policy, type, 'search').length > 0);
}

/**
 * Every type present in the principal's project; those it cannot search are skipped. `project`, when
 * given, must be the principal's own (a session never exports another project).
 */
export function exportAs(repo: Repository, project: string | undefined, folder: string): AccessExportSummary {
  const principal = principalOf(repo);
  if (!principal) {
    throw errors.forbidden('Export runs only through an access-checked repository (a session or the host system context)');
  }
  if (project !== undefined && project !== principal.project) {
    throw errors.forbidden('A session exports its own project only');
  }
  const start = performance.now();
  mkdirSync(folder, { recursive: true });
  const counts: Record<string, number> = {};
  for (const type of exportTypes(repo)) {
    let fd: number | undefined;
    try {
      for (let offset = 0; ; offset += PAGE) {
        let page;
        try {
          page = repo.search(type, `_count=${PAGE}&_offset=${offset}&_sort=_id&_total=none`);
        } catch {
          break; // not searchable by this principal (403): nothing of it leaves
        }
        const lines = (page.entry ?? []).filter((e) => e.resource).map((e) => JSON.stringify(e.resource) + '\n');
        if (lines.length) {
          fd ??= openSync(join(folder, `${type}.ndjson`), 'w');
          writeSync(fd, lines.join(''));
          counts[type] = (counts[type] ?? 0) + lines.length;
        }
        if (!page.link?.some((l) => l.relation === 'next')) {
          break;
        }
      }
    } finally {
      if (fd !== undefined) {
        closeSync(fd);
      }
    }
  }
  const resources = Object.values(counts).reduce((a, b) => a + b, 0);
  return { folder, counts, resources, seconds: (performance.now() - start) / 1000 };
}
