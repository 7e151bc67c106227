// The policy review of memberships (issue 3 §5): for each membership of a project, its effective
// policy after substitution in words and as data, the warnings, and how many resources per type the
// role can see (visible.ts: the enforcement SQL). Used by GET /outpost/policy-review and the CLI.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, ProjectMembership, User } from '@medplum/fhirtypes';
import { buildEffectivePolicy, reviewMembership } from '../access/index.ts';
import type { PolicyReview } from '../access/index.ts';
import { isFhirError, toErrorResponse } from '../../../shared/errors.ts';
import type { Store } from '../store/types.ts';
import { countVisible, typesInProject } from './visible.ts';

function readInProject<T>(store: Store, project: string, type: string, id: string): T | undefined {
  const content = store.db
    .prepare('SELECT content FROM resource WHERE type = ? AND id = ? AND project = ? AND deleted = 0')
    .pluck()
    .get(type, id, project) as string | undefined;
  return content ? (JSON.parse(content) as T) : undefined;
}

function byReference<T>(store: Store, project: string, reference: string | undefined): T | undefined {
  const [type, id, ...rest] = (reference ?? '').split('/');
  return type && id && !rest.length ? readInProject<T>(store, project, type, id) : undefined;
}

/** Memberships of a project, in creation order; one when `membershipId` is given (404 if not in the project). */
export function projectMemberships(store: Store, project: string, membershipId?: string): WithId<ProjectMembership>[] {
  const rows = store.db
    .prepare("SELECT content FROM resource WHERE type = 'ProjectMembership' AND project = ? AND deleted = 0 AND (? IS NULL OR id = ?) ORDER BY rid")
    .pluck()
    .all(project, membershipId ?? null, membershipId ?? null) as string[];
  return rows.map((row) => JSON.parse(row) as WithId<ProjectMembership>);
}

/** A review that could not be built (a referenced policy is missing): its error as a warning. */
export interface FailedReview extends PolicyReview {
  error: string;
}

export interface ReviewOptions {
  /** Count visible resources per type (default true). */
  counts?: boolean;
}

export function reviewProjectMembership(store: Store, project: string, membership: WithId<ProjectMembership>, options: ReviewOptions = {}): PolicyReview {
  const policies = (reference: string): AccessPolicy | undefined => byReference<AccessPolicy>(store, project, reference);
  const user = byReference<User>(store, project, membership.user?.reference) ?? (membership.user?.reference?.startsWith('User/') ? readAnyUser(store, membership.user.reference) : undefined);
  const input = { membership, policies, user: user ? { id: user.id, email: user.email } : undefined };
  if (options.counts === false) {
    return reviewMembership(input);
  }
  const policy = buildEffectivePolicy(input);
  return reviewMembership({
    ...input,
    countVisible: (resourceType) => countVisible(store, project, policy, resourceType),
    countTypes: typesInProject(store, project),
  });
}

/** Users may be server-scoped and stored in another project: read by id wherever they are. */
function readAnyUser(store: Store, reference: string): User | undefined {
  const content = store.db.prepare("SELECT content FROM resource WHERE type = 'User' AND id = ? AND deleted = 0").pluck().get(reference.split('/')[1]) as string | undefined;
  return content ? (JSON.parse(content) as User) : undefined;
}

/** Reviews of every membership (or one) of a project; a membership whose policy is missing gets an error entry. */
export function reviewProject(store: Store, project: string, membershipId?: string, options: ReviewOptions = {}): (PolicyReview | FailedReview)[] {
  return projectMemberships(store, project, membershipId).map((membership) => {
    try {
      return reviewProjectMembership(store, project, membership, options);
    } catch (err) {
      if (!isFhirError(err)) {
        throw err;
      }
      const text = toErrorResponse(err).outcome.issue?.[0]?.details?.text ?? 'cannot build the policy';
      return {
        membership: `ProjectMembership/${membership.id}`,
        profile: membership.profile?.reference,
        admin: membership.admin === true,
        policy: { entries: [], warnings: [], source: { policies: [], admin: membership.admin === true } },
        accessPolicy: { resourceType: 'AccessPolicy', resource: [] },
        warnings: [{ code: 'invalid-entry', message: text }],
        lines: [],
        error: text,
      } satisfies FailedReview;
    }
  });
}
