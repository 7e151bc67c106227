// Who a request acts as, with everything the enforcement point needs compiled once: the effective
// policy, its search guard, SQL fragments and write constraints. Compiled per membership and cached;
// the cache key includes a stamp of the project's AccessPolicy and ProjectMembership rows (versions
// and last update), so any edit of a policy or membership is seen by the very next request.
import type { AccessPolicy, ProjectMembership, Reference } from '@medplum/fhirtypes';
import {
  buildEffectivePolicy,
  createSearchGuard,
  createWriteConstraintCache,
  type EffectivePolicy,
  type SearchGuard,
  type WriteConstraintSet,
  type PolicyEntry,
} from '../access/index.ts';
import type { Interaction } from '../access/types.ts';
import type { Session } from '../auth/types.ts';
import type { Db } from '../store/types.ts';
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
}

export interface PrincipalCache {
  forSession(session: Session): Principal;
  /** The system context of direct host commands: full access to one project, audited as 'system'. */
  system(project: string, name?: string): Principal;
  /** The effective policy of a session (for /auth/me). */
  policyOf(session: Session): EffectivePolicy;
}

const READS: ReadonlySet<Interaction> = new Set<Interaction>(['read', 'vread', 'search', 'history']);

/** The principal with every entry cut down to reads: no write path can find an entry allowing it. */
function readOnly(principal: Principal): Principal {
  const policy: EffectivePolicy = {
    ...principal.policy,
    entries: principal.policy.entries.map((e) => ({ ...e, interactions: new Set([...e.interactions].filter((i) => READS.has(i))) })),
  };
  return { ...principal, policy, admin: false, guard: createSearchGuard(policy) };
}

export function createPrincipalCache(db: Db): PrincipalCache {
  const stampStmt = db.prepare(
    `SELECT coalesce(sum(version), 0) || ':' || coalesce(max(last_updated), 0) || ':' || count(*)
       FROM resource WHERE type IN ('AccessPolicy', 'ProjectMembership') AND project = ?`,
  );
  const policyStmt = db.prepare("SELECT content FROM resource WHERE type = 'AccessPolicy' AND id = ? AND project = ? AND deleted = 0");
  const cache = new Map<string, { stamp: string; principal: Principal }>();

  function compile(project: string, membership: ProjectMembership, kind: Principal['kind'], agent: Principal['agent'], session?: Session): Principal {
    const policy = buildEffectivePolicy({
      membership,
      policies: (reference) => {
        const row = policyStmt.get(reference.slice('AccessPolicy/'.length), project) as { content: string } | undefined;
        return row ? (JSON.parse(row.content) as AccessPolicy) : undefined;
      },
      user: session?.user ? { id: session.user.id, email: session.user.email } : undefined,
    });
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
    };
  }

  function forSession(session: Session): Principal {
    const stamp = `${stampStmt.pluck().get(session.projectId) as string}|${session.membership.meta?.versionId ?? ''}`;
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
        readOnly(compile(session.projectId, { ...session.membership, admin: false }, 'user', { who: viewAs.admin, user: { reference: `User/${viewAs.adminUserId}` }, viewing: profile }, session))
      : compile(session.projectId, session.membership, 'user', { who: profile, user: { reference: session.subject } }, session);
    cache.set(key, { stamp, principal });
    return principal;
  }

  return {
    forSession,
    system(project, name = 'Outpost host (system)') {
      return compile(project, { resourceType: 'ProjectMembership', admin: true } as ProjectMembership, 'system', {
        who: { display: name },
        name,
      });
    },
    policyOf: (session) => forSession(session).policy,
  };
}
