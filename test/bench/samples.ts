// Parameter values for the benchmark searches, drawn from the generated data while the floor is built
// (ids in the generated form: `Type/<uuid of the Bundle>`; the store's own ids are mapped later).
import type { Claim, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';

export const MRN_SYSTEM = 'http://hospital.smarthealthit.org';
export const VITAL_SIGNS = 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';

export interface PatientSample {
  ref: string;
  family: string;
  mrn: string;
  birthDate: string;
}

export interface ObservationSample {
  subject: string;
  code: string;
  /** UTC year of effectiveDateTime. */
  year: number;
}

export interface Samples {
  patients: PatientSample[];
  observations: ObservationSample[];
  /** Start days (YYYY-MM-DD, UTC) of encounters. */
  encounterDays: string[];
  /** Encounter references named by a Claim. */
  claimEncounters: string[];
  /** Patients with at least 40 vital-sign Observations (for page 2 of a sorted search). */
  patientsWithManyVitals: string[];
}

/** Reservoir sampling keeps memory flat whatever the data size. */
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(
    private readonly size: number,
    private readonly next: () => number,
  ) {}
  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.size) {
      this.items.push(item);
    } else {
      const j = this.next() % this.seen;
      if (j < this.size) {
        this.items[j] = item;
      }
    }
  }
}

export function createSampler(next: () => number, size = 2000): { offer(resource: Resource): void; samples(): Samples } {
  const patients: PatientSample[] = [];
  const observations = new Reservoir<ObservationSample>(size, next);
  const encounterDays = new Reservoir<string>(size, next);
  const claimEncounters = new Reservoir<string>(size, next);
  const vitalsPerPatient = new Map<string, number>();
  return {
    offer(resource) {
      switch (resource.resourceType) {
        case 'Patient': {
          const p = resource as Patient;
          const mrn = p.identifier?.find((i) => i.system === MRN_SYSTEM)?.value;
          const family = p.name?.[0]?.family;
          if (mrn && family && p.birthDate) {
            patients.push({ ref: `Patient/${p.id}`, family, mrn, birthDate: p.birthDate });
          }
          break;
        }
        case 'Observation': {
          const o = resource as Observation;
          const coding = o.code?.coding?.[0];
          const subject = o.subject?.reference;
          if (subject && coding?.code && o.effectiveDateTime) {
            observations.offer({ subject, code: `${coding.system}|${coding.code}`, year: new Date(o.effectiveDateTime).getUTCFullYear() });
            const isVital = o.category?.some((c) => c.coding?.some((cc) => `${cc.system}|${cc.code}` === VITAL_SIGNS));
            if (isVital) {
              vitalsPerPatient.set(subject, (vitalsPerPatient.get(subject) ?? 0) + 1);
            }
          }
          break;
        }
        case 'Encounter': {
          const start = (resource as Encounter).period?.start;
          if (start) {
            encounterDays.offer(new Date(start).toISOString().slice(0, 10));
          }
          break;
        }
        case 'Claim':
          for (const item of (resource as Claim).item ?? []) {
            for (const e of item.encounter ?? []) {
              if (e.reference) {
                claimEncounters.offer(e.reference);
              }
            }
          }
          break;
        default:
          break;
      }
    },
    samples: () => ({
      patients,
      observations: observations.items,
      encounterDays: encounterDays.items,
      claimEncounters: claimEncounters.items,
      patientsWithManyVitals: [...vitalsPerPatient].filter(([, n]) => n >= 40).map(([ref]) => ref),
    }),
  };
}
