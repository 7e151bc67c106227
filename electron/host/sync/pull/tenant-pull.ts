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
// The remote project is the one of the credential's own membership (remote-project.ts: /auth/me on
// Medplum), mapped to the local project id (sync_id_map), so `Project/<remote>` references in
// memberships and Users point at the local project; every search is scoped to it (`_project`), so the
// tenant's own resources come and none of Medplum's shared definitions or linked projects.
// What this workstation invented before the bootstrap (its first-run owner's profile) is kept local
// (local-only.ts): the tenant's data comes from the remote, and nothing made up here is pushed into it.
import type { Bundle, CapabilityStatement, ProjectMembership } from '@medplum/fhirtypes';
import { keepLocalOnly } from '../local-only.ts';
import { createPageWriter } from './pull-page.ts';
import { emptyPullSummary, pullType, PULL_CLINICAL_TYPES, type PullOptions, type PullSummary, type TypeRun } from './pull.ts';
import { getWatermark } from './pull-state.ts';
import { mapRemoteProject, projectScope, remoteProjectOf, withScope } from '../remote/remote-project.ts';

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

/**
 * Profiles of the local project's memberships that did not come from the remote (the first-run owner
 * of this workstation): kept on this workstation. Memberships pulled by an earlier, interrupted run of
 * this bootstrap are mapped and left alone.
 */
function keepLocalProfilesLocal(opts: PullOptions, now: number): void {
  const memberships = (opts.store.search('ProjectMembership', '_count=1000', { project: opts.project }).entry ?? []).map((e) => e.resource as ProjectMembership);
  const mapped = opts.db.prepare<[string, string], number>('SELECT 1 FROM sync_id_map WHERE type = ? AND local_id = ?').pluck();
  for (const m of memberships) {
    const [type, id] = (m.profile?.reference ?? '').split('/');
    if (!m.id || !type || !id || mapped.get('ProjectMembership', m.id) !== undefined || mapped.get(type, id) !== undefined) continue;
    keepLocalOnly(opts.db, { type, id, project: opts.project, reason: 'profile of a local member of this workstation (before its tenant bootstrap)' }, now);
  }
}

async function remoteTotal(opts: PullOptions, type: string): Promise<number> {
  const res = await opts.remote.request('GET', withScope(`${type}?_summary=count`, opts.scope));
  return res.status === 200 ? ((res.body as Bundle | undefined)?.total ?? 0) : 0;
}

export async function tenantPull(options: PullOptions): Promise<TenantPullSummary> {
  const clock = options.clock ?? (() => new Date());
  const summary: TenantPullSummary = { ...emptyPullSummary(), total: 0, resumedTypes: [] };
  keepLocalProfilesLocal(options, clock().getTime());
  const remoteProject = await remoteProjectOf(options.remote);
  if (remoteProject) mapRemoteProject(options.db, options.project, remoteProject);
  const opts: PullOptions = { ...options, scope: options.scope ?? projectScope(remoteProject) };
  // The listed types always; any other type the remote says it has, when it holds resources.
  const base = opts.types ?? tenantTypes();
  const discovered = opts.types ? [] : tenantTypes(await remoteTypes(opts)).filter((t) => !base.includes(t));
  const types = [...base, ...discovered];

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
