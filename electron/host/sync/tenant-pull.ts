// Tenant pull: an administrator's empty workstation bootstraps a whole project from its remote:
// the Project, its AccessPolicies, Users (without secrets: pull-page.ts strips them), the profiles
// (Practitioner, Patient, RelatedPerson), ProjectMemberships, then the clinical data.
//
// Types: TENANT_ADMIN_TYPES, the clinical types, and every other type the remote's CapabilityStatement
// lists that holds resources (`_summary=count`), except TENANT_EXCLUDED_TYPES.
// It is pull.ts's per-type paging (one SQLite transaction per page, with the type's resume link and
// watermark), in the order above, with progress against the remote's totals (`_summary=count`).
// Resume after a kill: a type finished by this bootstrap is marked `bootstrapped` and skipped; the type
// that was under way continues from the `next` link committed with its last page, so no page is read
// twice and none is skipped (a page's rows, its resume link and its progress commit together).
// The remote's Project maps to the local project id (sync_id_map), so `Project/<remote>` references
// in memberships and Users point at the local project.
import type { Bundle, CapabilityStatement, Project } from '@medplum/fhirtypes';
import { createPageWriter } from './pull-page.ts';
import { emptyPullSummary, pullType, PULL_CLINICAL_TYPES, type PullOptions, type PullSummary, type TypeRun } from './pull.ts';
import { getWatermark } from './pull-state.ts';

/** Project structure first (what the rest references), then the people, then the clinical record. */
export const TENANT_ADMIN_TYPES = ['Project', 'AccessPolicy', 'User', 'Practitioner', 'Patient', 'RelatedPerson', 'ClientApplication', 'ProjectMembership'];

/**
 * Types a bootstrap never copies even when the remote has them: the remote's own audit trail (the
 * workstation keeps its own), server internals and secrets (logins, keys, security requests), binaries,
 * and server-side automation that does not run here.
 */
export const TENANT_EXCLUDED_TYPES: ReadonlySet<string> = new Set([
  'AuditEvent',
  'Login',
  'JsonWebKey',
  'UserSecurityRequest',
  'DomainConfiguration',
  'Binary',
  'AsyncJob',
  'BulkDataExport',
  'SmartAppLaunch',
  'Subscription',
  'Bot',
]);

export function tenantTypes(extra: string[] = []): string[] {
  return [...new Set([...TENANT_ADMIN_TYPES, ...PULL_CLINICAL_TYPES, ...extra])].filter((t) => !TENANT_EXCLUDED_TYPES.has(t));
}

/** Searchable types the remote's CapabilityStatement lists (none when it has no `metadata`). */
async function remoteTypes(opts: PullOptions): Promise<string[]> {
  const res = await opts.remote.request('GET', 'metadata');
  const statement = res.body as CapabilityStatement | undefined;
  if (res.status !== 200 || statement?.resourceType !== 'CapabilityStatement') {
    return [];
  }
  return (statement.rest ?? []).flatMap((rest) =>
    (rest.resource ?? []).filter((r) => !r.interaction || r.interaction.some((i) => i.code === 'search-type')).map((r) => r.type as string),
  );
}

export interface TenantPullSummary extends PullSummary {
  /** Remote resources counted before the pull (the progress total). */
  total: number;
  /** Types finished by an earlier, interrupted run of this bootstrap. */
  resumedTypes: string[];
}

/** Maps the remote's one Project to the local project id before anything references it. */
async function mapProject(opts: PullOptions): Promise<void> {
  const res = await opts.remote.request('GET', 'Project?_count=2');
  const projects = ((res.body as Bundle<Project> | undefined)?.entry ?? []).map((e) => e.resource).filter((p): p is Project => Boolean(p?.id));
  if (res.status !== 200 || projects.length !== 1 || projects[0].id === opts.project) {
    return;
  }
  opts.db
    .prepare(`INSERT OR IGNORE INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES ('Project', ?, ?, NULL)`)
    .run(opts.project, projects[0].id as string);
}

async function remoteTotal(opts: PullOptions, type: string): Promise<number> {
  const res = await opts.remote.request('GET', `${type}?_summary=count`);
  return res.status === 200 ? ((res.body as Bundle | undefined)?.total ?? 0) : 0;
}

export async function tenantPull(opts: PullOptions): Promise<TenantPullSummary> {
  const clock = opts.clock ?? (() => new Date());
  const summary: TenantPullSummary = { ...emptyPullSummary(), total: 0, resumedTypes: [] };
  // The listed types always; any other type the remote says it has, when it holds resources.
  const base = opts.types ?? tenantTypes();
  const discovered = opts.types ? [] : tenantTypes(await remoteTypes(opts)).filter((t) => !base.includes(t));
  const types = [...base, ...discovered];
  await mapProject(opts);

  // Totals: what finished types already hold, plus the remote's count for the rest.
  let doneBefore = 0;
  const todo: string[] = [];
  for (const type of types) {
    const state = getWatermark(opts.db, opts.project, type);
    if (state?.bootstrapped) {
      summary.resumedTypes.push(type);
      doneBefore += state.pulled;
      continue;
    }
    todo.push(type);
  }
  summary.total = doneBefore;
  for (const type of [...todo]) {
    if (opts.signal?.aborted) break;
    const total = await remoteTotal(opts, type);
    if (total === 0 && discovered.includes(type)) {
      todo.splice(todo.indexOf(type), 1);
    }
    summary.total += total;
  }

  const writer = createPageWriter({ db: opts.db, store: opts.store, outbox: opts.outbox, project: opts.project, clock });
  let finishedTypes = doneBefore;
  const run: TypeRun = {
    opts,
    writer,
    summary,
    onPage: (type, pulledInRun) => opts.onProgress?.({ phase: 'tenant', done: finishedTypes + pulledInRun, total: summary.total, type }),
  };
  opts.onProgress?.({ phase: 'tenant', done: doneBefore, total: summary.total });
  for (const type of todo) {
    if (summary.unauthorized || summary.aborted) break;
    const outcome = await pullType(run, type);
    if (outcome === 'done') {
      writer.markBootstrapped(type);
    } else if (outcome === 'revoked') {
      summary.errors.push(`${type}: the remote refused to list it (403)`);
    }
    // 'stopped': the error is in the summary and the type is not marked, so the next run resumes it;
    // the other types still come (a 401 or an abort ends the loop above).
    finishedTypes += getWatermark(opts.db, opts.project, type)?.pulled ?? 0;
  }
  opts.onProgress?.({ phase: 'tenant', done: finishedTypes, total: summary.total });
  return summary;
}
