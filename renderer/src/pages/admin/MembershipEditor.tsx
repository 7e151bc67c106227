// One membership's access, edited in words: its access policy, the patients it is given access to (each
// with its policy, chosen with a patient picker), administrator or not, and a new password.
import type { AccessPolicy, ProjectMembership, ProjectMembershipAccess } from '@medplum/fhirtypes';
import { useEffect, useRef, useState } from 'react';
import { ErrorMessage, Field, Notice } from '../../components/common.tsx';
import { PatientPicker } from '../../components/PatientPicker.tsx';
import { useApp } from '../../context.ts';
import { navigate } from '../../router.ts';

/** The patient a per-patient access entry is for (its `patient` parameter). */
export function patientOfAccess(access: ProjectMembershipAccess): string | undefined {
  return access.parameter?.find((p) => p.name === 'patient')?.valueReference?.reference;
}

export const NO_POLICY_LABEL = 'No policy (full access to clinical data)';

export function policyOptions(policies: AccessPolicy[]): { value: string; label: string }[] {
  return [{ value: '', label: NO_POLICY_LABEL }, ...policies.map((p) => ({ value: `AccessPolicy/${p.id}`, label: p.name ?? 'Unnamed policy' }))];
}

export function MembershipEditor({ membership, onClose }: { membership: ProjectMembership; onClose(): void }) {
  const admin = useApp('admin');
  const projectId = useApp('session').me?.project?.id;
  const [m, setM] = useState(membership);
  const [access, setAccess] = useState<ProjectMembershipAccess[]>(membership.access ?? []);
  const [error, setError] = useState<string>();
  const [problems, setProblems] = useState<Record<number, string>>({});
  const [password, setPassword] = useState('');
  const [passwordResult, setPasswordResult] = useState<{ ok?: boolean; text?: string }>({});
  const heading = useRef<HTMLHeadingElement>(null);
  const who = m.profile?.display ?? 'this person';

  // The panel opens where the person clicked "Edit": bring it into view and put the focus on it.
  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'nearest' });
    heading.current?.focus();
  }, []);

  const resetPassword = async (): Promise<void> => {
    if (password.length < 8) {
      setPasswordResult({ ok: false, text: 'At least 8 characters' });
      return;
    }
    const answer = await admin.resetPassword(projectId ?? '', membership.id as string, password);
    setPasswordResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
    if (answer.ok) setPassword('');
  };
  const unlockSignIn = async (): Promise<void> => {
    const answer = await admin.unlockSignIn(projectId ?? '', membership.id as string);
    setPasswordResult({ ok: answer.ok, text: answer.ok ? answer.message : answer.error });
  };
  const setEntry = (i: number, entry: ProjectMembershipAccess): void => setAccess(access.map((a, j) => (j === i ? entry : a)));
  const save = async (): Promise<void> => {
    const found: Record<number, string> = {};
    access.forEach((a, i) => {
      if (!a.policy?.reference) found[i] = 'Choose the policy for this patient';
      else if (!patientOfAccess(a)) found[i] = 'Choose the patient';
    });
    setProblems(found);
    if (Object.keys(found).length) return;
    const answer = await admin.saveMembership({ ...m, access: access.length ? access : undefined });
    if (answer.ok) onClose();
    else setError(answer.error);
  };
  const patientPolicies = admin.policies.map((p) => ({ value: `AccessPolicy/${p.id}`, label: p.name ?? 'Unnamed policy' }));

  return (
    <div className="panel membership-editor" role="region" aria-labelledby="membership-edit-title">
      <h2 id="membership-edit-title" ref={heading} tabIndex={-1}>
        Access of {who}
      </h2>
      <div className="form-grid">
        <Field label="Access policy" value={m.accessPolicy?.reference ?? ''} onChange={(v) => setM({ ...m, accessPolicy: v ? { reference: v } : undefined })} options={policyOptions(admin.policies)} />
        <div className="field checkbox">
          <input id="membership-admin" type="checkbox" checked={Boolean(m.admin)} onChange={(e) => setM({ ...m, admin: e.target.checked })} />
          <label htmlFor="membership-admin">Project administrator</label>
        </div>
      </div>
      <h3>Access to particular patients</h3>
      <p className="muted small">Each line gives {who} a policy for one patient (for example a care team member, or a family caregiver).</p>
      {access.length === 0 ? <p className="empty">No patient-specific access.</p> : null}
      {access.map((a, i) => {
        const patient = patientOfAccess(a);
        return (
          <div className="access-row" key={i} data-testid="access-row">
            <PatientPicker
              label={`Patient ${i + 1}`}
              value={patient ?? ''}
              valueName={patient ? (admin.names[patient] ?? a.parameter?.find((p) => p.name === 'patient')?.valueReference?.display) : undefined}
              find={admin.findPatients}
              required
              error={problems[i] === 'Choose the patient' ? problems[i] : undefined}
              onChange={(reference, name) => {
                setEntry(i, { ...a, parameter: [...(a.parameter ?? []).filter((p) => p.name !== 'patient'), { name: 'patient', valueReference: { reference, display: name } }] });
              }}
            />
            <Field
              label={`Policy for patient ${i + 1}`}
              value={a.policy?.reference ?? ''}
              onChange={(v) => setEntry(i, { ...a, policy: { reference: v } })}
              options={[{ value: '', label: 'Choose…' }, ...patientPolicies]}
              error={problems[i] === 'Choose the policy for this patient' ? problems[i] : undefined}
            />
            <button type="button" className="secondary small" onClick={() => setAccess(access.filter((_, j) => j !== i))} aria-label={`Remove access to patient ${i + 1}${patient && admin.names[patient] ? ` (${admin.names[patient]})` : ''}`}>
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" className="secondary" onClick={() => setAccess([...access, { policy: { reference: '' }, parameter: [] }])}>
        Add access to a patient
      </button>
      <ErrorMessage error={error} />
      {m.user?.reference?.startsWith('User/') ? (
        <div className="reset-password">
          <Field label="New password" type="password" value={password} onChange={setPassword} autoComplete="new-password" />
          <button type="button" className="secondary" onClick={() => void resetPassword()}>
            Reset password
          </button>
          <button type="button" className="secondary" onClick={() => void unlockSignIn()} title="Lift the wait that failed sign-in attempts imposed">
            Unlock sign-in
          </button>
          {passwordResult.text ? passwordResult.ok ? <Notice tone="success">{passwordResult.text}</Notice> : <ErrorMessage error={passwordResult.text} /> : null}
        </div>
      ) : null}
      <div className="actions">
        <button type="button" onClick={() => void save()}>
          Save access
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
