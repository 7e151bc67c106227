// Who a request acts as, with everything the enforcement point needs compiled once: the effective
// policy, its search guard, SQL fragments and write constraints. Compiled per membership and cached;
// the cache key includes a stamp of the project's AccessPolicy and ProjectMembership rows (versions
// and last update), so any edit of a policy or membership is seen by the very next request.
import type { AccessPolicy, ProjectMembership, Reference } from '@medplum/fhirtypes';
import {
  ADMIN_ONLY_TYPES,
  buildEffectivePolicy,
  createSearchGuard,
  createWriteConstraintCache,
  type EffectivePolicy,
  type SearchGuard,
  type WriteConstraintSet,
  type PolicyEntry,
} from './policy/index.ts';
import type { Session } from '../auth/types.ts';
import { accessPolicyIn, accessStamp } from '../db/identities.ts';
import type { Db } from '../db/types.ts';
import { createEntryCompiler, type EntryCompiler } from './sql-match.ts';

export interface Principal {
  /** 'user': a signed-in session (people and programs); 'system': the host's own direct commands (CLI import/export). */
  kind: 'user' | 'system';
  /** The project every call of this principal stays in. */
  project: string;
  policy: EffectivePolicy;
  /** membership.admin (project admin); the system principal is admin too. */
  admin: boolean;
  guard: SearchGuard;
  compiler: EntryCompiler;
  constraintsOf(entry: PolicyEntry): WriteConstraintSet;
  /** For AuditEvent.agent: the profile acted as, and the User (or ClientApplication) behind it. */
  agent: { who: Reference; user?: Reference; name?: string; viewing?: Reference };
  session?: Session;
  /**
   * false: interactions write no AuditEvent of their own (system work audited as a whole elsewhere, such
   * as a sync run; counts of a policy review). Every session is audited.
   */
  audited: boolean;
}

export interface SystemOptions {
  /** Who the work is, in code and in AuditEvents ('Outpost host (system)', 'Sync', 'Import'...). */
  name?: string;
  /** false when the work is audited as a whole by its caller (default true). */
  audited?: boolean;
}

export interface PreviewOptions {
  /** Who looks (an administrator's session): the AuditEvents name them. Without one the preview is not audited. */
  viewer?: Session;
  /** The membership's User, for `%user.id` / `%user.email` in its policies (unknown: those entries match nothing). */
  user?: { id: string; email?: string };
}

export interface PrincipalCache {
  forSession(session: Session): Principal;
  /** The host's own work (import, seed, sync applying pulled data): full access to one project, named. */
  system(project: string, options?: SystemOptions): Principal;
  /**
   * A membership's policy, read-only (read, vread, search and history entries only: every write is
   * 403): what the policy review counts with, and what an administrator's "view as" shows.
   */
  preview(membership: ProjectMembership, options?: PreviewOptions): Principal;
  /** The effective policy of a session (for /auth/me). */
  policyOf(session: Session): EffectivePolicy;
}

export function createPrincipalCache(db: Db): PrincipalCache {
  const cache = new Map<string, { stamp: string; principal: Principal }>();

  function compile(
    project: string,
    membership: ProjectMembership,
    kind: Principal['kind'],
    agent: Principal['agent'],
    session?: Session,
    audited = true,
    readOnly = false,
    user: { id: string; email?: string } | undefined = session?.user ? { id: session.user.id, email: session.user.email } : undefined,
  ): Principal {
    const built = buildEffectivePolicy({
      membership,
      policies: (reference) => (reference === SYSTEM_POLICY_REFERENCE ? SYSTEM_POLICY : accessPolicyIn(db, project, reference.slice('AccessPolicy/'.length))),
      user,
    });
    const policy = readOnly ? readOnlyPolicy(built) : built;
    const constraints = createWriteConstraintCache();
    return {
      kind,
      project,
      policy,
      admin: membership.admin === true,
      guard: createSearchGuard(policy),
      compiler: createEntryCompiler(db, project),
      constraintsOf: (entry) => constraints.forEntry(entry),
      agent,
      session,
      audited,
    };
  }

  function forSession(session: Session): Principal {
    const stamp = `${accessStamp(db, session.projectId)}|${session.membership.meta?.versionId ?? ''}`;
    const viewAs = session.viewAs;
    const key = `${session.membership.id}|${session.subject}${viewAs ? `|view-as:${viewAs.adminSessionId}` : ''}`;
    const cached = cache.get(key);
    if (cached && cached.stamp === stamp) {
      return { ...cached.principal, session };
    }
    const profile: Reference = { reference: session.profile.reference, ...(session.profile.display ? { display: session.profile.display } : {}) };
    const principal = viewAs
      ? // A "view as" preview: the role's own policy with reads only, no admin rights, and audited as the
        // administrator viewing as that role.
        compile(session.projectId, { ...session.membership, admin: false }, 'user', { who: viewAs.admin, user: { reference: `User/${viewAs.adminUserId}` }, viewing: profile }, session, true, true)
      : compile(session.projectId, session.membership, 'user', { who: profile, user: { reference: session.subject } }, session);
    cache.set(key, { stamp, principal });
    return principal;
  }

  return {
    forSession,
    system(project, options = {}) {
      const name = options.name ?? 'Outpost host (system)';
      const membership: ProjectMembership = { resourceType: 'ProjectMembership', admin: true, accessPolicy: { reference: SYSTEM_POLICY_REFERENCE } } as ProjectMembership;
      return compile(project, membership, 'system', { who: { display: name }, name }, undefined, options.audited !== false);
    },
    preview(membership, options = {}) {
      const project = membership.project?.reference?.split('/')[1] ?? '';
      const viewer = options.viewer;
      const agent: Principal['agent'] = viewer
        ? { who: viewer.profile, user: { reference: viewer.subject }, name: `${viewer.profile.display ?? viewer.profile.reference} viewing as ${membership.profile?.display ?? membership.profile?.reference}` }
        : { who: membership.profile ?? { display: 'policy review' }, name: 'policy review' };
      return compile(project, membership, 'user', agent, undefined, viewer !== undefined, true, options.user);
    },
    policyOf: (session) => forSession(session).policy,
  };
}

/**
 * The host's own work may do everything in its project, admin types included, without the masks and
 * readonly fields of a project admin (first-run setup writes the Project's owner). Secrets still never
 * pass a repository: they are stripped on write and read, and set only by the credentials writer.
 */
const SYSTEM_POLICY_REFERENCE = 'AccessPolicy/outpost-host-system';
const SYSTEM_POLICY: AccessPolicy = {
  resourceType: 'AccessPolicy',
  name: 'Outpost host (system)',
  resource: [{ resourceType: '*' }, ...[...ADMIN_ONLY_TYPES].map((resourceType) => ({ resourceType }))],
};

const READ_INTERACTIONS = new Set(['read', 'vread', 'search', 'history']);

/** The policy with only its read-type interactions (an entry left with none is dropped). */
function readOnlyPolicy(policy: EffectivePolicy): EffectivePolicy {
  const entries = policy.entries
    .map((entry) => ({ ...entry, interactions: new Set([...entry.interactions].filter((i) => READ_INTERACTIONS.has(i))) }))
    .filter((entry) => entry.interactions.size > 0);
  return { ...policy, entries };
}
