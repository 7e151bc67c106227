// The patient banner: on every patient page and form, whose record this is (name, age, sex, MRN) and
// the allergies a clinician must not miss, high criticality first. Fields the role may not see say so.
import type { AllergyIntolerance, Identifier, Patient } from '@medplum/fhirtypes';
import { hiddenPaths, isHiddenPath } from '../api/access.ts';
import { ageText, codeWords, conceptText, formatWhen, personName } from './clinical.ts';
import { Hidden } from './common.tsx';

const MRN_TYPE = 'MR';
const OUTPOST_MRN = 'https://outpost.local/mrn';

/** The medical record number: the identifier typed MR, else the clinic's own MRN system. */
export function mrnOf(patient: Patient): Identifier | undefined {
  return patient.identifier?.find((i) => i.type?.coding?.some((c) => c.code === MRN_TYPE)) ?? patient.identifier?.find((i) => i.system === OUTPOST_MRN);
}

/** The name shown for a patient everywhere; says so when the policy hides it. */
export function patientLabel(patient: Patient): string {
  return isHiddenPath(hiddenPaths(patient), 'name') ? 'Name hidden by access policy' : personName(patient.name) || 'Unnamed patient';
}

const CRITICALITY_RANK: Record<string, number> = { high: 0, 'unable-to-assess': 1, low: 2 };

function isActive(a: AllergyIntolerance): boolean {
  const status = a.clinicalStatus?.coding?.[0]?.code;
  return status === undefined || status === 'active';
}

export interface BannerAllergies {
  /** false when the role may not read allergies (never asked for). */
  readable: boolean;
  loading: boolean;
  error?: string;
  list: AllergyIntolerance[];
}

export function PatientBanner({ patient, allergies, context }: { patient: Patient; allergies: BannerAllergies; context?: string }) {
  const hidden = hiddenPaths(patient);
  const h = (path: string): boolean => isHiddenPath(hidden, path);
  const mrn = mrnOf(patient);
  const active = allergies.list.filter(isActive).sort((a, b) => (CRITICALITY_RANK[a.criticality ?? ''] ?? 3) - (CRITICALITY_RANK[b.criticality ?? ''] ?? 3));
  return (
    <section className="patient-banner" aria-label="Patient" data-testid="patient-banner">
      <div className="banner-identity">
        {context ? <span className="banner-context">{context}</span> : null}
        <span className="banner-name" data-testid="banner-name">
          {h('name') ? <Hidden /> : personName(patient.name) || 'Unnamed patient'}
        </span>
        <dl className="banner-facts">
          <div>
            <dt>Age</dt>
            <dd>{h('birthDate') ? <Hidden /> : patient.birthDate ? `${ageText(patient.birthDate)} (born ${formatWhen(patient.birthDate)})` : '—'}</dd>
          </div>
          <div>
            <dt>Sex</dt>
            <dd>{h('gender') ? <Hidden /> : codeWords(patient.gender) || '—'}</dd>
          </div>
          <div>
            <dt>MRN</dt>
            <dd data-testid="banner-mrn">{h('identifier') ? <Hidden /> : mrn?.value ?? '—'}</dd>
          </div>
        </dl>
      </div>
      <div className="banner-allergies" data-testid="banner-allergies">
        <span className="banner-label">Allergies</span>
        {!allergies.readable ? (
          <span className="muted">not available to your role</span>
        ) : allergies.loading ? (
          <span className="muted">loading…</span>
        ) : allergies.error ? (
          <span className="muted">could not be loaded</span>
        ) : active.length === 0 ? (
          <span>None recorded</span>
        ) : (
          <ul>
            {active.map((a) => (
              <li key={a.id} className={a.criticality === 'high' ? 'allergy allergy-high' : 'allergy'}>
                {conceptText(a.code) || 'Unnamed allergy'}
                {a.criticality ? <span className="criticality">{a.criticality === 'high' ? 'High criticality' : a.criticality === 'low' ? 'Low criticality' : 'Criticality unable to assess'}</span> : null}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
