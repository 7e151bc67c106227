// The routes of first-run setup, project administration and the policy review
// (shared/contract/admin.ts). Every admin route needs a project admin session of that project (403
// otherwise); each action is audited, success or failure.
import { allOk } from '@medplum/core';
import type { ProjectMembership } from '@medplum/fhirtypes';
import { adminContract, type PolicyReview as PolicyReviewReply } from '../../../shared/contract/admin.ts';
import { errors, isFhirError } from '../../../shared/errors.ts';
import type { PolicyReview } from '../access/policy/index.ts';
import type { Session } from '../auth/types.ts';
import { route } from '../routes/contract.ts';
import { respond, respondJson } from '../routes/respond.ts';
import { authenticated, open, type Route } from '../routes/router.ts';
import { agentOf, createAdminContext, requireProjectAdmin, type AdminAction, type AdminContext, type AdminDeps } from './context.ts';
import { inviteMember } from './invite.ts';
import { resetMemberPassword, setMembershipActive, unlockMemberLogin } from './members.ts';
import { reviewProject } from './review.ts';
import { runSetup, setupNeeded } from './setup.ts';

/** A review as JSON (entry interaction sets as arrays). */
export function reviewJson(review: PolicyReview): PolicyReviewReply {
  return {
    ...review,
    policy: { ...review.policy, entries: review.policy.entries.map((e) => ({ ...e, interactions: [...e.interactions] })) },
  };
}

/** Runs an admin action and writes its AuditEvent, success or failure (with the reason). */
async function audited<T>(ctx: AdminContext, session: Session, action: AdminAction, entity: string | ((result: T) => string) | undefined, fn: () => T | Promise<T>): Promise<T> {
  const base = { action, project: session.projectId, agent: agentOf(session), entity: typeof entity === 'function' ? undefined : entity };
  try {
    const result = await fn();
    // An action that creates its record (an invite) names it once it exists.
    ctx.audit({ ...base, ...(typeof entity === 'function' ? { entity: entity(result) } : {}), outcome: 'success' });
    return result;
  } catch (err) {
    const status = isFhirError(err) ? err.status : 500;
    const reason = isFhirError(err) ? (err.outcome.issue?.[0]?.details?.text ?? err.message) : 'internal error';
    ctx.audit({ ...base, outcome: status === 401 || status === 403 ? 'denied' : 'error', reason });
    throw err;
  }
}

export function adminRoutes(deps: AdminDeps): Route[] {
  const ctx = createAdminContext(deps);
  const { directory, auth } = ctx;
  const c = adminContract;

  const memberAction = (active: boolean) =>
    authenticated<unknown, ProjectMembership>(async (req, { session, repo }) => {
      requireProjectAdmin(session, req.params.projectId);
      const { membershipId } = req.params;
      const membership = await audited(ctx, session, active ? 'membership-activated' : 'membership-deactivated', `ProjectMembership/${membershipId}`, () =>
        setMembershipActive(repo, auth, session, membershipId, active)
      );
      return respond(membership);
    });

  return [
    route(
      c.viewAs,
      authenticated(async (req, { session }) => {
        const { membership } = req.input().body;
        const tokens = await audited(ctx, session, 'view-as', `ProjectMembership/${membership}`, () => {
          requireProjectAdmin(session, session.projectId);
          return auth.startViewAs(session, membership);
        });
        return respondJson(tokens);
      })
    ),
    route(c.setupNeeded, open(() => respondJson({ needed: setupNeeded(directory) }))),
    route(
      c.setup,
      open(async (req) => {
        const body = req.input().body;
        const result = await runSetup(directory, ctx.access, body);
        const agent = { who: { reference: `Practitioner/${result.profile.id}` }, user: { reference: `User/${result.user.id}` }, name: `${body.firstName} ${body.lastName}` };
        ctx.audit({ action: 'setup', project: result.project.id, agent, outcome: 'success', entity: `Project/${result.project.id}` });
        const { passwordHash: _hash, ...user } = result.user;
        return respondJson({ project: result.project, user, profile: result.profile, membership: result.membership }, 201);
      })
    ),
    route(
      c.invite,
      authenticated(async (req, { session, repo }) => {
        const { projectId } = req.params;
        requireProjectAdmin(session, projectId);
        const body = req.input().body;
        const result = await audited(ctx, session, 'invite', (r) => `ProjectMembership/${r.membership.id}`, () => inviteMember(directory, ctx.access.credentials, repo, projectId, body));
        return respond(result.membership);
      })
    ),
    route(
      c.resetPassword,
      authenticated(async (req, { session, repo }) => {
        const { projectId, membershipId } = req.params;
        requireProjectAdmin(session, projectId);
        const { password } = req.input().body;
        await audited(ctx, session, 'reset-password', `ProjectMembership/${membershipId}`, () => resetMemberPassword(repo, auth, session, membershipId, password));
        return respond(allOk);
      })
    ),
    route(
      c.unlockMember,
      authenticated(async (req, { session, repo }) => {
        const { projectId, membershipId } = req.params;
        requireProjectAdmin(session, projectId);
        const forgotten = await audited(ctx, session, 'login-unlocked', `ProjectMembership/${membershipId}`, () => unlockMemberLogin(repo, auth, session, membershipId));
        return respondJson({ unlocked: true as const, failedAttemptsForgotten: forgotten });
      })
    ),
    route(c.deactivate, memberAction(false)),
    route(c.activate, memberAction(true)),
    route(
      c.policyReview,
      authenticated((req, { session }) => {
        requireProjectAdmin(session, session.projectId);
        const { membership } = req.input().query;
        const reviews = reviewProject(ctx, session.projectId, membership);
        if (membership === undefined) {
          return respondJson(reviews.map(reviewJson));
        }
        if (!reviews.length) {
          throw errors.notFound(`ProjectMembership/${membership} not found`);
        }
        return respondJson(reviewJson(reviews[0]));
      })
    ),
  ];
}
