// "View as": a project administrator previews the app as one membership of their project. The preview
// is a session of that membership's user and membership (so it sees exactly what that role sees,
// policy, masks and all) that is tied to the administrator's own session and marked read-only:
// - the enforcement point gives it a read-only copy of the role's policy and no admin rights;
// - the host's door refuses every request of it that is not a read (any route: FHIR, Bundles, patches,
//   admin, sync, auth), and audits the refusal;
// - every AuditEvent of it names the administrator as the one acting, "viewing as" the role (its start
//   is audited by the admin route that calls startViewAs, its end at logout);
// - it ends when the administrator's session ends, or stops being an admin's (previews.ts, which
//   sessions.ts asks on every request).
import type { WithId } from '@medplum/core';
import type { ProjectMembership, Reference } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { AuthContext } from './context.ts';
import { startSession } from './sessions.ts';
import type { Session, TokenResponse } from './types.ts';

/** Starts a read-only preview of `membershipId` for the administrator's session; its tokens. */
export function startViewAs(ctx: AuthContext, adminSession: Session, membershipId: string): TokenResponse & { membership: string } {
  if (!adminSession.user || adminSession.membership.admin !== true || adminSession.viewAs) {
    throw errors.forbidden('Only a project administrator may view the app as another member');
  }
  const target = ctx.dir.read<ProjectMembership>('ProjectMembership', membershipId) as WithId<ProjectMembership> | undefined;
  if (!target || target.project?.reference !== `Project/${adminSession.projectId}`) {
    throw errors.notFound(`ProjectMembership/${membershipId} not found`);
  }
  const subject = target.user?.reference;
  if (!subject?.startsWith('User/')) {
    throw errors.badRequest('Only the membership of a person can be previewed');
  }
  if (target.active === false) {
    throw errors.badRequest('This membership is deactivated');
  }
  const { sessionId, tokens } = startSession(ctx, { subject, userId: subject.slice('User/'.length), membership: target, authMethod: 'password' });
  const admin: Reference = adminSession.profile;
  ctx.db
    .prepare('INSERT INTO auth_view_as (session_id, admin_session_id, admin_user_id, admin_membership_id, admin_profile, admin_display) VALUES (?, ?, ?, ?, ?, ?)')
    .run(sessionId, adminSession.id, adminSession.user.id, adminSession.membership.id, admin.reference ?? '', admin.display ?? null);
  return { ...tokens, membership: target.id };
}

const PREVIEW_POSTS = [/^\/auth\/logout$/, /^\/oauth2\/logout$/, /^\/fhir\/R4\/([A-Za-z]+\/)?_search$/];

/**
 * May a "view as" preview send this request? Reads only: GET and HEAD (but not the MFA enrolment, whose
 * GET starts one), searches sent as POST, and signing the preview out. Every other request, on any
 * route, is refused at the door.
 */
export function previewMayRequest(method: string, pathname: string): boolean {
  if (method === 'GET' || method === 'HEAD') {
    return !pathname.startsWith('/auth/mfa');
  }
  return method === 'POST' && PREVIEW_POSTS.some((p) => p.test(pathname));
}
