// First-run setup, project administration (Medplum's invite, passwords, sign-in unlock, memberships),
// the policy review and "view as". Every admin route needs a project admin session of that project
// (403 otherwise). Unknown request fields are dropped: MedplumClient's InviteRequest carries more than
// Outpost uses (sendEmail, scope, externalId, mfaRequired...).
import { z } from 'zod';
import type { AccessPolicy, Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { tokenResponseSchema } from './auth.ts';
import { defineRoute, objectWith, fhirId, operationOutcome, resourceOf } from './route.ts';

const name = z.string().trim().min(1).max(200);
const email = z.string().trim().toLowerCase().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, { message: 'Invalid email' });
/** Length rules are the auth module's (assertAcceptablePassword); only the type is checked here. */
const password = z.string().max(1024);
const referenceBody = objectWith({ reference: z.string().min(1).max(512), display: z.string().max(512).optional() });

export const setupBodySchema = z.object({
  projectName: name,
  firstName: name,
  lastName: name,
  email,
  password,
});
export type SetupBody = z.output<typeof setupBodySchema>;

const accessParameter = objectWith({
  name: z.string().min(1).max(128),
  valueString: z.string().max(1024).optional(),
  valueReference: referenceBody.optional(),
});

const accessEntry = objectWith({ policy: referenceBody, parameter: z.array(accessParameter).max(64).optional() });

/** What MedplumClient.invite sends (InviteRequest); deprecated top-level policy fields still accepted. */
export const inviteBodySchema = z.object({
  resourceType: z.enum(['Patient', 'Practitioner', 'RelatedPerson']),
  firstName: name,
  lastName: name,
  email,
  password: password.optional(),
  sendEmail: z.boolean().optional(),
  upsert: z.boolean().optional(),
  forceNewMembership: z.boolean().optional(),
  membership: z
    .looseObject({
      accessPolicy: referenceBody.optional(),
      access: z.array(accessEntry).max(64).optional(),
      admin: z.boolean().optional(),
    })
    .optional(),
  accessPolicy: referenceBody.optional(),
  access: z.array(accessEntry).max(64).optional(),
  admin: z.boolean().optional(),
});
export type InviteBody = z.output<typeof inviteBodySchema>;

/** One membership's effective access in words, with its warnings and what it can see (the policy review). */
export const policyReviewSchema = objectWith({
  membership: z.string().optional(),
  profile: z.string().optional(),
  admin: z.boolean(),
  /** The effective policy the engine built (entries with their interactions, warnings, sources). */
  policy: objectWith({ entries: z.array(objectWith({ resourceType: z.string(), interactions: z.array(z.string()) })) }),
  accessPolicy: resourceOf<AccessPolicy>('AccessPolicy'),
  warnings: z.array(objectWith({ code: z.string(), message: z.string() })),
  lines: z.array(z.string()),
  counts: z.array(z.object({ resourceType: z.string(), count: z.number() })).optional(),
  /** Set when the membership's policy could not be built (its review is empty). */
  error: z.string().optional(),
});
export type PolicyReview = z.output<typeof policyReviewSchema>;

const membership = resourceOf<ProjectMembership>('ProjectMembership');
const memberParams = { projectId: fhirId, membershipId: fhirId };

export const adminContract = {
  setupNeeded: defineRoute({ method: 'GET', path: 'outpost/setup', auth: 'public', response: z.object({ needed: z.boolean() }) }),
  /** The first project and its admin on an empty data folder; 409 once anything exists. */
  setup: defineRoute({
    method: 'POST',
    path: 'outpost/setup',
    auth: 'public',
    body: setupBodySchema,
    response: z.object({
      project: resourceOf<Project>('Project'),
      // Never the password hash.
      user: resourceOf<User>('User').refine((u) => !('passwordHash' in u), { message: 'a User with its password hash' }),
      profile: resourceOf<Practitioner>('Practitioner'),
      membership,
    }),
  }),
  invite: defineRoute({ method: 'POST', path: 'admin/projects/:projectId/invite', auth: 'session', params: { projectId: fhirId }, body: inviteBodySchema, response: membership }),
  /** Sets a member's password and ends their sessions. */
  resetPassword: defineRoute({
    method: 'POST',
    path: 'admin/projects/:projectId/members/:membershipId/reset-password',
    auth: 'session',
    params: memberParams,
    body: z.object({ password }),
    response: operationOutcome,
  }),
  /** Lifts the sign-in delay that failed attempts put on a member. */
  unlockMember: defineRoute({
    method: 'POST',
    path: 'admin/projects/:projectId/members/:membershipId/unlock',
    auth: 'session',
    params: memberParams,
    response: z.object({ unlocked: z.literal(true), failedAttemptsForgotten: z.number() }),
  }),
  /** Ends the membership's sessions. */
  deactivate: defineRoute({ method: 'POST', path: 'admin/projects/:projectId/members/:membershipId/deactivate', auth: 'session', params: memberParams, response: membership }),
  activate: defineRoute({ method: 'POST', path: 'admin/projects/:projectId/members/:membershipId/activate', auth: 'session', params: memberParams, response: membership }),
  /** One membership's review (`membership`: its id, or ProjectMembership/<id>), or every membership's. */
  policyReview: defineRoute({
    method: 'GET',
    path: 'outpost/policy-review',
    auth: 'session',
    query: z.object({
      membership: z
        .string()
        .transform((v) => v.replace(/^ProjectMembership\//, ''))
        .pipe(fhirId)
        .optional(),
    }),
    response: z.union([policyReviewSchema, z.array(policyReviewSchema)]),
  }),
  /** "View as": a read-only preview session of one membership of the admin's project, and its tokens. */
  viewAs: defineRoute({
    method: 'POST',
    path: 'outpost/view-as',
    auth: 'session',
    body: z.object({ membership: fhirId }),
    response: tokenResponseSchema.extend({ membership: z.string() }),
  }),
};
