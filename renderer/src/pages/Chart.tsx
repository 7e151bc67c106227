// The patient chart: the banner, demographics, the vitals/labs trend chart and the clinical sections.
// Only the sections the role may search are asked for and shown; only the actions it may take are
// offered. Fields the role may not see say so; a patient the role may not see is "not found".
import type { Patient, Resource } from '@medplum/fhirtypes';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { hiddenPaths, isHiddenPath, isMasked, mayDo, mayOnType } from '../api/access.ts';
import { codeWords, conceptText, formatAddress, formatWhen, personName } from '../components/clinical.ts';
import { ErrorMessage, Loading, Value } from '../components/common.tsx';
import { PatientBanner } from '../components/PatientBanner.tsx';
import { Tabs } from '../components/Tabs.tsx';
import { TrendChart } from '../components/TrendChart.tsx';
import { useApp } from '../context.ts';
import { href } from '../router.ts';
import type { SectionKey } from '../stores/chart.ts';
import { Section } from './chart-sections.tsx';

type Tab = 'overview' | SectionKey;

const TABS: { key: Tab; label: string }[] = [
  { key: 'overview', label: 'Overview' },
  { key: 'encounters', label: 'Encounters' },
  { key: 'conditions', label: 'Conditions' },
  { key: 'observations', label: 'Observations' },
  { key: 'diagnosticReports', label: 'Lab results' },
  { key: 'medications', label: 'Medications' },
  { key: 'allergies', label: 'Allergies' },
  { key: 'immunizations', label: 'Immunizations' },
  { key: 'carePlans', label: 'Care plans' },
];

/** The chart store's loader bound to the role's policy: sections it may not search are never requested. */
export function useChartLoader(): (patientId: string) => Promise<void> {
  const chart = useApp('chart');
  const policy = useApp('session').me?.accessPolicy;
  const load = chart.load;
  return useCallback((patientId: string) => load(patientId, (type, patient) => mayOnType(policy, 'search', type, patient)), [load, policy]);
}

/** What the banner needs of the chart store. */
export function useBannerAllergies() {
  const chart = useApp('chart');
  return { readable: chart.readable.includes('allergies'), loading: chart.loading, error: chart.sectionErrors.allergies, list: chart.sections.allergies };
}

export function ChartPage({ id }: { id: string }) {
  const chart = useApp('chart');
  const policy = useApp('session').me?.accessPolicy;
  const [tab, setTab] = useState<Tab>('overview');
  const load = useChartLoader();
  const allergies = useBannerAllergies();

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
  const hidden = hiddenPaths(patient);
  const subject = { reference: `Patient/${patient.id}` };
  const candidate = (resourceType: 'Observation' | 'Encounter' | 'Condition'): Resource => ({ resourceType, subject, status: resourceType === 'Observation' ? 'final' : undefined }) as unknown as Resource;
  const actions: { label: string; to: Parameters<typeof href>[0]; allowed: boolean; primary?: boolean }[] = [
    { label: 'Edit patient', to: { name: 'edit', type: 'Patient', id: patient.id }, allowed: mayDo(policy, 'update', patient, patient) },
    { label: 'Record observation', to: { name: 'edit', type: 'Observation', patientId: patient.id }, allowed: mayDo(policy, 'create', candidate('Observation'), patient), primary: true },
    { label: 'New encounter', to: { name: 'edit', type: 'Encounter', patientId: patient.id }, allowed: mayDo(policy, 'create', candidate('Encounter'), patient) },
    { label: 'New condition', to: { name: 'edit', type: 'Condition', patientId: patient.id }, allowed: mayDo(policy, 'create', candidate('Condition'), patient) },
  ];
  const tabs = TABS.filter((t) => t.key === 'overview' || chart.readable.includes(t.key));
  const shown = tabs.some((t) => t.key === tab) ? tab : 'overview';
  const name = isHiddenPath(hidden, 'name') ? undefined : personName(patient.name);

  return (
    <main className="page chart">
      <PatientBanner patient={patient} allergies={allergies} />
      <div className="page-head">
        {/* The banner shows whose chart this is; the heading says it to assistive technology. */}
        <h1 className="visually-hidden" data-testid="chart-title">
          {name || 'Patient record (name hidden by access policy)'}
        </h1>
        <div className="actions">
          {actions
            .filter((a) => a.allowed)
            .map((a) => (
              <a key={a.label} className={a.primary ? 'button' : 'button secondary'} href={href(a.to)}>
                {a.label}
              </a>
            ))}
        </div>
      </div>
      {isMasked(patient) ? <p className="notice">Some fields of this record are hidden by your access policy.</p> : null}
      <Tabs<Tab>
        items={tabs.map((t) => ({ key: t.key, label: t.label, badge: t.key === 'overview' ? undefined : chart.loading ? '…' : chart.sections[t.key].length }))}
        selected={shown}
        onSelect={setTab}
        label="Chart sections"
        idPrefix="tab"
        panelId="chart-panel"
      />
      <section id="chart-panel" role="tabpanel" aria-labelledby={`tab-${shown}`} className="tab-panel" tabIndex={0}>
        {shown === 'overview' ? (
          <div className="overview">
            <Demographics patient={patient} hidden={hidden} />
            {chart.readable.includes('observations') ? (
              <div className="panel">
                <h2>Vital signs and lab values</h2>
                {chart.loading ? <Loading label="Loading observations…" /> : chart.sectionErrors.observations ? <ErrorMessage error={chart.sectionErrors.observations} /> : <TrendChart observations={chart.sections.observations} />}
              </div>
            ) : null}
          </div>
        ) : (
          <Section tab={shown} label={TABS.find((t) => t.key === shown)?.label ?? ''} sections={chart.sections} error={chart.sectionErrors[shown]} loading={chart.loading} patient={patient} />
        )}
      </section>
    </main>
  );
}

function Demographics({ patient, hidden }: { patient: Patient; hidden: Set<string> }) {
  const h = (path: string): boolean => isHiddenPath(hidden, path);
  const rows: [string, boolean, ReactNode][] = [
    ['Name', h('name'), personName(patient.name)],
    ['Birth date', h('birthDate'), formatWhen(patient.birthDate)],
    ['Sex', h('gender'), codeWords(patient.gender)],
    ['Identifiers', h('identifier'), identifierList(patient)],
    ['Phone / email', h('telecom'), patient.telecom?.map((t) => t.value).filter(Boolean).join(', ')],
    ['Address', h('address'), patient.address?.map((a) => formatAddress(a)).join('; ')],
    ['Marital status', h('maritalStatus'), conceptText(patient.maritalStatus)],
    ['Language', h('communication'), patient.communication?.map((c) => conceptText(c.language)).join(', ')],
    ['Deceased', h('deceasedDateTime') || h('deceasedBoolean'), patient.deceasedDateTime ? formatWhen(patient.deceasedDateTime) : patient.deceasedBoolean ? 'Yes' : undefined],
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
          {i.type ? <span className="id-type">{conceptText(i.type)}</span> : null} {i.value}
        </li>
      ))}
    </ul>
  );
}
