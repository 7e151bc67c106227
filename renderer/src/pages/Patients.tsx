// Patient search by name, identifier and birth date, with the total count and paging. Rows open the chart.
import type { Patient } from '@medplum/fhirtypes';
import { useEffect, useState, type FormEvent } from 'react';
import { hiddenPaths, isHiddenPath, mayDo } from '../api/access.ts';
import { codeWords, formatAddress, formatWhen, personName } from '../components/clinical.ts';
import { mrnOf } from '../components/PatientBanner.tsx';
import { Empty, ErrorMessage, Loading, Value } from '../components/common.tsx';
import { useApp } from '../context.ts';
import { href, navigate } from '../router.ts';

export function PatientsPage() {
  const patients = useApp('patients');
  const me = useApp('session').me;
  const policy = me?.accessPolicy;
  // A new patient registered by a practitioner has them as general practitioner (see the edit form).
  const newPatient: Patient = { resourceType: 'Patient', ...(me?.profile?.resourceType === 'Practitioner' ? { generalPractitioner: [{ reference: `Practitioner/${me.profile.id}` }] } : {}) };
  const [form, setForm] = useState(patients.query);
  const loaded = patients.loaded;
  const search = patients.search;

  useEffect(() => {
    if (!loaded) void search();
  }, [loaded, search]);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void patients.search(form, 0);
  };
  const pages = patients.total !== undefined ? Math.max(1, Math.ceil(patients.total / patients.pageSize)) : undefined;
  const first = patients.page * patients.pageSize + 1;
  const last = patients.page * patients.pageSize + patients.results.length;

  return (
    <main className="page">
      <div className="page-head">
        <h1>Patients</h1>
        {mayDo(policy, 'create', newPatient) ? (
          <a className="button" href={href({ name: 'edit', type: 'Patient' })}>
            New patient
          </a>
        ) : null}
      </div>
      <form className="search-bar" role="search" aria-label="Search patients" onSubmit={submit}>
        <div className="field">
          <label htmlFor="q-name">Name</label>
          <input id="q-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="q-identifier">Identifier</label>
          <input id="q-identifier" value={form.identifier} onChange={(e) => setForm({ ...form, identifier: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="q-birthdate">Birth date</label>
          <input id="q-birthdate" type="date" value={form.birthdate} onChange={(e) => setForm({ ...form, birthdate: e.target.value })} />
        </div>
        <button type="submit">Search</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            const cleared = { name: '', identifier: '', birthdate: '' };
            setForm(cleared);
            void patients.search(cleared, 0);
          }}
        >
          Clear
        </button>
      </form>
      <div className="results-meta" aria-live="polite" data-testid="patient-count">
        {patients.loading ? 'Searching…' : patients.total !== undefined ? `${patients.total} patient${patients.total === 1 ? '' : 's'}` : ''}
        {!patients.loading && patients.results.length > 0 ? ` — showing ${first}–${last}` : ''}
      </div>
      <ErrorMessage error={patients.error} />
      <div className="table-wrap" aria-busy={patients.loading}>
        {patients.loading && patients.results.length === 0 ? <Loading label="Searching patients…" /> : null}
        {!patients.loading && patients.loaded && patients.results.length === 0 && !patients.error ? <Empty>No patients match this search.</Empty> : null}
        {patients.results.length > 0 ? (
          <div className="table-scroll">
          <table className="data" aria-label="Patients">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Birth date</th>
                <th scope="col">Sex</th>
                <th scope="col">MRN</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {patients.results.map((p) => (
                <PatientRow key={p.id} patient={p} hidden={hiddenPaths(p)} />
              ))}
            </tbody>
          </table>
          </div>
        ) : null}
      </div>
      {pages !== undefined && pages > 1 ? (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="secondary" disabled={patients.page === 0 || patients.loading} onClick={() => void patients.search(undefined, patients.page - 1)}>
            Previous
          </button>
          <span>
            Page {patients.page + 1} of {pages}
          </span>
          <button type="button" className="secondary" disabled={patients.page + 1 >= pages || patients.loading} onClick={() => void patients.search(undefined, patients.page + 1)}>
            Next
          </button>
        </nav>
      ) : null}
    </main>
  );
}

function PatientRow({ patient, hidden }: { patient: Patient; hidden: Set<string> }) {
  const open = (): void => navigate({ name: 'chart', id: patient.id as string });
  const nameHidden = isHiddenPath(hidden, 'name');
  const label = nameHidden ? `Patient born ${formatWhen(patient.birthDate) || 'on an unknown date'}` : personName(patient.name) || 'Unnamed patient';
  const identifier = mrnOf(patient) ?? patient.identifier?.find((i) => !i.type?.coding?.some((c) => c.code === 'SS'));
  return (
    <tr className="clickable" onClick={open}>
      <td>
        <a href={href({ name: 'chart', id: patient.id as string })} onClick={(e) => e.stopPropagation()}>
          {label}
        </a>
        {nameHidden ? (
          <>
            {' '}
            <span className="hidden-value">(name hidden by access policy)</span>
          </>
        ) : null}
      </td>
      <td>
        <Value hidden={isHiddenPath(hidden, 'birthDate')}>{formatWhen(patient.birthDate)}</Value>
      </td>
      <td>
        <Value hidden={isHiddenPath(hidden, 'gender')}>{codeWords(patient.gender)}</Value>
      </td>
      <td>
        <Value hidden={isHiddenPath(hidden, 'identifier')}>{identifier?.value}</Value>
      </td>
      <td>
        <Value hidden={isHiddenPath(hidden, 'address')}>{patient.address?.[0] ? formatAddress(patient.address[0]) : undefined}</Value>
      </td>
    </tr>
  );
}
