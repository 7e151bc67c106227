// The route table of first-run setup, project administration and the policy review, with patterns
// relative to the host root (mount with prefix '' beside the auth routes, or concatenate the tables):
//   GET  outpost/setup                                            {needed}
//   POST outpost/setup                                            first project + its admin (409 once set up)
//   POST admin/projects/:projectId/invite                         Medplum's invite -> ProjectMembership
//   POST admin/projects/:projectId/members/:membershipId/reset-password   {password}; ends the user's sessions
//   POST admin/projects/:projectId/members/:membershipId/unlock           lifts the sign-in delay of failed attempts
//   POST admin/projects/:projectId/members/:membershipId/deactivate       ends the membership's sessions
//   POST admin/projects/:projectId/members/:membershipId/activate
//   GET  outpost/policy-review[?membership=<id>]                  PolicyReview (one) or PolicyReview[] (all)
// Every admin route needs a project admin session of that project (403 otherwise).
import { allOk } from '@medplum/core';
import type { HostResponse } from '../../../shared/contract/host.ts';
import { errors, isFhirError } from '../../../shared/errors.ts';
import type { PolicyReview } from '../access/policy/index.ts';
import type { Route, RouteRequest, SegmentMatchers } from '../routes/router.ts';
import { isFhirId } from '../../../shared/fhir/http.ts';
import type { Session } from '../auth/types.ts';
import { agentOf, createAdminContext, parseJsonBody, requireProjectAdmin, type AdminAction, type AdminContext, type AdminDeps } from './context.ts';
import { inviteMember } from './invite.ts';
import { resetMemberPassword, setMembershipActive, unlockMemberLogin } from './members.ts';
import { reviewProject } from './review.ts';
import { inviteBodySchema, resetPasswordBodySchema, setupBodySchema, viewAsBodySchema } from './schemas.ts';
import { runSetup, setupNeeded } from './setup.ts';

const JSON_UTF8 = 'application/json; charset=utf-8';
const FHIR_JSON_UTF8 = 'application/fhir+json; charset=utf-8';

const json = (body: unknown, status = 200): HostResponse => ({ status, headers: { 'content-type': JSON_UTF8 }, body });
const fhirJson = (body: unknown, status = 200): HostResponse => ({ status, headers: { 'content-type': FHIR_JSON_UTF8 }, body });

/** Segment matchers of the admin table: project and membership ids are FHIR ids. */
export const adminSegmentMatchers: SegmentMatchers = {
  projectId: isFhirId,
  membershipId: isFhirId,
};

/** A review as JSON (entry interaction sets as arrays). */
export function reviewJson(review: PolicyReview): unknown {
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

  const memberAction = (active: boolean) => async (req: RouteRequest) => {
    const session = requireProjectAdmin(ctx, req, req.params.projectId);
    const { membershipId } = req.params;
    const membership = await audited(ctx, session, active ? 'membership-activated' : 'membership-deactivated', `ProjectMembership/${membershipId}`, () =>
      setMembershipActive(ctx.access.forSession(session), auth, session, membershipId, active)
    );
    return fhirJson(membership);
  };

  return [
    {
      // "View as": a read-only preview session of one membership of the admin's project (auth/view-as.ts).
      method: 'POST',
      pattern: 'outpost/view-as',
      handler: async (req) => {
        const session = ctx.sessionOf(req);
        const { membership } = parseJsonBody(req, viewAsBodySchema);
        const tokens = await audited(ctx, session, 'view-as', `ProjectMembership/${membership}`, () => {
          requireProjectAdmin(ctx, req, session.projectId);
          return auth.startViewAs(session, membership);
        });
        return json(tokens);
      },
    },
    { method: 'GET', pattern: 'outpost/setup', handler: () => json({ needed: setupNeeded(directory) }) },
    {
      method: 'POST',
      pattern: 'outpost/setup',
      handler: async (req) => {
        const body = parseJsonBody(req, setupBodySchema);
        const result = await runSetup(directory, ctx.access, body);
        const agent = { who: { reference: `Practitioner/${result.profile.id}` }, user: { reference: `User/${result.user.id}` }, name: `${body.firstName} ${body.lastName}` };
        ctx.audit({ action: 'setup', project: result.project.id, agent, outcome: 'success', entity: `Project/${result.project.id}` });
        const { passwordHash: _hash, ...user } = result.user;
        return json({ project: result.project, user, profile: result.profile, membership: result.membership }, 201);
      },
    },
    {
      method: 'POST',
      pattern: 'admin/projects/:projectId/invite',
      handler: async (req) => {
        const { projectId } = req.params;
        const session = requireProjectAdmin(ctx, req, projectId);
        const body = parseJsonBody(req, inviteBodySchema);
        const result = await audited(ctx, session, 'invite', (r) => `ProjectMembership/${r.membership.id}`, () =>
          inviteMember(directory, ctx.access.credentials, ctx.access.forSession(session), projectId, body)
        );
        return fhirJson(result.membership);
      },
    },
    {
      method: 'POST',
      pattern: 'admin/projects/:projectId/members/:membershipId/reset-password',
      handler: async (req) => {
        const { projectId, membershipId } = req.params;
        const session = requireProjectAdmin(ctx, req, projectId);
        const { password } = parseJsonBody(req, resetPasswordBodySchema);
        await audited(ctx, session, 'reset-password', `ProjectMembership/${membershipId}`, () =>
          resetMemberPassword(ctx.access.forSession(session), auth, session, membershipId, password)
        );
        return fhirJson(allOk);
      },
    },
    {
      method: 'POST',
      pattern: 'admin/projects/:projectId/members/:membershipId/unlock',
      handler: async (req) => {
        const { projectId, membershipId } = req.params;
        const session = requireProjectAdmin(ctx, req, projectId);
        const forgotten = await audited(ctx, session, 'login-unlocked', `ProjectMembership/${membershipId}`, () =>
          unlockMemberLogin(ctx.access.forSession(session), auth, session, membershipId)
        );
        return json({ unlocked: true, failedAttemptsForgotten: forgotten });
      },
    },
    { method: 'POST', pattern: 'admin/projects/:projectId/members/:membershipId/deactivate', handler: memberAction(false) },
    { method: 'POST', pattern: 'admin/projects/:projectId/members/:membershipId/activate', handler: memberAction(true) },
    {
      method: 'GET',
      pattern: 'outpost/policy-review',
      handler: (req) => {
        const session = requireProjectAdmin(ctx, req, ctx.sessionOf(req).projectId);
        const params = new URLSearchParams(req.query);
        const membership = params.get('membership') ?? undefined;
        const id = membership?.replace(/^ProjectMembership\//, '');
        if (id !== undefined && !isFhirId(id)) {
          throw errors.badRequest('membership must be a ProjectMembership id', 'membership');
        }
        const reviews = reviewProject(ctx, session.projectId, id);
        if (id !== undefined) {
          if (!reviews.length) {
            throw errors.notFound(`ProjectMembership/${id} not found`);
          }
          return json(reviewJson(reviews[0]));
        }
        return json(reviews.map(reviewJson));
      },
    },
  ];
}
