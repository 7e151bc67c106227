// One sync conflict side by side: each field with the base (when the host kept it), this computer's
// version and the server's, differing fields highlighted; keep mine, keep theirs, or merge choosing per field.
import { formatDateTime } from '@medplum/core';
import { useEffect, useId, useRef, useState } from 'react';
import type { FieldChoices, Keep, SyncConflict } from '../stores/sync.ts';
import { ErrorMessage } from './common.tsx';
import { canMerge, conflictReasonText, conflictRows, fieldLabel } from './sync-view.ts';

interface Props {
  conflict: SyncConflict;
  busy: boolean;
  error?: string;
  onResolve(keep: Keep, fields?: FieldChoices): void;
}

function Cell({ value, deleted }: { value?: string; deleted: boolean }) {
  if (deleted) return <span className="absent">deleted</span>;
  if (value === undefined || value === '') return <span className="absent">—</span>;
  return <>{value}</>;
}

export function ConflictView({ conflict, busy, error, onResolve }: Props) {
  const titleId = useId();
  const rows = conflictRows(conflict);
  const mergeable = canMerge(conflict);
  const [choices, setChoices] = useState<FieldChoices>(() => Object.fromEntries(conflict.fields.map((f) => [f, 'local' as const])));
  const [merging, setMerging] = useState(false);
  const tableRef = useRef<HTMLTableElement>(null);
  // The button pressed disappears: keyboard focus goes to the first choice instead of being lost.
  useEffect(() => {
    if (merging) tableRef.current?.querySelector<HTMLInputElement>('input[type=radio]:checked')?.focus();
  }, [merging]);
  const label = `${conflict.resourceType}/${conflict.resourceId}`;
  const hasBase = Boolean(conflict.base);
  return (
    <section className="panel conflict" aria-labelledby={titleId} data-testid="sync-conflict">
      <h3 id={titleId}>
        Conflict: {conflict.resourceType} <code>{conflict.resourceId}</code>
      </h3>
      <p>
        {conflictReasonText(conflict.reason)}
        {conflict.createdAt ? <span className="muted"> Found {formatDateTime(conflict.createdAt)}.</span> : null}
      </p>
      <div className="table-scroll">
        <table ref={tableRef} className="data conflict-table" aria-label={`Versions of ${label}`}>
          <thead>
            <tr>
              <th scope="col">Field</th>
              {hasBase ? <th scope="col">Before both changes</th> : null}
              <th scope="col">This computer (mine)</th>
              <th scope="col">Server (theirs)</th>
              {merging ? <th scope="col">Keep</th> : null}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.path} className={r.differs ? 'differs' : undefined}>
                <th scope="row">
                  {fieldLabel(r.path)}
                  {r.differs ? <span className="differs-mark"> (differs)</span> : null}
                </th>
                {hasBase ? (
                  <td>
                    <Cell value={r.base} deleted={false} />
                  </td>
                ) : null}
                <td className={r.differs ? 'local' : undefined}>
                  <Cell value={r.local} deleted={!conflict.local} />
                </td>
                <td className={r.differs ? 'remote' : undefined}>
                  <Cell value={r.remote} deleted={!conflict.remote} />
                </td>
                {merging ? (
                  <td>
                    {r.differs ? (
                      <fieldset className="field-choice">
                        <legend className="visually-hidden">Keep which {fieldLabel(r.path)}</legend>
                        {(['local', 'remote'] as const).map((side) => (
                          <label key={side}>
                            <input
                              type="radio"
                              name={`${conflict.id}-${r.path}`}
                              value={side}
                              checked={choices[r.path] === side}
                              onChange={() => setChoices({ ...choices, [r.path]: side })}
                            />
                            {side === 'local' ? ' Mine' : ' Theirs'}
                          </label>
                        ))}
                      </fieldset>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorMessage title="Not resolved" error={error} />
      <div className="actions">
        {merging ? (
          <>
            <button type="button" disabled={busy} onClick={() => onResolve('merge', choices)}>
              {busy ? 'Resolving…' : 'Save merged version'}
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setMerging(false)}>
              Cancel merge
            </button>
          </>
        ) : (
          <>
            <button type="button" disabled={busy} onClick={() => onResolve('local')}>
              {conflict.local ? 'Keep mine' : 'Keep mine (delete)'}
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => onResolve('remote')}>
              {conflict.remote ? 'Keep theirs' : 'Keep theirs (delete)'}
            </button>
            {mergeable ? (
              <button type="button" className="secondary" disabled={busy} onClick={() => setMerging(true)}>
                Merge by field…
              </button>
            ) : null}
          </>
        )}
      </div>
    </section>
  );
}
