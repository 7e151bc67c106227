// The chart's sections as tables: every date in the one format, codes by their display, observation
// values rounded with their units, reference ranges and flags; lab results grouped by their panel
// (DiagnosticReport). An "Edit" link only where the role may change that row.
import type { DiagnosticReport, Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { ReactNode } from 'react';
import { hiddenPaths, isHiddenPath, mayDo } from '../api/access.ts';
import { codeWords, conceptText, formatSpan, formatWhen, interpretationFlag, loincCode, observationValueText, referenceRangeText, type Flag } from '../components/clinical.ts';
import { Empty, ErrorMessage, Loading, Value } from '../components/common.tsx';
import { useApp } from '../context.ts';
import { href } from '../router.ts';
import type { ChartSections, SectionKey } from '../stores/chart.ts';

interface Column {
  label: string;
  path: string;
  render(resource: any): ReactNode;
}

export function FlagBadge({ flag }: { flag: Flag | undefined }) {
  if (!flag) return <span className="absent">—</span>;
  return (
    <span className={`flag flag-${flag.severity}`} title={flag.label}>
      {flag.severity === 'normal' ? flag.label : `${flag.code} · ${flag.label}`}
    </span>
  );
}

const observationColumns: Column[] = [
  { label: 'When', path: 'effectiveDateTime', render: (r: Observation) => formatWhen(r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.issued) },
  { label: 'Observation', path: 'code', render: (r: Observation) => conceptText(r.code) },
  { label: 'Value', path: 'value', render: (r: Observation) => observationValueText(r) },
  { label: 'Reference range', path: 'referenceRange', render: (r: Observation) => referenceRangeText(r.referenceRange, loincCode(r.code)) },
  { label: 'Flag', path: 'interpretation', render: (r: Observation) => <FlagBadge flag={interpretationFlag(r)} /> },
  { label: 'Status', path: 'status', render: (r: Observation) => codeWords(r.status) },
];

export const COLUMNS: Record<Exclude<SectionKey, 'diagnosticReports'>, Column[]> = {
  encounters: [
    { label: 'When', path: 'period', render: (r) => formatSpan(r.period) },
    { label: 'Type', path: 'type', render: (r) => conceptText(r.type?.[0]) },
    { label: 'Class', path: 'class', render: (r) => (r.class?.display && r.class.display !== r.class.code ? codeWords(r.class.display) : r.class?.code) },
    { label: 'Status', path: 'status', render: (r) => codeWords(r.status) },
  ],
  conditions: [
    { label: 'Condition', path: 'code', render: (r) => conceptText(r.code) },
    { label: 'Clinical status', path: 'clinicalStatus', render: (r) => conceptText(r.clinicalStatus) },
    { label: 'Onset', path: 'onsetDateTime', render: (r) => formatWhen(r.onsetDateTime) },
    { label: 'Recorded', path: 'recordedDate', render: (r) => formatWhen(r.recordedDate) },
  ],
  observations: observationColumns,
  medications: [
    { label: 'Medication', path: 'medicationCodeableConcept', render: (r) => conceptText(r.medicationCodeableConcept) || r.medicationReference?.display },
    { label: 'Status', path: 'status', render: (r) => codeWords(r.status) },
    { label: 'Authored', path: 'authoredOn', render: (r) => formatWhen(r.authoredOn) },
  ],
  allergies: [
    { label: 'Allergy', path: 'code', render: (r) => conceptText(r.code) },
    { label: 'Criticality', path: 'criticality', render: (r) => codeWords(r.criticality) },
    { label: 'Clinical status', path: 'clinicalStatus', render: (r) => conceptText(r.clinicalStatus) },
    { label: 'Recorded', path: 'recordedDate', render: (r) => formatWhen(r.recordedDate) },
  ],
  immunizations: [
    { label: 'Vaccine', path: 'vaccineCode', render: (r) => conceptText(r.vaccineCode) },
    { label: 'Date', path: 'occurrenceDateTime', render: (r) => formatWhen(r.occurrenceDateTime) },
    { label: 'Status', path: 'status', render: (r) => codeWords(r.status) },
  ],
  carePlans: [
    { label: 'Care plan', path: 'category', render: (r) => r.title ?? conceptText(r.category?.[0]) },
    { label: 'Status', path: 'status', render: (r) => codeWords(r.status) },
    { label: 'Period', path: 'period', render: (r) => formatSpan(r.period) },
  ],
};

const EDITABLE: Partial<Record<SectionKey, 'Observation' | 'Encounter' | 'Condition'>> = { observations: 'Observation', encounters: 'Encounter', conditions: 'Condition' };

function Table({ label, rows, columns, patient, editType }: { label: string; rows: Resource[]; columns: Column[]; patient: Patient; editType?: 'Observation' | 'Encounter' | 'Condition' }) {
  const policy = useApp('session').me?.accessPolicy;
  const editable = editType ? rows.filter((r) => mayDo(policy, 'update', r, patient)) : [];
  return (
    <div className="table-scroll">
      <table className="data" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label} scope="col">
                {c.label}
              </th>
            ))}
            {editable.length ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const hidden = hiddenPaths(r);
            return (
              <tr key={r.id}>
                {columns.map((c) => (
                  <td key={c.label}>
                    <Value hidden={isHiddenPath(hidden, c.path)}>{c.render(r)}</Value>
                  </td>
                ))}
                {editable.length ? (
                  <td>{editType && editable.includes(r) ? <a href={href({ name: 'edit', type: editType, id: r.id, patientId: patient.id })} aria-label={`Edit ${conceptText((r as Observation).code) || editType.toLowerCase()} of ${formatWhen((r as Observation).effectiveDateTime ?? (r as { period?: { start?: string } }).period?.start ?? (r as { onsetDateTime?: string }).onsetDateTime)}`}>Edit</a> : null}</td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Section({ tab, label, sections, error, loading, patient }: { tab: SectionKey; label: string; sections: ChartSections; error?: string; loading: boolean; patient: Patient }) {
  if (loading) return <Loading />;
  if (error) return <ErrorMessage title="This section could not be loaded" error={error} />;
  if (tab === 'diagnosticReports') return <LabPanels reports={sections.diagnosticReports} observations={sections.observations} patient={patient} />;
  const rows = sections[tab] as Resource[];
  if (rows.length === 0) return <Empty>Nothing recorded.</Empty>;
  return <Table label={label} rows={rows} columns={COLUMNS[tab]} patient={patient} editType={EDITABLE[tab]} />;
}

/** Lab results grouped by their panel: each DiagnosticReport with the Observations it lists. */
function LabPanels({ reports, observations, patient }: { reports: DiagnosticReport[]; observations: Observation[]; patient: Patient }) {
  const byId = new Map(observations.map((o) => [`Observation/${o.id}`, o]));
  const panels = reports
    .map((report) => ({ report, results: (report.result ?? []).map((ref) => byId.get(ref.reference ?? '')).filter((o): o is Observation => Boolean(o)) }))
    .filter((p) => p.results.length > 0);
  if (panels.length === 0) return <Empty>No lab panels recorded.</Empty>;
  return (
    <div className="lab-panels">
      {panels.map(({ report, results }) => {
        const title = `${conceptText(report.code) || 'Lab panel'}, ${formatWhen(report.effectiveDateTime ?? report.issued)}`;
        return (
          <section key={report.id} className="lab-panel" aria-label={title}>
            <h3>
              {conceptText(report.code) || 'Lab panel'} <span className="muted">{formatWhen(report.effectiveDateTime ?? report.issued)}</span>
            </h3>
            <Table label={title} rows={results} columns={observationColumns.filter((c) => c.label !== 'When')} patient={patient} />
          </section>
        );
      })}
    </div>
  );
}
