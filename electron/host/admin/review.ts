// The policy review of memberships (issue 3 §5): for each membership of a project, its effective
// policy after substitution in words and as data, the warnings, and how many resources per type the
// role can see (visible.ts: the enforcement SQL). Used by GET /outpost/policy-review and the CLI.
import type { WithId } from '@medplum/core';
import type { AccessPolicy, ProjectMembership, User } from '@medplum/fhirtypes';
import type { Access } from '../access/index.ts';
import { reviewMembership } from '../access/policy/index.ts';
import type { Directory } from '../auth/directory.ts';
import type { PolicyReview } from '../access/policy/index.ts';
import { isFhirError, toErrorResponse } from '../../../shared/errors.ts';

/** What a review reads: identities (memberships, policies, users) and read-only previews of each membership. */
export interface ReviewDeps {
  directory: Pick<Directory, 'read' | 'readInProject' | 'membershipsOfProject'>;
  access: Pick<Access, 'preview'>;
}

/** Memberships of a project, in creation order; one when `membershipId` is given (none if not in the project). */
export function projectMemberships(deps: Pick<ReviewDeps, 'directory'>, project: string, membershipId?: string): WithId<ProjectMembership>[] {
  return deps.directory.membershipsOfProject(project, membershipId);
}

/** A review that could not be built (a referenced policy is missing): its error as a warning. */
export interface FailedReview extends PolicyReview {
  error: string;
}

export interface ReviewOptions {
  /** Count visible resources per type (default true). */
  counts?: boolean;
}

export function reviewProjectMembership(deps: ReviewDeps, project: string, membership: WithId<ProjectMembership>, options: ReviewOptions = {}): PolicyReview {
  const { directory } = deps;
  const policies = (reference: string): AccessPolicy | undefined => directory.readInProject<AccessPolicy>('AccessPolicy', reference.replace(/^AccessPolicy\//, ''), project);
  const userId = membership.user?.reference?.startsWith('User/') ? membership.user.reference.slice('User/'.length) : undefined;
  // Users may be server-scoped and stored in another project: read by id wherever they are.
  const user = userId ? (directory.readInProject<User>('User', userId, project) ?? directory.read<User>('User', userId)) : undefined;
  const input = { membership, policies, user: user ? { id: user.id, email: user.email } : undefined };
  if (options.counts === false) {
    return reviewMembership(input);
  }
  // "What can this role see", counted with the enforcement point itself: a read-only preview of the
  // membership, one `_summary=count` search per type (the same SQL restriction as the role's searches).
  const preview = deps.access.preview(membership, { user: input.user });
  return reviewMembership({
    ...input,
    countVisible: (resourceType) => preview.search(resourceType, '_summary=count').total ?? 0,
    countTypes: preview.storedTypes(),
  });
}

/** Reviews of every membership (or one) of a project; a membership whose policy is missing gets an error entry. */
export function reviewProject(deps: ReviewDeps, project: string, membershipId?: string, options: ReviewOptions = {}): (PolicyReview | FailedReview)[] {
  return projectMemberships(deps, project, membershipId).map((membership) => {
    try {
      return reviewProjectMembership(deps, project, membership, options);
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
