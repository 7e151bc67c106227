// Project administration and first-run setup (issue 3): the routes for the host, and the pieces the CLI
// and the demo seed reuse.
export { adminRoutes, reviewJson } from './routes.ts';
export type { AdminAccess, AdminDeps, AdminAction } from './context.ts';
export { runSetup, setupNeeded } from './setup.ts';
export { inviteMember } from './invite.ts';
export { resetMemberPassword, setMembershipActive } from './members.ts';
export { reviewProject, reviewProjectMembership, projectMemberships } from './review.ts';
export type { FailedReview } from './review.ts';
export { createMembership, createProfile, createUser, displayName } from './identities.ts';
