// The sync panel: online or offline, the last sync, a running sync's progress, "Sync now", changes
// waiting to be sent, changes the server held back (with the reason), conflicts side by side with
// keep mine / keep theirs / merge by field, and for project admins the remote server's configuration.
import { formatWhen } from '../components/clinical.ts';
import { useEffect, useState } from 'react';
import { Empty, ErrorMessage, Loading, Notice } from '../components/common.tsx';
import { ConflictView } from '../components/ConflictView.tsx';
import { RemoteForm } from '../components/RemoteForm.tsx';
import { heldStateText, operationText, progressText } from '../components/sync-view.ts';
import { useApp } from '../context.ts';
import { syncRunProblems, syncSummaryText, type SyncChange } from '../stores/sync.ts';

/** How often the page asks for the status while a sync runs (browser mode has no progress events). */
const POLL_MS = 600;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Rows shown before "Show all": a first sync can list the whole clinic. */
const FIRST_ROWS = 50;

function typeSummary(changes: SyncChange[]): string {
  const byType = new Map<string, number>();
  changes.forEach((c) => byType.set(c.resourceType, (byType.get(c.resourceType) ?? 0) + 1));
  return [...byType.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
}

function ChangesTable({ label, changes, total, withReason, names }: { label: string; changes: SyncChange[]; total: number; withReason?: boolean; names: Record<string, string> }) {
  const [all, setAll] = useState(false);
  const shown = all ? changes : changes.slice(0, FIRST_ROWS);
  return (
    <>
      {changes.length > FIRST_ROWS ? <p className="muted">By type: {typeSummary(changes)}.</p> : null}
      <table className="data" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Change</th>
            <th scope="col">Record</th>
            <th scope="col">Changed</th>
            {withReason ? <th scope="col">Status</th> : null}
            {withReason ? <th scope="col">Reason</th> : null}
          </tr>
        </thead>
        <tbody>
          {shown.map((c) => (
            <tr key={c.id} className={withReason ? 'held' : undefined}>
              <td>{operationText(c.operation)}</td>
              <td>{names[`${c.resourceType}/${c.resourceId}`] ?? `${c.resourceType} (not readable by your role)`}</td>
              <td>{c.changedAt ? formatWhen(c.changedAt) : '—'}</td>
              {withReason ? <td>{heldStateText(c)}</td> : null}
              {withReason ? <td>{c.reason ?? 'No reason given'}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        {shown.length < changes.length ? (
          <button type="button" className="secondary small" onClick={() => setAll(true)}>
            {changes.length === total ? `Show all ${total}` : `Show the first ${changes.length} of ${total}`}
          </button>
        ) : null}
        {total > changes.length ? <span className="muted">{`Showing ${shown.length} of ${total}.`}</span> : null}
      </div>
    </>
  );
}

export function SyncPage() {
  const sync = useApp('sync');
  const isAdmin = Boolean(useApp('session').me?.membership?.admin);
  const { load, status: s } = sync;
  const running = Boolean(s?.running || sync.starting);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => void load({ quiet: true }), POLL_MS);
    return () => clearInterval(timer);
  }, [running, load]);

  const progress = running ? (sync.progress ?? s?.progress) : undefined;
  const configured = Boolean(s?.remote);
  // One element, shown first while nothing is configured and after the lists once it is.
  const remoteForm = isAdmin && s ? <RemoteForm remote={s.remote} result={sync.remoteResult} onSave={sync.saveRemote} onRemove={sync.removeRemote} /> : null;
  return (
    <main className="page sync-page" aria-busy={sync.loading || running}>
      <div className="page-head">
        <h1>Sync</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void load()} disabled={sync.loading}>
            Refresh
          </button>
          <button type="button" onClick={() => void sync.run()} disabled={!configured || running} aria-describedby={configured ? undefined : 'sync-not-configured'}>
            {running ? 'Syncing…' : 'Sync now'}
          </button>
        </div>
      </div>
      {sync.loading && !s ? <Loading label="Loading sync status…" /> : null}
      <ErrorMessage error={sync.error} />
      {sync.unavailable ? (
        <p className="notice" id="sync-not-configured">
          Sync is not configured: this version of Outpost keeps every change on this computer.
        </p>
      ) : null}
      {s ? (
        <>
          <div className="panel status-row" role="group" aria-label="Sync status" data-testid="sync-status">
            <span className={!configured ? 'pill offline' : s.online ? 'pill online' : 'pill offline'} data-testid="sync-state">
              {!configured ? 'Not configured' : s.online ? 'Online' : 'Offline'}
            </span>
            <span>Last sync: {s.lastSync ? formatWhen(s.lastSync) : 'never'}</span>
            <span data-testid="pending-count">{plural(s.counts.pending, 'pending change')}</span>
            {s.counts.held ? <span>{plural(s.counts.held, 'held change')}</span> : null}
            <span>{plural(s.conflicts.length, 'conflict')}</span>
            {s.remote ? (
              <span className="muted">
                Server: {s.remote.baseUrl}
                {s.remote.auth === 'client-credentials' ? ` (client ${s.remote.clientId ?? ''})` : ''}
              </span>
            ) : null}
          </div>
          {!configured ? (
            <p className="notice" id="sync-not-configured" data-testid="sync-not-configured">
              Sync is not configured: changes stay on this computer
              {isAdmin ? '. Set up the remote server below to send them.' : ' until a project administrator sets up a remote server.'}
            </p>
          ) : null}
          {isAdmin && !configured ? remoteForm : null}
          <div className="progress-slot" aria-live="polite">
            {running ? (
              <div className="progress-row" data-testid="sync-progress">
                <label htmlFor="sync-progress">{progress ? progressText(progress) : 'Starting sync…'}</label>
                {progress?.total ? <progress id="sync-progress" max={progress.total} value={progress.done} /> : <progress id="sync-progress" />}
              </div>
            ) : sync.lastRun && syncRunProblems(sync.lastRun).length === 0 ? (
              <Notice tone="success">{syncSummaryText(sync.lastRun)}</Notice>
            ) : null}
          </div>
          <ErrorMessage title="Sync failed" error={sync.runError} />
          {!running && syncRunProblems(sync.lastRun).length ? (
            <ErrorMessage title={sync.lastRun?.failed === false ? 'Sync finished with problems' : 'Sync failed'} error={syncRunProblems(sync.lastRun).join(' ')} />
          ) : null}
          {sync.resolvedMessage ? <Notice tone="success">{sync.resolvedMessage}</Notice> : null}

          {s.conflicts.length ? (
            <section aria-labelledby="conflicts-title">
              <h2 id="conflicts-title">Conflicts ({s.conflicts.length})</h2>
              <p className="muted">Both this computer and the server changed these records. Choose what to keep; nothing is sent for them until you do.</p>
              {s.conflicts.map((c) => (
                <ConflictView key={c.id} conflict={c} busy={sync.resolving === c.id} error={sync.resolveErrors[c.id] || undefined} onResolve={(keep, fields) => void sync.resolve(c.id, keep, fields)} />
              ))}
            </section>
          ) : null}

          {s.held.length ? (
            <section className="panel" aria-labelledby="held-title">
              <h2 id="held-title">Held back by the server ({s.counts.held})</h2>
              <p className="muted">These changes were refused; they stay on this computer. Correct the record, or ask an administrator.</p>
              <ChangesTable label="Held changes" changes={s.held} total={s.counts.held} withReason names={sync.names} />
            </section>
          ) : null}

          <section className="panel" aria-labelledby="outbox-title">
            <h2 id="outbox-title">Waiting to be sent ({s.counts.pending})</h2>
            {s.pending.length === 0 ? (
              <Empty>No changes waiting: everything made here has been sent.</Empty>
            ) : (
              <ChangesTable label="Pending changes" changes={s.pending} total={s.counts.pending} names={sync.names} />
            )}
          </section>

          {isAdmin && configured ? remoteForm : null}
        </>
      ) : null}
    </main>
  );
}
