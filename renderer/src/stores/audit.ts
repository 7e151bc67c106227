// The audit log (admins only): AuditEvents filtered by person, patient (by name), action, outcome and
// date, fifty to a page with every page reachable; the people and records they name resolved to names;
// the whole filtered log as CSV.
import type { MedplumClient } from '@medplum/core';
import type { AuditEvent, Bundle, ProjectMembership } from '@medplum/fhirtypes';
import { resolveNames } from '../api/names.ts';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText } from '../api/outcome.ts';
import { auditCsv, describeEvent, referencesOf } from './audit-words.ts';

export interface AuditFilters {
  /** A profile reference (Practitioner/…), from the person picker. */
  person: string;
  patientName: string;
  action: string;
  outcome: '' | 'success' | 'failure';
  from: string;
  to: string;
}

export interface AuditState {
  filters: AuditFilters;
  events: AuditEvent[];
  page: number;
  pageSize: number;
  total?: number;
  /** Reference -> name, for the people and records the shown events name. */
  names: Record<string, string>;
  /** The project's people, for the person filter. */
  people: { reference: string; label: string }[];
  loading: boolean;
  loaded: boolean;
  error?: string;
  /** Set when the patient name matched nobody. */
  notice?: string;
  exporting: boolean;
  exportUrl?: string;
  exportName?: string;
  search(filters?: Partial<AuditFilters>, page?: number): Promise<void>;
  loadPeople(): Promise<void>;
  exportCsv(): Promise<void>;
  reset(): void;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { person: '', patientName: '', action: '', outcome: '', from: '', to: '' };

/** AuditEvent.outcome: '0' is success; 4, 8 and 12 are failures (denied attempts among them). */
export function isFailure(event: AuditEvent): boolean {
  return event.outcome !== undefined && event.outcome !== '0';
}

const PAGE_SIZE = 50;
const EXPORT_PAGE = 500;

export function createAuditStore(medplum: MedplumClient): StoreApi<AuditState> {
  let generation = 0;

  /** The search parameters of the filters, or undefined when a patient name matched nobody. */
  const paramsFor = async (filters: AuditFilters): Promise<URLSearchParams | undefined> => {
    const params = new URLSearchParams({ _sort: '-date' });
    if (filters.person) params.set('agent', filters.person);
    if (filters.patientName.trim()) {
      const patients = await medplum.searchResources('Patient', new URLSearchParams({ name: filters.patientName.trim(), _count: '100', _elements: 'id' }));
      if (patients.length === 0) return undefined;
      params.set('entity', patients.map((p) => `Patient/${p.id}`).join(','));
    }
    if (filters.action) params.set('subtype', filters.action);
    if (filters.outcome === 'success') params.set('outcome', '0');
    if (filters.outcome === 'failure') params.set('outcome:not', '0');
    if (filters.from) params.append('date', `ge${filters.from}`);
    if (filters.to) params.append('date', `le${filters.to}T23:59:59`);
    return params;
  };

  const resolve = (references: string[], known: Record<string, string>): Promise<Record<string, string>> => resolveNames(medplum, references, known);

  const store = createStore<AuditState>((set, get) => ({
    filters: EMPTY_AUDIT_FILTERS,
    events: [],
    page: 0,
    pageSize: PAGE_SIZE,
    names: {},
    people: [],
    loading: false,
    loaded: false,
    exporting: false,

    async search(partial, page = 0) {
      const filters = { ...get().filters, ...partial };
      const mine = ++generation;
      set({ filters, page, loading: true, error: undefined, notice: undefined });
      try {
        const params = await paramsFor(filters);
        if (!params) {
          if (mine === generation) set({ events: [], total: 0, loading: false, loaded: true, notice: `No patient is named "${filters.patientName.trim()}".` });
          return;
        }
        params.set('_count', String(PAGE_SIZE));
        params.set('_offset', String(page * PAGE_SIZE));
        params.set('_total', 'accurate');
        const bundle = await medplum.search('AuditEvent', params);
        const events = (bundle.entry ?? []).map((e) => e.resource as AuditEvent);
        const names = await resolve(events.flatMap(referencesOf), get().names);
        if (mine === generation) set({ events, total: bundle.total, names: { ...get().names, ...names }, loading: false, loaded: true });
      } catch (err) {
        if (mine === generation) set({ events: [], total: undefined, loading: false, loaded: true, error: errorText(err) });
      }
    },

    async loadPeople() {
      try {
        const memberships = await medplum.searchResources('ProjectMembership', new URLSearchParams({ _count: '500' }));
        const people = [...memberships]
          .filter((m: ProjectMembership) => m.profile?.reference)
          .map((m: ProjectMembership) => ({ reference: m.profile!.reference!, label: `${m.profile!.display ?? m.profile!.reference} (${m.profile!.reference!.split('/')[0] === 'RelatedPerson' ? 'Related person' : m.profile!.reference!.split('/')[0]})` }))
          .sort((a, b) => a.label.localeCompare(b.label));
        set({ people: people.filter((p, i) => people.findIndex((q) => q.reference === p.reference) === i) });
      } catch {
        set({ people: [] });
      }
    },

    async exportCsv() {
      const previous = get().exportUrl;
      if (previous) URL.revokeObjectURL(previous);
      set({ exporting: true, exportUrl: undefined, error: undefined });
      try {
        const params = await paramsFor(get().filters);
        const events: AuditEvent[] = [];
        if (params) {
          params.set('_count', String(EXPORT_PAGE));
          for (let offset = 0; ; offset += EXPORT_PAGE) {
            params.set('_offset', String(offset));
            const bundle: Bundle = await medplum.search('AuditEvent', params);
            const page = (bundle.entry ?? []).map((e) => e.resource as AuditEvent);
            events.push(...page);
            if (page.length < EXPORT_PAGE) break;
          }
        }
        const names = { ...get().names, ...(await resolve(events.flatMap(referencesOf), get().names)) };
        const blob = new Blob([auditCsv(events, names)], { type: 'text/csv;charset=utf-8' });
        set({ exporting: false, names, exportUrl: URL.createObjectURL(blob), exportName: `outpost-audit-${new Date().toISOString().slice(0, 10)}.csv` });
      } catch (err) {
        set({ exporting: false, error: errorText(err) });
      }
    },

    reset() {
      generation++;
      const url = get().exportUrl;
      if (url) URL.revokeObjectURL(url);
      set({ filters: EMPTY_AUDIT_FILTERS, events: [], page: 0, total: undefined, names: {}, people: [], loading: false, loaded: false, error: undefined, notice: undefined, exporting: false, exportUrl: undefined, exportName: undefined });
    },
  }));
  return store;
}

export { describeEvent };
