// Create and edit Patient, Observation, Encounter and Condition: checks before saving, read-only fields
// disabled with the reason, server errors (write constraints, version conflicts) in words.
import type { Resource } from '@medplum/fhirtypes';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { fieldLocked, hiddenPaths, isHiddenPath, mayDo, writeRules } from '../api/access.ts';
import { ErrorMessage, Field, Loading } from '../components/common.tsx';
import { PatientBanner } from '../components/PatientBanner.tsx';
import { useApp } from '../context.ts';
import { href, navigate, type EditableType } from '../router.ts';
import { useBannerAllergies, useChartLoader } from './Chart.tsx';
import { FIELDS, toResource, validate, valuesOf, type Values } from './forms.ts';

interface Props {
  type: EditableType;
  id?: string;
  patientId?: string;
}

export function EditPage({ type, id, patientId }: Props) {
  const chart = useApp('chart');
  const me = useApp('session').me;
  const policy = me?.accessPolicy;
  const loadChart = useChartLoader();
  const allergies = useBannerAllergies();
  const [original, setOriginal] = useState<Resource | undefined>();
  const [values, setValues] = useState<Values>(() => valuesOf(type, undefined));
  const [loading, setLoading] = useState(Boolean(id));
  const [loadError, setLoadError] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [serverError, setServerError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState(false);
  const [reloads, setReloads] = useState(0);
  const read = chart.read;

  useEffect(() => {
    let alive = true;
    setErrors({});
    setServerError(undefined);
    if (!id) {
      setOriginal(undefined);
      setValues(valuesOf(type, undefined));
      setLoading(false);
      return;
    }
    setLoading(true);
    void read(type, id).then((answer) => {
      if (!alive) return;
      setLoading(false);
      if (answer.resource) {
        setOriginal(answer.resource);
        setValues(valuesOf(type, answer.resource));
      } else {
        setLoadError(answer.notFound ? `${type} not found` : answer.error);
      }
    });
    return () => {
      alive = false;
    };
  }, [type, id, read, reloads]);

  // Whose record this is: the banner needs the patient (and allergies) loaded through the chart store.
  const patientKey = patientId ?? (type === 'Patient' ? id : undefined);
  useEffect(() => {
    if (patientKey && chart.patientId !== patientKey) void loadChart(patientKey);
  }, [patientKey, chart.patientId, loadChart]);
  const patient = patientKey && chart.patientId === patientKey ? chart.patient : undefined;

  const profile = me?.profile?.resourceType === 'Practitioner' && me.profile.id ? `Practitioner/${me.profile.id}` : undefined;
  const candidate: Resource =
    original ??
    (type === 'Patient'
      ? ({ resourceType: 'Patient', ...(profile ? { generalPractitioner: [{ reference: profile }] } : {}) } as Resource)
      : ({ resourceType: type, subject: patientKey ? { reference: `Patient/${patientKey}` } : undefined, status: type === 'Observation' ? 'final' : undefined } as unknown as Resource));
  const interaction = id ? 'update' : 'create';
  const allowed = mayDo(policy, interaction, candidate, patient);
  const rules = writeRules(policy, interaction, candidate, patient);
  const hidden = hiddenPaths(original);
  const locked = (path: string): boolean => fieldLocked(rules, path) || isHiddenPath(hidden, path);
  const backTo = patientKey;
  const title = `${id ? 'Edit' : 'New'} ${type === 'Observation' && !id ? 'observation' : type.toLowerCase()}`;
  const banner = patient ? <PatientBanner patient={patient} allergies={allergies} context={id ? `Editing the record of` : `New entry in the record of`} /> : null;

  if (loading || (patientKey && !patient && !chart.notFound && !chart.error)) return <main className="page"><Loading /></main>;
  if (loadError) return <main className="page">{banner}<ErrorMessage title={`The ${type} could not be opened`} error={loadError} /></main>;
  if (patientKey && !patient) return <main className="page"><ErrorMessage title="The patient could not be opened" error={chart.error ?? 'Patient not found'} /></main>;
  if (!allowed) {
    return (
      <main className="page">
        {banner}
        <div className="panel" role="alert" data-testid="not-allowed">
          <h1>{title}</h1>
          <p>Your role cannot {id ? 'change this record' : `add ${type === 'Observation' ? 'observations' : `${type.toLowerCase()}s`} here`}.</p>
          <a href={backTo ? href({ name: 'chart', id: backTo }) : href({ name: 'patients' })}>Back</a>
        </div>
      </main>
    );
  }

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const found = validate(type, values, locked);
    setErrors(found);
    setServerError(undefined);
    if (Object.keys(found).length > 0) {
      const first = `[data-field-slot="field-${Object.keys(found)[0]}"]`;
      document.querySelector<HTMLElement>(`${first} input, ${first} select`)?.focus();
      return;
    }
    setSaving(true);
    const result = await chart.save(toResource(type, original ?? (type === 'Patient' ? candidate : undefined), values, patientId, locked));
    setSaving(false);
    if (result.ok) {
      const target = type === 'Patient' ? result.resource?.id : backTo;
      navigate(target ? { name: 'chart', id: target } : { name: 'patients' });
      return;
    }
    setServerError(result.error);
    setConflict(Boolean(result.conflict));
    const byPath: Record<string, string> = {};
    for (const f of FIELDS[type]) {
      if (result.paths?.some((p) => p.includes(f.path))) byPath[f.key] = result.error ?? 'Rejected';
    }
    setErrors(byPath);
  };

  return (
    <main className="page">
      {banner}
      <div className="page-head">
        <h1>{title}</h1>
        <a className="button secondary" href={backTo ? href({ name: 'chart', id: backTo }) : href({ name: 'patients' })}>
          Cancel
        </a>
      </div>
      <form className="panel edit-form" onSubmit={(e) => void submit(e)} noValidate aria-busy={saving}>
        <div className="form-grid">
          {FIELDS[type].map((f) => {
            const isHidden = isHiddenPath(hidden, f.path) || isHiddenPath(rules.hiddenFields, f.path);
            const reason = !isHidden && locked(f.path) ? rules.reason : undefined;
            return (
              <FieldWithId key={f.key} id={`field-${f.key}`}>
                <Field
                  label={f.label}
                  value={values[f.key] ?? ''}
                  onChange={(value) => setValues({ ...values, [f.key]: value })}
                  type={f.type === 'select' ? undefined : f.type}
                  options={f.options}
                  required={f.required}
                  error={errors[f.key]}
                  lockedReason={reason}
                  hidden={isHidden}
                  step={f.type === 'number' ? 'any' : undefined}
                  inputMode={f.type === 'number' ? 'decimal' : undefined}
                />
              </FieldWithId>
            );
          })}
        </div>
        <ErrorMessage title="Not saved" error={serverError} />
        {conflict ? (
          <p className="notice">
            Someone changed this record after you opened it. Your changes were not saved and theirs were not overwritten.{' '}
            <button
              type="button"
              className="secondary small"
              onClick={() => {
                setConflict(false);
                setReloads(reloads + 1);
              }}
            >
              Load their version
            </button>
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </main>
  );
}

/** Marks a field's slot so validation can move the focus to the first error. */
function FieldWithId({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div className="field-slot" data-field-slot={id}>
      {children}
    </div>
  );
}
