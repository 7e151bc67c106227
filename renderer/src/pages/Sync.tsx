// The sync panel: online or offline, last sync, pending changes (the outbox) and conflicts side by side.
import { formatDateTime } from '@medplum/core';
import { useEffect } from 'react';
import { Empty, ErrorMessage, Loading } from '../components/common.tsx';
import { useApp } from '../context.ts';

export function SyncPage() {
  const sync = useApp('sync');
  const load = sync.load;
  useEffect(() => {
    void load();
  }, [load]);
  const s = sync.status;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Sync</h1>
        <button type="button" className="secondary" onClick={() => void sync.load()} disabled={sync.loading}>
          Refresh
        </button>
      </div>
      {sync.loading && !s ? <Loading /> : null}
      <ErrorMessage error={sync.error} />
      {sync.unavailable ? <p className="notice">Sync is not set up on this computer yet: every change stays on this device.</p> : null}
      {sync.progress ? (
        <div className="progress-row">
          <label htmlFor="sync-progress">{sync.progress.phase}</label>
          <progress id="sync-progress" max={sync.progress.total ?? 1} value={sync.progress.done} />
        </div>
      ) : null}
      {s ? (
        <>
          <div className="panel status-row">
            <span className={s.online ? 'pill online' : 'pill offline'}>{s.online ? 'Online' : 'Offline'}</span>
            <span>Last sync: {s.lastSync ? formatDateTime(s.lastSync) : 'never'}</span>
            <span>{s.pending.length} pending change{s.pending.length === 1 ? '' : 's'}</span>
            <span>{s.conflicts.length} conflict{s.conflicts.length === 1 ? '' : 's'}</span>
          </div>
          <section className="panel" aria-labelledby="outbox-title">
            <h2 id="outbox-title">Outbox</h2>
            {s.pending.length === 0 ? (
              <Empty>No changes waiting.</Empty>
            ) : (
              <table className="data" aria-label="Pending changes">
                <thead>
                  <tr>
                    <th scope="col">Change</th>
                    <th scope="col">Resource</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {s.pending.map((p) => (
                    <tr key={p.id}>
                      <td>{p.operation}</td>
                      <td>
                        {p.resourceType}/{p.resourceId}
                      </td>
                      <td>{formatDateTime(p.changedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          {s.conflicts.map((c) => (
            <section key={c.id} className="panel conflict" aria-label={`Conflict on ${c.resourceType}/${c.resourceId}`}>
              <h2>
                Conflict: {c.resourceType}/{c.resourceId}
              </h2>
              {c.message ? <p>{c.message}</p> : null}
              <div className="side-by-side">
                <div>
                  <h3>This device</h3>
                  <pre className="code">{JSON.stringify(c.local, null, 2)}</pre>
                </div>
                <div>
                  <h3>Server</h3>
                  <pre className="code">{JSON.stringify(c.remote, null, 2)}</pre>
                </div>
              </div>
              <div className="actions">
                <button type="button" onClick={() => void sync.resolve(c.id, 'local')}>
                  Keep this device's version
                </button>
                <button type="button" className="secondary" onClick={() => void sync.resolve(c.id, 'remote')}>
                  Keep the server's version
                </button>
              </div>
            </section>
          ))}
        </>
      ) : null}
    </main>
  );
}
