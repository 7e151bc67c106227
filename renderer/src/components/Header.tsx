// The persistent header: who you are acting as (profile name, resource type, project), the role
// switcher, the navigation, lock and sign out.
import { useId } from 'react';
import { mayImport } from '../api/access.ts';
import { useApp } from '../context.ts';
import { href, type Route } from '../router.ts';
import { profileName } from '../stores/session.ts';

function referenceType(reference: string | undefined): string {
  return reference?.split('/')[0] ?? '';
}

export function Header({ route }: { route: Route }) {
  const session = useApp('session');
  const switchId = useId();
  const me = session.me;
  if (!me) return null;
  const preview = me.viewAs;
  const isAdmin = Boolean(me.membership?.admin) && !preview;
  const resourceType = String(me.profile?.resourceType ?? referenceType(me.membership?.profile?.reference));
  const projectName = me.project?.name ?? me.membership?.project?.display ?? me.project?.id ?? '';
  const links: { route: Route; label: string; admin?: boolean }[] = [
    { route: { name: 'patients' }, label: 'Patients' },
    { route: { name: 'admin', tab: 'users' }, label: 'Administration', admin: true },
    { route: { name: 'audit' }, label: 'Audit log', admin: true },
    { route: { name: 'transfer' }, label: mayImport(me.accessPolicy) ? 'Import / export' : 'Export' },
    { route: { name: 'sync' }, label: 'Sync' },
  ];
  const current = me.membership?.id;
  const oneProject = new Set(session.choices.map((c) => c.project.reference)).size <= 1;
  return (
    <header className="app-header">
      <div className="brand">Outpost</div>
      <div className="identity" aria-label="Active role" data-testid="active-role">
        <span className="identity-name">{profileName(me)}</span>
        <span className="badge">{resourceType}</span>
        {isAdmin ? <span className="badge badge-admin">admin</span> : null}
        <span className="identity-project">{projectName}</span>
      </div>
      {session.choices.length > 1 && !preview ? (
        <div className="role-switch">
          <label htmlFor={switchId} className="visually-hidden">
            Switch role
          </label>
          <select id={switchId} value={current} disabled={session.busy} onChange={(e) => void session.switchRole(e.target.value)}>
            {session.choices.map((c) => (
              <option key={c.id} value={c.id}>
                {`${c.profile.display ?? c.profile.reference} (${referenceType(c.profile.reference)})${!oneProject && c.project.display ? ` — ${c.project.display}` : ''}`}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <nav aria-label="Main">
        <ul>
          {links
            .filter((l) => !l.admin || isAdmin)
            .map((l) => (
              <li key={l.label}>
                <a href={href(l.route)} aria-current={route.name === l.route.name || (route.name === 'chart' && l.route.name === 'patients') ? 'page' : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
        </ul>
      </nav>
      <div className="header-actions">
        {preview ? (
          <button type="button" className="secondary" onClick={() => void session.endViewAs()}>
            End preview
          </button>
        ) : (
          <>
            <button type="button" className="secondary" onClick={() => session.lock()}>
              Lock
            </button>
            <button type="button" className="secondary" onClick={() => void session.logout()}>
              Sign out
            </button>
          </>
        )}
      </div>
      {preview ? (
        <p className="preview-banner" role="status" data-testid="view-as-banner">
          Read-only preview: {preview.admin.display ?? 'an administrator'} is viewing the app as {profileName(me)}. Nothing can be changed, and this preview is recorded in the audit log.
        </p>
      ) : null}
    </header>
  );
}
