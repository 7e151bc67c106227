// The record of "view as" previews (view-as.ts starts them): which sessions are previews, of which
// administrator, and whether one may still be used. Every session is built with it (sessions.ts), so a
// preview dies with its administrator's session or admin rights.
import type { ProjectMembership } from '@medplum/fhirtypes';
import type { Migration } from '../db/types.ts';
import type { AuthContext } from './context.ts';
import type { ViewAs } from './types.ts';

export const viewAsMigration: Migration = {
  version: 16,
  name: 'auth: view-as preview sessions',
  up(db) {
    db.exec(`
      CREATE TABLE auth_view_as (
        session_id TEXT PRIMARY KEY,        -- the preview session (auth_session.id)
        admin_session_id TEXT NOT NULL,     -- the administrator's session it belongs to
        admin_user_id TEXT NOT NULL,
        admin_membership_id TEXT NOT NULL,
        admin_profile TEXT NOT NULL,        -- 'Practitioner/<id>'
        admin_display TEXT
      );
      CREATE INDEX auth_view_as_admin ON auth_view_as(admin_session_id);
    `);
  },
};

interface ViewAsRow {
  admin_session_id: string;
  admin_user_id: string;
  admin_membership_id: string;
  admin_profile: string;
  admin_display: string | null;
}

/**
 * The view-as of a session, `null` when it is an ordinary session, or `undefined` when it is a preview
 * that must not be used any more (the administrator's session ended, or their membership is no longer
 * an active admin one): fail closed.
 */
export function viewAsOf(ctx: AuthContext, sessionId: string): ViewAs | null | undefined {
  const row = ctx.db.prepare('SELECT * FROM auth_view_as WHERE session_id = ?').get(sessionId) as ViewAsRow | undefined;
  if (!row) {
    return null;
  }
  const admin = ctx.db.prepare('SELECT ended FROM auth_session WHERE id = ?').get(row.admin_session_id) as { ended: number | null } | undefined;
  const membership = ctx.dir.read<ProjectMembership>('ProjectMembership', row.admin_membership_id);
  if (!admin || admin.ended !== null || !membership || membership.admin !== true || membership.active === false) {
    return undefined;
  }
  return {
    adminSessionId: row.admin_session_id,
    adminUserId: row.admin_user_id,
    adminMembershipId: row.admin_membership_id,
    admin: { reference: row.admin_profile, ...(row.admin_display ? { display: row.admin_display } : {}) },
  };
}
