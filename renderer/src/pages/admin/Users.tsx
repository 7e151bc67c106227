// Users and memberships: invite (creates User, profile and membership), edit a membership's policy,
// access[] parameters and admin flag, deactivate/reactivate, and "view as" (policy review of that role).
import type { ProjectMembership, ProjectMembershipAccess } from '@medplum/fhirtypes';
import { useState, type FormEvent } from 'react';
import { ErrorMessage, Field, Notice } from '../../components/common.tsx';
import { useApp } from '../../context.ts';
import { navigate } from '../../router.ts';
import type { InviteInput } from '../../stores/admin.ts';

const EMPTY_INVITE: InviteInput = { resourceType: 'Practitioner', firstName: '', lastName: '', email: '', password: '', accessPolicy: '', admin: false };

export function UsersTab({ onViewAs }: { onViewAs(membershipId: string): void }) {
  const admin = useApp('admin');
  const projectId = useApp('session').me?.project?.id;
  const [invite, setInvite] = useState<InviteInput>(EMPTY_INVITE);
  const [inviteErrors, setInviteErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ ok?: boolean; text?: string }>({});
  const [editing, setEditing] = useState<ProjectMembership | undefined>();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!invite.firstName.trim()) found.firstName = 'Required';
    if (!invite.lastName.trim()) found.lastName = 'Required';
    if (!/^\S+@\S+\.\S+$/.test(invite.email)) found.email = 'Enter a valid email address';
    if (invite.password && invite.password.length < 8) found.password = 'At least 8 characters';
    setInviteErrors(found);
    if (Object.keys(found).length || !projectId) return;
    const answer = await admin.invite(projectId, invite);
    setResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
    if (answer.ok) setInvite(EMPTY_INVITE);
  };
  const toggle = async (m: ProjectMembership): Promise<void> => {
    const answer = await admin.setMembershipActive(m, m.active === false);
    setResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
  };
  const policyName = (ref: string | undefined): string => admin.policies.find((p) => `AccessPolicy/${p.id}` === ref)?.name ?? ref ?? '—';

  return (
    <div>
      {result.text ? result.ok ? <Notice tone="success">{result.text}</Notice> : <ErrorMessage error={result.text} /> : null}
      <table className="data" aria-label="Memberships">
        <thead>
          <tr>
            <th scope="col">Profile</th>
            <th scope="col">User</th>
            <th scope="col">Access policy</th>
            <th scope="col">Admin</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {admin.memberships.map((m) => (
            <tr key={m.id} className={m.active === false ? 'inactive' : undefined}>
              <td>
                {m.profile?.display ?? m.profile?.reference} <span className="badge">{m.profile?.reference?.split('/')[0]}</span>
              </td>
              <td>{m.user?.display ?? m.user?.reference}</td>
              <td>
                {policyName(m.accessPolicy?.reference)}
                {m.access?.length ? ` + ${m.access.length} parameterised` : ''}
              </td>
              <td>{m.admin ? 'Yes' : 'No'}</td>
              <td>{m.active === false ? 'Deactivated' : 'Active'}</td>
              <td>
                <div className="row-actions">
                <button type="button" className="secondary small" onClick={() => setEditing(structuredClone(m))}>
                  Edit
                </button>
                <button type="button" className="secondary small" onClick={() => void toggle(m)} aria-label={`${m.active === false ? 'Reactivate' : 'Deactivate'} ${m.profile?.display ?? m.id}`}>
                  {m.active === false ? 'Reactivate' : 'Deactivate'}
                </button>
                <button type="button" className="secondary small" onClick={() => onViewAs(m.id as string)} aria-label={`View as ${m.profile?.display ?? m.id}`}>
                  View as
                </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing ? <MembershipEditor membership={editing} onClose={() => setEditing(undefined)} /> : null}
      <form className="panel" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="invite-title">
        <h2 id="invite-title">Add a user</h2>
        <div className="form-grid">
          <Field
            label="Profile type"
            value={invite.resourceType}
            onChange={(v) => setInvite({ ...invite, resourceType: v as InviteInput['resourceType'] })}
            options={[
              { value: 'Practitioner', label: 'Practitioner' },
              { value: 'Patient', label: 'Patient' },
              { value: 'RelatedPerson', label: 'Related person' },
            ]}
          />
          <Field label="First name" value={invite.firstName} onChange={(v) => setInvite({ ...invite, firstName: v })} required error={inviteErrors.firstName} />
          <Field label="Last name" value={invite.lastName} onChange={(v) => setInvite({ ...invite, lastName: v })} required error={inviteErrors.lastName} />
          <Field label="Email" type="email" value={invite.email} onChange={(v) => setInvite({ ...invite, email: v })} required error={inviteErrors.email} />
          <Field label="Initial password" type="password" value={invite.password ?? ''} onChange={(v) => setInvite({ ...invite, password: v })} error={inviteErrors.password} autoComplete="new-password" />
          <Field
            label="Access policy"
            value={invite.accessPolicy ?? ''}
            onChange={(v) => setInvite({ ...invite, accessPolicy: v })}
            options={[{ value: '', label: '(none)' }, ...admin.policies.map((p) => ({ value: `AccessPolicy/${p.id}`, label: p.name ?? (p.id as string) }))]}
          />
          <div className="field checkbox">
            <input id="invite-admin" type="checkbox" checked={invite.admin} onChange={(e) => setInvite({ ...invite, admin: e.target.checked })} />
            <label htmlFor="invite-admin">Project administrator</label>
          </div>
        </div>
        <button type="submit">Add user</button>
      </form>
    </div>
  );
}

function MembershipEditor({ membership, onClose }: { membership: ProjectMembership; onClose(): void }) {
  const admin = useApp('admin');
  const [m, setM] = useState(membership);
  const [accessText, setAccessText] = useState(JSON.stringify(membership.access ?? [], null, 2));
  const [error, setError] = useState<string>();
  const [password, setPassword] = useState('');
  const [passwordResult, setPasswordResult] = useState<{ ok?: boolean; text?: string }>({});
  const projectId = useApp('session').me?.project?.id;
  const resetPassword = async (): Promise<void> => {
    if (password.length < 8) {
      setPasswordResult({ ok: false, text: 'At least 8 characters' });
      return;
    }
    const answer = await admin.resetPassword(projectId ?? '', membership.id as string, password);
    setPasswordResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
    if (answer.ok) setPassword('');
  };
  let accessProblem: string | undefined;
  let access: ProjectMembershipAccess[] | undefined;
  try {
    const parsed = JSON.parse(accessText) as unknown;
    if (!Array.isArray(parsed)) accessProblem = 'access must be a list';
    else if (parsed.some((a) => !a?.policy?.reference)) accessProblem = 'each access entry needs policy.reference';
    else access = parsed as ProjectMembershipAccess[];
  } catch (err) {
    accessProblem = `Not valid JSON: ${(err as Error).message}`;
  }
  const save = async (): Promise<void> => {
    if (!access) return;
    const answer = await admin.saveMembership({ ...m, access: access.length ? access : undefined });
    if (answer.ok) onClose();
    else setError(answer.error);
  };
  return (
    <div className="panel" role="region" aria-labelledby="membership-edit-title">
      <h2 id="membership-edit-title">Membership of {m.profile?.display ?? m.profile?.reference}</h2>
      <div className="form-grid">
        <Field
          label="Access policy"
          value={m.accessPolicy?.reference ?? ''}
          onChange={(v) => setM({ ...m, accessPolicy: v ? { reference: v } : undefined })}
          options={[{ value: '', label: '(none)' }, ...admin.policies.map((p) => ({ value: `AccessPolicy/${p.id}`, label: p.name ?? (p.id as string) }))]}
        />
        <div className="field checkbox">
          <input id="membership-admin" type="checkbox" checked={Boolean(m.admin)} onChange={(e) => setM({ ...m, admin: e.target.checked })} />
          <label htmlFor="membership-admin">Project administrator</label>
        </div>
      </div>
      <div className="field">
        <label htmlFor="membership-access">Parameterised policies (access[])</label>
        <textarea id="membership-access" className="code" rows={6} value={accessText} onChange={(e) => setAccessText(e.target.value)} aria-invalid={accessProblem ? true : undefined} />
        {accessProblem ? <span className="field-error">{accessProblem}</span> : null}
      </div>
      <ErrorMessage error={error} />
      {m.user?.reference?.startsWith('User/') ? (
        <div className="reset-password">
          <Field label="New password" type="password" value={password} onChange={setPassword} autoComplete="new-password" />
          <button type="button" className="secondary" onClick={() => void resetPassword()}>
            Reset password
          </button>
          {passwordResult.text ? passwordResult.ok ? <Notice tone="success">{passwordResult.text}</Notice> : <ErrorMessage error={passwordResult.text} /> : null}
        </div>
      ) : null}
      <div className="actions">
        <button type="button" onClick={() => void save()} disabled={Boolean(accessProblem)}>
          Save membership
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="secondary" onClick={() => navigate({ name: 'admin', tab: 'policies' })}>
          Edit policies
        </button>
      </div>
    </div>
  );
}
