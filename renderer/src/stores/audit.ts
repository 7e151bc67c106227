// The audit log: AuditEvents filtered by user, patient, action, outcome and date (admins only).
import type { MedplumClient } from '@medplum/core';
import type { AuditEvent } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText } from '../api/outcome.ts';

export interface AuditFilters {
  agent: string;
  patient: string;
  action: string;
  outcome: '' | 'success' | 'failure';
  from: string;
  to: string;
}

export interface AuditState {
  filters: AuditFilters;
  events: AuditEvent[];
  total?: number;
  loading: boolean;
  loaded: boolean;
  error?: string;
  search(filters?: Partial<AuditFilters>): Promise<void>;
  reset(): void;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { agent: '', patient: '', action: '', outcome: '', from: '', to: '' };

/** AuditEvent.outcome: '0' is success; 4, 8 and 12 are failures (denied attempts among them). */
export function isFailure(event: AuditEvent): boolean {
  return event.outcome !== undefined && event.outcome !== '0';
}

export function createAuditStore(medplum: MedplumClient): StoreApi<AuditState> {
  let generation = 0;
  return createStore<AuditState>((set, get) => ({
    filters: EMPTY_AUDIT_FILTERS,
    events: [],
    loading: false,
    loaded: false,

    async search(partial) {
      const filters = { ...get().filters, ...partial };
      const mine = ++generation;
      set({ filters, loading: true, error: undefined });
      const params = new URLSearchParams({ _count: '100', _sort: '-date', _total: 'accurate' });
      if (filters.agent.trim()) params.set('agent', filters.agent.trim());
      if (filters.patient.trim()) params.set('entity', filters.patient.trim());
      if (filters.action.trim()) params.set('subtype', filters.action.trim());
      if (filters.outcome === 'success') params.set('outcome', '0');
      if (filters.outcome === 'failure') params.set('outcome:not', '0');
      if (filters.from) params.append('date', `ge${filters.from}`);
      if (filters.to) params.append('date', `le${filters.to}`);
      try {
        const bundle = await medplum.search('AuditEvent', params);
        if (mine === generation) set({ events: (bundle.entry ?? []).map((e) => e.resource as AuditEvent), total: bundle.total, loading: false, loaded: true });
      } catch (err) {
        if (mine === generation) set({ events: [], total: undefined, loading: false, loaded: true, error: errorText(err) });
      }
    },

    reset() {
      generation++;
      set({ filters: EMPTY_AUDIT_FILTERS, events: [], total: undefined, loading: false, loaded: false, error: undefined });
    },
  }));
}
