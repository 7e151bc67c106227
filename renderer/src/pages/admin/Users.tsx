// People and their memberships: find a person, see each one's access in words (policy, the patients it
// is given, administrator), edit it right there, deactivate or reactivate, "View as"; invite a person
// (a family caregiver with the patient they care for).
import type { ProjectMembership } from '@medplum/fhirtypes';
import { Fragment, useState, type FormEvent } from 'react';
import { ErrorMessage, Field, Notice } from '../../components/common.tsx';
import { PatientPicker } from '../../components/PatientPicker.tsx';
import { useApp } from '../../context.ts';
import type { InviteInput } from '../../stores/admin.ts';
import { MembershipEditor, NO_POLICY_LABEL, patientOfAccess, policyOptions } from './MembershipEditor.tsx';

const EMPTY_INVITE: InviteInput = { resourceType: 'Practitioner', firstName: '', lastName: '', email: '', password: '', accessPolicy: '', admin: false };

const PROFILE_WORDS: Record<string, string> = { Practitioner: 'Staff', Patient: 'Patient', RelatedPerson: 'Family caregiver', ClientApplication: 'Program', Bot: 'Program' };

export function UsersTab({ onViewAs, onReview }: { onViewAs(membershipId: string): void; onReview(membershipId: string): void }) {
  const admin = useApp('admin');
  const projectId = useApp('session').me?.project?.id;
  const [invite, setInvite] = useState<InviteInput>(EMPTY_INVITE);
  const [invitePatientName, setInvitePatientName] = useState<string>();
  const [inviteErrors, setInviteErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ ok?: boolean; text?: string }>({});
  const [editing, setEditing] = useState<ProjectMembership | undefined>();
  const [query, setQuery] = useState('');

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!invite.firstName.trim()) found.firstName = 'Required';
    if (!invite.lastName.trim()) found.lastName = 'Required';
    if (!/^\S+@\S+\.\S+$/.test(invite.email)) found.email = 'Enter a valid email address';
    if (invite.password && invite.password.length < 8) found.password = 'At least 8 characters';
    if (invite.resourceType === 'RelatedPerson') {
      if (!invite.patient) found.patient = 'Choose the patient this person cares for';
      if (!invite.accessPolicy) found.accessPolicy = 'Choose the policy for their access to this patient';
    }
    setInviteErrors(found);
    if (Object.keys(found).length || !projectId) return;
    const answer = await admin.invite(projectId, invite);
    setResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
    if (answer.ok) {
      setInvite(EMPTY_INVITE);
      setInvitePatientName(undefined);
    }
  };
  const toggle = async (m: ProjectMembership): Promise<void> => {
    const answer = await admin.setMembershipActive(m, m.active === false);
    setResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
  };
  const policyName = (ref: string | undefined): string => (ref ? (admin.policies.find((p) => `AccessPolicy/${p.id}` === ref)?.name ?? 'Unknown policy') : NO_POLICY_LABEL);
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = admin.memberships.filter((m) => {
    const text = `${m.profile?.display ?? ''} ${m.user?.display ?? ''} ${policyName(m.accessPolicy?.reference)}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });

  return (
    <div>
      {result.text ? result.ok ? <Notice tone="success">{result.text}</Notice> : <ErrorMessage error={result.text} /> : null}
      <div className="search-bar" role="search" aria-label="Search people">
        <div className="field">
          <label htmlFor="member-search">Find a person</label>
          <input id="member-search" type="search" placeholder="Name, email or policy" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
        <span className="results-meta" aria-live="polite">
          {words.length ? `${shown.length} of ${admin.memberships.length} people` : `${admin.memberships.length} people`}
        </span>
      </div>
      <div className="table-scroll">
        <table className="data" aria-label="Memberships">
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Sign-in email</th>
              <th scope="col">Access</th>
              <th scope="col">Administrator</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((m) => {
              const name = m.profile?.display ?? 'Unnamed';
              const patients = (m.access ?? []).map((a) => {
                const ref = patientOfAccess(a);
                return `${ref ? (admin.names[ref] ?? 'a patient') : 'no patient chosen'} (${policyName(a.policy?.reference)})`;
              });
              return (
                <Fragment key={m.id}>
                  <tr className={m.active === false ? 'inactive' : undefined}>
                    <td>
                      {name} <span className="badge">{PROFILE_WORDS[m.profile?.reference?.split('/')[0] ?? ''] ?? 'Other'}</span>
                    </td>
                    <td>{m.user?.display ?? '—'}</td>
                    <td>
                      {m.accessPolicy || !m.access?.length ? <div>{policyName(m.accessPolicy?.reference)}</div> : null}
                      {patients.length ? <div className="muted small">Patients: {patients.join('; ')}</div> : null}
                    </td>
                    <td>{m.admin ? 'Yes' : 'No'}</td>
                    <td>{m.active === false ? 'Deactivated' : 'Active'}</td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="secondary small" onClick={() => setEditing(editing?.id === m.id ? undefined : structuredClone(m))} aria-label={`Edit access of ${name}`} aria-expanded={editing?.id === m.id}>
                          Edit
                        </button>
                        <button type="button" className="secondary small" onClick={() => void toggle(m)} aria-label={`${m.active === false ? 'Reactivate' : 'Deactivate'} ${name}`}>
                          {m.active === false ? 'Reactivate' : 'Deactivate'}
                        </button>
                        <button type="button" className="secondary small" onClick={() => onReview(m.id as string)} aria-label={`Review the access of ${name}`}>
                          Review
                        </button>
                        {m.active !== false && m.user?.reference?.startsWith('User/') ? (
                          <button type="button" className="secondary small" onClick={() => onViewAs(m.id as string)} aria-label={`View as ${name}`}>
                            View as
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                  {editing && editing.id === m.id ? (
                    <tr className="editor-row">
                      <td colSpan={6}>
                        <MembershipEditor membership={editing} onClose={() => setEditing(undefined)} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <form className="panel" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="invite-title">
        <h2 id="invite-title">Add a person</h2>
        <div className="form-grid">
          <Field
            label="Who they are"
            value={invite.resourceType}
            onChange={(v) => setInvite({ ...invite, resourceType: v as InviteInput['resourceType'] })}
            options={[
              { value: 'Practitioner', label: 'Staff (practitioner)' },
              { value: 'Patient', label: 'Patient (their own record)' },
              { value: 'RelatedPerson', label: 'Family caregiver of a patient' },
            ]}
          />
          <Field label="First name" value={invite.firstName} onChange={(v) => setInvite({ ...invite, firstName: v })} required error={inviteErrors.firstName} />
          <Field label="Last name" value={invite.lastName} onChange={(v) => setInvite({ ...invite, lastName: v })} required error={inviteErrors.lastName} />
          <Field label="Email" type="email" value={invite.email} onChange={(v) => setInvite({ ...invite, email: v })} required error={inviteErrors.email} />
          <Field label="Initial password" type="password" value={invite.password ?? ''} onChange={(v) => setInvite({ ...invite, password: v })} error={inviteErrors.password} autoComplete="new-password" />
          {invite.resourceType === 'RelatedPerson' ? (
            <PatientPicker
              label="Patient they care for"
              value={invite.patient ?? ''}
              valueName={invitePatientName}
              find={admin.findPatients}
              required
              error={inviteErrors.patient}
              onChange={(reference, name) => {
                setInvite({ ...invite, patient: reference });
                setInvitePatientName(name);
              }}
            />
          ) : null}
          <Field
            label={invite.resourceType === 'RelatedPerson' ? 'Their access to this patient' : 'Access policy'}
            value={invite.accessPolicy ?? ''}
            onChange={(v) => setInvite({ ...invite, accessPolicy: v })}
            options={invite.resourceType === 'RelatedPerson' ? [{ value: '', label: 'Choose…' }, ...policyOptions(admin.policies).slice(1)] : policyOptions(admin.policies)}
            error={inviteErrors.accessPolicy}
          />
          <div className="field checkbox">
            <input id="invite-admin" type="checkbox" checked={invite.admin} onChange={(e) => setInvite({ ...invite, admin: e.target.checked })} />
            <label htmlFor="invite-admin">Project administrator</label>
          </div>
        </div>
        <button type="submit">Add person</button>
      </form>
    </div>
  );
}
