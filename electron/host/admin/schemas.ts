// Bodies of the admin and first-run endpoints (zod). Unknown fields are dropped: MedplumClient's
// InviteRequest carries more than Outpost uses (sendEmail, scope, externalId, mfaRequired...).
import { z } from 'zod';

const name = z.string().trim().min(1).max(200);
const email = z.string().trim().toLowerCase().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, { message: 'Invalid email' });
/** Length rules are the auth module's (assertAcceptablePassword); only the type is checked here. */
const password = z.string().max(1024);
const reference = z.object({ reference: z.string().min(1).max(512), display: z.string().max(512).optional() }).passthrough();

export const setupBodySchema = z.object({
  projectName: name,
  firstName: name,
  lastName: name,
  email,
  password,
});
export type SetupBody = z.infer<typeof setupBodySchema>;

const accessParameter = z
  .object({
    name: z.string().min(1).max(128),
    valueString: z.string().max(1024).optional(),
    valueReference: reference.optional(),
  })
  .passthrough();

const accessEntry = z.object({ policy: reference, parameter: z.array(accessParameter).max(64).optional() }).passthrough();

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
    .object({
      accessPolicy: reference.optional(),
      access: z.array(accessEntry).max(64).optional(),
      admin: z.boolean().optional(),
    })
    .passthrough()
    .optional(),
  accessPolicy: reference.optional(),
  access: z.array(accessEntry).max(64).optional(),
  admin: z.boolean().optional(),
});
export type InviteBody = z.infer<typeof inviteBodySchema>;

export const resetPasswordBodySchema = z.object({ password });

/** POST outpost/view-as: the membership to preview (an id of the admin's project). */
export const viewAsBodySchema = z.object({ membership: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, { message: 'Invalid membership id' }) });
