// Server-assigned ids: UUIDv7 (time first, then 74 random bits), unique, and ordered by creation time
// across milliseconds, which is what keeps SQLite's id-keyed B-trees appending during an import.
import { describe, expect, it } from 'vitest';
import { newResourceId } from '../../electron/host/store/ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newResourceId', () => {
  it('is an RFC 9562 version 7 UUID whose first 48 bits are the millisecond timestamp', () => {
    const at = Date.UTC(2026, 10, 27, 18, 30, 0, 123);
    const id = newResourceId(at);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by creation time across milliseconds, as strings', () => {
    const ids = [0, 1, 2, 1_000, 86_400_000].map((offset) => newResourceId(1_700_000_000_000 + offset));
    expect([...ids].sort()).toEqual(ids);
  });

  it('never repeats within one millisecond (the random part differs)', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 20_000 }, () => newResourceId(at)));
    expect(ids.size).toBe(20_000);
    for (const id of ids) {
      expect(id).toMatch(V7);
    }
  });
});
