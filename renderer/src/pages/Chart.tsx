// The patient chart: demographics, the vitals/labs trend chart and the clinical sections. Fields the
// role may not see say so ("hidden by access policy"); a patient the role may not see is "not found".
import { formatAddress, formatCodeableConcept, formatDateTime, formatHumanName, formatObservationValue, formatPeriod } from '@medplum/core';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { useEffect, useState, type ReactNode } from 'react';
import { hiddenPaths, isHiddenPath, isMasked } from '../api/access.ts';
import { Empty, ErrorMessage, Hidden, Loading, Value } from '../components/common.tsx';
import { TrendChart } from '../components/TrendChart.tsx';
import { useApp } from '../context.ts';
import { href } from '../router.ts';
import type { ChartSections, SectionKey } from '../stores/chart.ts';

type Tab = 'overview' | SectionKey;

const TABS: { key: Tab; label: string }[] = [
  { key: 'overview', label: 'Overview' },
  { key: 'encounters', label: 'Encounters' },
  { key: 'conditions', label: 'Conditions' },
  { key: 'observations', label: 'Observations' },
  { key: 'medications', label: 'Medications' },
  { key: 'allergies', label: 'Allergies' },
  { key: 'immunizations', label: 'Immunizations' },
  { key: 'carePlans', label: 'Care plans' },
];

export function ChartPage({ id }: { id: string }) {
  const chart = useApp('chart');
  const policy = useApp('session').me?.accessPolicy;
  const [tab, setTab] = useState<Tab>('overview');
  const load = chart.load;

  useEffect(() => {
    void load(id);
  }, [id, load]);

  if (chart.notFound) {
    return (
      <main className="page">
        <div className="panel" role="alert" data-testid="not-found">
          <h1>Patient not found</h1>
          <p>There is no patient with this id that you can see. {chart.error}</p>
          <a href={href({ name: 'patients' })}>Back to patients</a>
        </div>
      </main>
    );
  }
  if (chart.error && !chart.patient) {
    return (
      <main className="page">
        <ErrorMessage title="The chart could not be opened" error={chart.error} />
      </main>
    );
  }
  const patient = chart.patient;
  if (!patient || chart.patientId !== id) {
    return (
      <main className="page">
        <Loading label="Opening chart…" />
      </main>
    );
  }
  const hidden = hiddenPaths(patient, policy);
  const name = isHiddenPath(hidden, 'name') ? undefined : formatHumanName(patient.name?.[0]);

  return (
    <main className="page chart">
      <div className="page-head">
        <h1 data-testid="chart-title">{name || <span>Patient {patient.id} <Hidden /></span>}</h1>
        <div className="actions">
          <a className="button secondary" href={href({ name: 'edit', type: 'Patient', id: patient.id })}>
            Edit patient
          </a>
          <a className="button" href={href({ name: 'edit', type: 'Observation', patientId: patient.id })}>
            Record observation
          </a>
          <a className="button secondary" href={href({ name: 'edit', type: 'Encounter', patientId: patient.id })}>
            New encounter
          </a>
          <a className="button secondary" href={href({ name: 'edit', type: 'Condition', patientId: patient.id })}>
            New condition
          </a>
        </div>
      </div>
      {isMasked(patient) ? <p className="notice">Some fields of this record are hidden by your access policy.</p> : null}
      <div className="tabs" role="tablist" aria-label="Chart sections">
        {TABS.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={tab === t.key}
            aria-controls="chart-panel"
            className={tab === t.key ? 'tab active' : 'tab'}
            onClick={() => setTab(t.key)}
          >
            {t.label}
            {t.key !== 'overview' ? <span className="count">{chart.loading ? '…' : chart.sections[t.key].length}</span> : null}
          </button>
        ))}
      </div>
      <section id="chart-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === 'overview' ? (
          <div className="overview">
            <Demographics patient={patient} hidden={hidden} />
            <div className="panel">
              <h2>Vital signs and lab values</h2>
              {chart.loading ? <Loading label="Loading observations…" /> : chart.sectionErrors.observations ? <ErrorMessage error={chart.sectionErrors.observations} /> : <TrendChart observations={chart.sections.observations} />}
            </div>
          </div>
        ) : (
          <Section tab={tab} sections={chart.sections} error={chart.sectionErrors[tab]} loading={chart.loading} patientId={patient.id as string} />
        )}
      </section>
    </main>
  );
}

