// Patient search: name, identifier, birth date, with paging and the total count. Only what the role
// may see comes back: the host filters in its search.
import type { MedplumClient } from '@medplum/core';
import type { Patient } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText } from '../api/outcome.ts';

export interface PatientQuery {
  name: string;
  identifier: string;
  birthdate: string;
}

export interface PatientsState {
  query: PatientQuery;
  page: number;
  pageSize: number;
  total?: number;
  results: Patient[];
  loading: boolean;
  loaded: boolean;
  error?: string;
  search(query?: Partial<PatientQuery>, page?: number): Promise<void>;
  reset(): void;
}

const EMPTY_QUERY: PatientQuery = { name: '', identifier: '', birthdate: '' };

export function createPatientsStore(medplum: MedplumClient): StoreApi<PatientsState> {
  let generation = 0;
  return createStore<PatientsState>((set, get) => ({
    query: EMPTY_QUERY,
    page: 0,
    pageSize: 20,
    results: [],
    loading: false,
    loaded: false,

    async search(partial, page = 0) {
      const query = { ...get().query, ...partial };
      const mine = ++generation;
      set({ query, page, loading: true, error: undefined });
      const params = new URLSearchParams({ _count: String(get().pageSize), _offset: String(page * get().pageSize), _total: 'accurate' });
      if (query.name.trim()) params.set('name', query.name.trim());
      if (query.identifier.trim()) params.set('identifier', query.identifier.trim());
      if (query.birthdate.trim()) params.set('birthdate', query.birthdate.trim());
      try {
        const bundle = await medplum.search('Patient', params);
        if (mine === generation) {
          set({ results: (bundle.entry ?? []).map((e) => e.resource as Patient), total: bundle.total, loading: false, loaded: true });
        }
      } catch (err) {
        if (mine === generation) {
          set({ loading: false, loaded: true, error: errorText(err), results: [], total: undefined });
        }
      }
    },

    reset() {
      generation++;
      set({ query: EMPTY_QUERY, page: 0, total: undefined, results: [], loading: false, loaded: false, error: undefined });
    },
  }));
}
