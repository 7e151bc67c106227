// Bodies of the auth endpoints (zod). Unknown fields are dropped: MedplumClient sends more than Outpost
// uses (scope, nonce, remember, ...). Pure zod: these could move to shared/contract for the renderer.
import { z } from 'zod';

const nonEmpty = (max: number) => z.string().min(1).max(max);
/** MedplumClient sends unset ids as '' (e.g. `clientId: this.clientId ?? ''`): treat them as absent. */
const optionalId = z
  .string()
  .max(128)
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const loginBodySchema = z.object({
  email: z.string().trim().min(3).max(320).includes('@', { message: 'Invalid email' }),
  password: z.string().min(1).max(1024),
  codeChallenge: nonEmpty(256),
  codeChallengeMethod: z.enum(['S256', 'plain']),
  projectId: optionalId,
  clientId: optionalId,
  scope: z.string().max(1024).optional(),
});

export const profileBodySchema = z.object({
  login: nonEmpty(128),
  /** The chosen ProjectMembership id (Medplum's field name). */
  profile: nonEmpty(128),
});

export const mfaVerifyBodySchema = z.object({
  login: nonEmpty(128),
  token: nonEmpty(16),
});

export const mfaEnrollBodySchema = z.object({
  token: nonEmpty(16),
});

export const tokenBodySchema = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: nonEmpty(512),
    code_verifier: nonEmpty(256),
    client_id: optionalId,
    redirect_uri: z.string().max(2048).optional(),
  }),
  z.object({
    grant_type: z.literal('client_credentials'),
    client_id: optionalId,
    client_secret: z.string().max(512).optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    refresh_token: nonEmpty(512),
    client_id: optionalId,
  }),
]);

export const switchRoleBodySchema = z.object({
  /** Id of another active ProjectMembership of the same User. */
  membership: nonEmpty(128),
});

export const unlockBodySchema = z.object({
  password: z.string().min(1).max(1024),
});

export const changePasswordBodySchema = z.object({
  oldPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(1).max(1024),
});

export type LoginBody = z.infer<typeof loginBodySchema>;
export type TokenBody = z.infer<typeof tokenBodySchema>;
