// The audit log: who did what to which record, when, and with what outcome, in words. Filters by
// person, patient name, action, outcome and dates; every page reachable; the filtered log as CSV.
import { useEffect, useState, type FormEvent } from 'react';
import { Empty, ErrorMessage, Loading } from '../components/common.tsx';
import { useApp } from '../context.ts';
import { type AuditFilters } from '../stores/audit.ts';
import { ACTION_CHOICES, describeEvent } from '../stores/audit-words.ts';

export function AuditPage() {
  const audit = useApp('audit');
  const [form, setForm] = useState<AuditFilters>(audit.filters);
  const { loaded, search, loadPeople } = audit;
  useEffect(() => {
    if (!loaded) {
      void search();
      void loadPeople();
    }
  }, [loaded, search, loadPeople]);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void audit.search(form, 0);
  };
  const set = (key: keyof AuditFilters) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const pages = audit.total !== undefined ? Math.max(1, Math.ceil(audit.total / audit.pageSize)) : undefined;
  const first = audit.page * audit.pageSize + 1;
  const last = audit.page * audit.pageSize + audit.events.length;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void audit.exportCsv()} disabled={audit.exporting}>
            {audit.exporting ? 'Exporting…' : 'Export CSV'}
          </button>
          {audit.exportUrl ? (
            <a className="button secondary" href={audit.exportUrl} download={audit.exportName}>
              Download {audit.exportName}
            </a>
          ) : null}
        </div>
      </div>
      <form className="search-bar" role="search" aria-label="Filter audit events" onSubmit={submit}>
        <div className="field">
          <label htmlFor="a-person">Person</label>
          <select id="a-person" value={form.person} onChange={set('person')}>
            <option value="">Anyone</option>
            {audit.people.map((p) => (
              <option key={p.reference} value={p.reference}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="a-patient">Patient name</label>
          <input id="a-patient" placeholder="e.g. Johnson" value={form.patientName} onChange={set('patientName')} />
        </div>
        <div className="field">
          <label htmlFor="a-action">Action</label>
          <select id="a-action" value={form.action} onChange={set('action')}>
            <option value="">Any</option>
            {ACTION_CHOICES.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="a-outcome">Outcome</label>
          <select id="a-outcome" value={form.outcome} onChange={set('outcome')}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Denied or failed</option>
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
      <div className="results-meta" aria-live="polite" data-testid="audit-count">
        {audit.loading ? 'Loading…' : audit.total !== undefined ? `${audit.total} event${audit.total === 1 ? '' : 's'}${audit.events.length ? ` — showing ${first}–${last}` : ''}` : ''}
      </div>
      <ErrorMessage error={audit.error} />
      {audit.notice ? <p className="notice">{audit.notice}</p> : null}
      {audit.loading && audit.events.length === 0 ? <Loading /> : null}
      {!audit.loading && audit.loaded && !audit.error && !audit.notice && audit.events.length === 0 ? <Empty>No audit events match.</Empty> : null}
      {audit.events.length > 0 ? (
        <div className="table-scroll">
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
              {audit.events.map((e) => {
                const w = describeEvent(e, audit.names);
                return (
                  <tr key={e.id} className={w.failure ? 'denied' : undefined}>
                    <td>{w.when}</td>
                    <td>{w.who}</td>
                    <td>{w.action}</td>
                    <td>{w.what || <span className="absent">—</span>}</td>
                    <td>
                      {w.failure ? <strong className="denied-label">{w.outcome}</strong> : w.outcome}
                      {w.reason ? <span className="outcome-desc"> — {w.reason}</span> : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {pages !== undefined && pages > 1 ? (
        <nav className="pager" aria-label="Audit pages">
          <button type="button" className="secondary" disabled={audit.page === 0 || audit.loading} onClick={() => void audit.search(undefined, audit.page - 1)}>
            Previous
          </button>
          <span>
            Page {audit.page + 1} of {pages}
          </span>
          <button type="button" className="secondary" disabled={audit.page + 1 >= pages || audit.loading} onClick={() => void audit.search(undefined, audit.page + 1)}>
            Next
          </button>
        </nav>
      ) : null}
    </main>
  );
}
