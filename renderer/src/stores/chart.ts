// One patient's chart: the Patient and its clinical sections, and the writes of the edit forms
// (Patient, Observation, Encounter, Condition) with version checks (If-Match).
import type { MedplumClient } from '@medplum/core';
import type {
  AllergyIntolerance,
  CarePlan,
  Condition,
  DiagnosticReport,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText, isNotFound, issuePaths, outcomeOf } from '../api/outcome.ts';

export interface ChartSections {
  encounters: Encounter[];
  conditions: Condition[];
  observations: Observation[];
  medications: MedicationRequest[];
  allergies: AllergyIntolerance[];
  immunizations: Immunization[];
  carePlans: CarePlan[];
  diagnosticReports: DiagnosticReport[];
}

export type SectionKey = keyof ChartSections;

export interface SaveResult<T extends Resource = Resource> {
  ok: boolean;
  resource?: T;
  error?: string;
  /** FHIR paths the server's OperationOutcome points at. */
  paths?: string[];
  /** Someone changed the record since it was read (412/409). */
  conflict?: boolean;
}

export interface ChartState {
  patientId?: string;
  patient?: Patient;
  sections: ChartSections;
  /** Sections that failed to load (shown as such, not as empty). */
  sectionErrors: Partial<Record<SectionKey, string>>;
  /** Sections the role may search: the others are never asked for (no request the role is refused). */
  readable: SectionKey[];
  loading: boolean;
  notFound: boolean;
  error?: string;
  /** Loads the patient, then only the sections `canSearch` allows for that patient. */
  load(patientId: string, canSearch?: (resourceType: string, patient: Patient) => boolean): Promise<void>;
  /** Reads one resource for an edit form. */
  read<T extends Resource>(resourceType: T['resourceType'], id: string): Promise<{ resource?: T; error?: string; notFound?: boolean }>;
  save<T extends Resource>(resource: T): Promise<SaveResult<T>>;
  reset(): void;
}

const EMPTY: ChartSections = { encounters: [], conditions: [], observations: [], medications: [], allergies: [], immunizations: [], carePlans: [], diagnosticReports: [] };

const SECTION_QUERIES: Record<SectionKey, { type: string; sort: string; count: number }> = {
  encounters: { type: 'Encounter', sort: '-date', count: 50 },
  conditions: { type: 'Condition', sort: '-_lastUpdated', count: 100 },
  observations: { type: 'Observation', sort: '-date', count: 500 },
  medications: { type: 'MedicationRequest', sort: '-_lastUpdated', count: 100 },
  allergies: { type: 'AllergyIntolerance', sort: '-_lastUpdated', count: 50 },
  immunizations: { type: 'Immunization', sort: '-date', count: 50 },
  carePlans: { type: 'CarePlan', sort: '-_lastUpdated', count: 50 },
  diagnosticReports: { type: 'DiagnosticReport', sort: '-date', count: 100 },
};

/** The FHIR type behind each chart section. */
export const SECTION_TYPES: Record<SectionKey, string> = Object.fromEntries(
  Object.entries(SECTION_QUERIES).map(([key, q]) => [key, q.type])
) as Record<SectionKey, string>;

export function createChartStore(medplum: MedplumClient): StoreApi<ChartState> {
  let generation = 0;
  let lastCanSearch: (resourceType: string, patient: Patient) => boolean = () => true;
  return createStore<ChartState>((set, get) => ({
    sections: EMPTY,
    sectionErrors: {},
    readable: [],
    loading: false,
    notFound: false,

    async load(patientId, canSearch = () => true) {
      lastCanSearch = canSearch;
      const mine = ++generation;
      set({ patientId, patient: undefined, sections: EMPTY, sectionErrors: {}, readable: [], loading: true, notFound: false, error: undefined });
      let patient: Patient;
      try {
        patient = await medplum.readResource('Patient', patientId);
        if (mine !== generation) return;
        set({ patient });
      } catch (err) {
        if (mine === generation) set({ loading: false, notFound: isNotFound(err), error: errorText(err) });
        return;
      }
      const keys = (Object.keys(SECTION_QUERIES) as SectionKey[]).filter((key) => canSearch(SECTION_QUERIES[key].type, patient));
      set({ readable: keys });
      const answers = await Promise.allSettled(
        keys.map((key) => {
          const q = SECTION_QUERIES[key];
          return medplum.searchResources(q.type as 'Observation', new URLSearchParams({ patient: `Patient/${patientId}`, _count: String(q.count), _sort: q.sort }));
        })
      );
      if (mine !== generation) return;
      const sections = { ...EMPTY } as Record<SectionKey, Resource[]>;
      const sectionErrors: Partial<Record<SectionKey, string>> = {};
      answers.forEach((answer, i) => {
        if (answer.status === 'fulfilled') sections[keys[i]] = [...answer.value];
        else sectionErrors[keys[i]] = errorText(answer.reason);
      });
      set({ sections: sections as unknown as ChartSections, sectionErrors, loading: false });
    },

    async read(resourceType, id) {
      try {
        return { resource: (await medplum.readResource(resourceType as 'Patient', id)) as unknown as never };
      } catch (err) {
        return { error: errorText(err), notFound: isNotFound(err) };
      }
    },

    async save(resource) {
      try {
        const versionId = resource.meta?.versionId;
        const saved = resource.id
          ? await medplum.updateResource(resource, versionId ? { headers: { 'If-Match': `W/"${versionId}"` } } : undefined)
          : await medplum.createResource(resource);
        const patientId = get().patientId;
        if (patientId) void get().load(patientId, lastCanSearch);
        return { ok: true, resource: saved as typeof resource };
      } catch (err) {
        const code = outcomeOf(err)?.issue?.[0]?.code;
        return { ok: false, error: errorText(err), paths: issuePaths(err), conflict: code === 'conflict' || /version/i.test(errorText(err)) };
      }
    },

    reset() {
      generation++;
      set({ patientId: undefined, patient: undefined, sections: EMPTY, sectionErrors: {}, readable: [], loading: false, notFound: false, error: undefined });
    },
  }));
}