function Demographics({ patient, hidden }: { patient: Patient; hidden: Set<string> }) {
  const h = (path: string): boolean => isHiddenPath(hidden, path);
  const rows: [string, boolean, ReactNode][] = [
    ['Name', h('name'), formatHumanName(patient.name?.[0])],
    ['Birth date', h('birthDate'), patient.birthDate],
    ['Gender', h('gender'), patient.gender],
    ['Identifiers', h('identifier'), identifierList(patient)],
    ['Phone / email', h('telecom'), patient.telecom?.map((t) => t.value).filter(Boolean).join(', ')],
    ['Address', h('address'), patient.address?.map((a) => formatAddress(a)).join('; ')],
    ['Marital status', h('maritalStatus'), formatCodeableConcept(patient.maritalStatus)],
    ['Language', h('communication'), patient.communication?.map((c) => formatCodeableConcept(c.language)).join(', ')],
    ['Deceased', h('deceasedDateTime') || h('deceasedBoolean'), patient.deceasedDateTime ? formatDateTime(patient.deceasedDateTime) : patient.deceasedBoolean ? 'Yes' : undefined],
  ];
  return (
    <div className="panel demographics">
      <h2>Demographics</h2>
      <dl>
        {rows.map(([label, isHidden, value]) => (
          <div key={label} className="dl-row">
            <dt>{label}</dt>
            <dd>
              <Value hidden={isHidden}>{value}</Value>
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

/** Typed identifiers (MRN, SSN...) one per line; untyped ones only when there is nothing else. */
function identifierList(patient: Patient): ReactNode {
  const all = patient.identifier ?? [];
  const typed = all.filter((i) => i.type);
  const shown = (typed.length ? typed : all).filter((i) => i.value);
  if (shown.length === 0) return undefined;
  return (
    <ul className="id-list">
      {shown.map((i, n) => (
        <li key={n}>
          {i.type ? <span className="id-type">{i.type.text ?? i.type.coding?.[0]?.display ?? i.type.coding?.[0]?.code}</span> : null} {i.value}
        </li>
      ))}
    </ul>
  );
}

interface Column {
  label: string;
  path: string;
  render(resource: any): ReactNode;
}

const COLUMNS: Record<SectionKey, Column[]> = {
  encounters: [
    { label: 'When', path: 'period', render: (r) => formatPeriod(r.period) },
    { label: 'Type', path: 'type', render: (r) => formatCodeableConcept(r.type?.[0]) },
    { label: 'Class', path: 'class', render: (r) => r.class?.display ?? r.class?.code },
    { label: 'Status', path: 'status', render: (r) => r.status },
  ],
  conditions: [
    { label: 'Condition', path: 'code', render: (r) => formatCodeableConcept(r.code) },
    { label: 'Clinical status', path: 'clinicalStatus', render: (r) => formatCodeableConcept(r.clinicalStatus) },
    { label: 'Onset', path: 'onsetDateTime', render: (r) => formatDateTime(r.onsetDateTime) },
    { label: 'Recorded', path: 'recordedDate', render: (r) => formatDateTime(r.recordedDate) },
  ],
  observations: [
    { label: 'When', path: 'effectiveDateTime', render: (r) => formatDateTime(r.effectiveDateTime ?? r.issued) },
    { label: 'Observation', path: 'code', render: (r) => formatCodeableConcept(r.code) },
    { label: 'Value', path: 'value', render: (r) => formatObservationValue(r) || (r.component ? r.component.map((c: any) => formatObservationValue(c)).join(' / ') : undefined) },
    { label: 'Status', path: 'status', render: (r) => r.status },
  ],
  medications: [
    { label: 'Medication', path: 'medicationCodeableConcept', render: (r) => formatCodeableConcept(r.medicationCodeableConcept) || r.medicationReference?.display },
    { label: 'Status', path: 'status', render: (r) => r.status },
    { label: 'Authored', path: 'authoredOn', render: (r) => formatDateTime(r.authoredOn) },
  ],
  allergies: [
    { label: 'Allergy', path: 'code', render: (r) => formatCodeableConcept(r.code) },
    { label: 'Criticality', path: 'criticality', render: (r) => r.criticality },
    { label: 'Clinical status', path: 'clinicalStatus', render: (r) => formatCodeableConcept(r.clinicalStatus) },
    { label: 'Recorded', path: 'recordedDate', render: (r) => formatDateTime(r.recordedDate) },
  ],
  immunizations: [
    { label: 'Vaccine', path: 'vaccineCode', render: (r) => formatCodeableConcept(r.vaccineCode) },
    { label: 'Date', path: 'occurrenceDateTime', render: (r) => formatDateTime(r.occurrenceDateTime) },
    { label: 'Status', path: 'status', render: (r) => r.status },
  ],
  carePlans: [
    { label: 'Care plan', path: 'category', render: (r) => r.title ?? formatCodeableConcept(r.category?.[0]) },
    { label: 'Status', path: 'status', render: (r) => r.status },
    { label: 'Period', path: 'period', render: (r) => formatPeriod(r.period) },
  ],
};

const EDITABLE: Partial<Record<SectionKey, 'Observation' | 'Encounter' | 'Condition'>> = { observations: 'Observation', encounters: 'Encounter', conditions: 'Condition' };

function Section({ tab, sections, error, loading, patientId }: { tab: SectionKey; sections: ChartSections; error?: string; loading: boolean; patientId: string }) {
  const policy = useApp('session').me?.accessPolicy;
  if (loading) return <Loading />;
  if (error) return <ErrorMessage title="This section could not be loaded" error={error} />;
  const rows = sections[tab] as Resource[];
  if (rows.length === 0) return <Empty>Nothing recorded.</Empty>;
  const columns = COLUMNS[tab];
  const editType = EDITABLE[tab];
  return (
    <table className="data" aria-label={TABS.find((t) => t.key === tab)?.label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.label} scope="col">
              {c.label}
            </th>
          ))}
          {editType ? <th scope="col"><span className="visually-hidden">Actions</span></th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const hidden = hiddenPaths(r, policy);
          return (
            <tr key={r.id}>
              {columns.map((c) => (
                <td key={c.label}>
                  <Value hidden={isHiddenPath(hidden, c.path)}>{c.render(r)}</Value>
                </td>
              ))}
              {editType ? (
                <td>
                  <a href={href({ name: 'edit', type: editType, id: r.id, patientId })}>Edit</a>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
