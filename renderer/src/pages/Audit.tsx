// The audit log: who did what to which record, when, and with what outcome. Denied attempts stand out.
import { formatDateTime } from '@medplum/core';
import type { AuditEvent } from '@medplum/fhirtypes';
import { useEffect, useState, type FormEvent } from 'react';
import { Empty, ErrorMessage, Loading } from '../components/common.tsx';
import { useApp } from '../context.ts';
import { isFailure, type AuditFilters } from '../stores/audit.ts';

const OUTCOMES: Record<string, string> = { '0': 'Success', '4': 'Minor failure', '8': 'Denied / failed', '12': 'Major failure' };

function action(e: AuditEvent): string {
  const sub = e.subtype?.map((s) => s.display ?? s.code).filter(Boolean).join(', ');
  return sub || e.type?.display || e.type?.code || e.action || '';
}

export function AuditPage() {
  const audit = useApp('audit');
  const [form, setForm] = useState<AuditFilters>(audit.filters);
  const loaded = audit.loaded;
  const search = audit.search;
  useEffect(() => {
    if (!loaded) void search();
  }, [loaded, search]);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void audit.search(form);
  };
  const set = (key: keyof AuditFilters) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <main className="page">
      <h1>Audit log</h1>
      <form className="search-bar" role="search" aria-label="Filter audit events" onSubmit={submit}>
        <div className="field">
          <label htmlFor="a-agent">User (reference)</label>
          <input id="a-agent" placeholder="Practitioner/…" value={form.agent} onChange={set('agent')} />
        </div>
        <div className="field">
          <label htmlFor="a-patient">Patient (reference)</label>
          <input id="a-patient" placeholder="Patient/…" value={form.patient} onChange={set('patient')} />
        </div>
        <div className="field">
          <label htmlFor="a-action">Action</label>
          <input id="a-action" placeholder="read, search, login…" value={form.action} onChange={set('action')} />
        </div>
        <div className="field">
          <label htmlFor="a-outcome">Outcome</label>
          <select id="a-outcome" value={form.outcome} onChange={set('outcome')}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure or denied</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="a-from">From</label>
          <input id="a-from" type="date" value={form.from} onChange={set('from')} />
        </div>
        <div className="field">
          <label htmlFor="a-to">To</label>
          <input id="a-to" type="date" value={form.to} onChange={set('to')} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <div className="results-meta" aria-live="polite">
        {audit.loading ? 'Loading…' : audit.total !== undefined ? `${audit.total} events` : ''}
      </div>
      <ErrorMessage error={audit.error} />
      {audit.loading && audit.events.length === 0 ? <Loading /> : null}
      {!audit.loading && audit.loaded && !audit.error && audit.events.length === 0 ? <Empty>No audit events match.</Empty> : null}
      {audit.events.length > 0 ? (
        <table className="data" aria-label="Audit events">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">What</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {audit.events.map((e) => (
              <tr key={e.id} className={isFailure(e) ? 'denied' : undefined}>
                <td>{formatDateTime(e.recorded)}</td>
                <td>{e.agent?.map((a) => a.who?.display ?? a.who?.reference ?? a.name).filter(Boolean).join(', ')}</td>
                <td>{action(e)}</td>
                <td>{e.entity?.map((x) => x.what?.display ?? x.what?.reference ?? x.name).filter(Boolean).join(', ')}</td>
                <td>
                  {isFailure(e) ? <strong className="denied-label">{OUTCOMES[e.outcome ?? ''] ?? 'Failure'}</strong> : OUTCOMES['0']}
                  {e.outcomeDesc ? <span className="outcome-desc"> — {e.outcomeDesc}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}
