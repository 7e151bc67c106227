// Policy review and "view as": the effective policy of a membership in words, its warnings, and what
// that role can see (counts by type, computed by the host with the same SQL as enforcement). Read-only.
import { useEffect, useId } from 'react';
import { nameReferences } from '../../api/names.ts';
import { Empty, ErrorMessage, Loading } from '../../components/common.tsx';
import { useApp } from '../../context.ts';

/** Policy review in words: the effective policy after substitution, with the records it names by name. */
export function ReviewTab({ membershipId, onChoose, onViewAs }: { membershipId?: string; onChoose(id: string): void; onViewAs(id: string): void }) {
  const admin = useApp('admin');
  const selectId = useId();
  const loadReview = admin.loadReview;
  useEffect(() => {
    if (membershipId) void loadReview(membershipId);
  }, [membershipId, loadReview]);
  const review = admin.review;
  return (
    <div className="panel">
      <div className="field inline">
        <label htmlFor={selectId}>Person</label>
        <select id={selectId} value={membershipId ?? ''} onChange={(e) => onChoose(e.target.value)}>
          <option value="">Choose a membership…</option>
          {admin.memberships.map((m) => (
            <option key={m.id} value={m.id}>
              {m.profile?.display ?? m.profile?.reference}
            </option>
          ))}
        </select>
      </div>
      {!membershipId ? <Empty>Choose a membership to see its effective policy and what it can see.</Empty> : null}
      {admin.reviewing ? <Loading label="Reviewing policy…" /> : null}
      <ErrorMessage title="Review unavailable" error={admin.reviewError} />
      {review ? (
        <div className="review" data-testid="policy-review">
          <div className="actions">
            <button type="button" className="secondary" onClick={() => membershipId && onViewAs(membershipId)}>
              View the app as this person (read-only)
            </button>
          </div>
          <h3>Warnings</h3>
          {review.warnings.length ? (
            <ul className="warnings">
              {review.warnings.map((w, i) => (
                <li key={i}>
                  {nameReferences(w.message, admin.names)}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No warnings.</Empty>
          )}
          {review.lines?.length ? (
            <>
              <h3>The policy in words</h3>
              <ul>
                {review.lines.map((l, i) => (
                  <li key={i}>{nameReferences(l, admin.names)}</li>
                ))}
              </ul>
            </>
          ) : null}
          {review.counts?.length ? (
            <>
              <h3>What this role can see</h3>
              <table className="data compact" aria-label="Visible resources by type">
                <thead>
                  <tr>
                    <th scope="col">Type</th>
                    <th scope="col">Visible</th>
                  </tr>
                </thead>
                <tbody>
                  {review.counts.map((c) => (
                    <tr key={c.resourceType}>
                      <td>{c.resourceType}</td>
                      <td>{c.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
