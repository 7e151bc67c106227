// The rows push sends next, on a real SQLite file: in the order of their first change, held, conflicting
// and backed-off rows left alone, and found by walking the outbox in that order (EXPLAIN QUERY PLAN)
// rather than by sorting every pending row for each batch: after a large import every push batch did that.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { DUE_ROWS_SQL, dueRows, syncMigrations } from '../../electron/host/sync/index.ts';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'outpost-outbox-due-'));
  store = createStore({ path: path.join(dir, 'outpost.db'), migrations: [...syncMigrations] });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = Date.parse('2026-12-07T12:00:00Z');

function fill(rows: number): void {
  const insert = store.db.prepare(
    "INSERT INTO sync_outbox (type, id, project, op, version, seq, changed_at, state, next_attempt_at) VALUES ('Observation', ?, 'p', 'create', 1, ?, 0, ?, ?)",
  );
  store.db.transaction(() => {
    for (let seq = 1; seq <= rows; seq++) {
      // Every 7th row is held, every 11th waits for a retry, every 13th is in conflict; the rest are due.
      const state = seq % 7 === 0 ? 'held' : seq % 13 === 0 ? 'conflict' : 'pending';
      insert.run(`o-${String(seq).padStart(6, '0')}`, seq, state, seq % 11 === 0 ? NOW + 60_000 : 0);
    }
  })();
}

describe('the rows push sends next', () => {
  it('are the due pending rows in the order of their first change, a batch at a time', () => {
    fill(3_000);
    const expected = Array.from({ length: 3_000 }, (_, i) => i + 1).filter((seq) => seq % 7 !== 0 && seq % 13 !== 0 && seq % 11 !== 0);
    const first = dueRows(store.db, NOW, 1_000);
    expect(first.map((r) => r.seq)).toEqual(expected.slice(0, 1_000));
    expect(first.every((r) => r.state === 'pending' && r.next_attempt_at <= NOW)).toBe(true);
    // A backed-off row is due once its time has come.
    expect(dueRows(store.db, NOW + 60_000, 5).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(dueRows(store.db, NOW + 60_000, 11).map((r) => r.seq)).toContain(11);
  });

  it('are found by walking the outbox in seq order, with no sort of every pending row', () => {
    fill(3_000);
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${DUE_ROWS_SQL}`).all(NOW, 1_000) as { detail: string }[]).map((r) => r.detail);
    expect(plan.join('\n')).toMatch(/sync_outbox USING INDEX sync_outbox_seq/);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
  });
});
