// The nesting check every JSON body and imported file passes before it is parsed: held against the
// depth of the parsed value on generated JSON whose strings are full of quotes, backslashes and
// brackets, and on the broken texts a client can send.
import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan } from '../../shared/json-depth.ts';
import { seededRandom, type Random } from '../fuzz/generators.ts';

/** Depth of a parsed value: arrays and objects count one level each (a scalar is 0). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      max = Math.max(max, d + 1);
      for (const child of Object.values(v)) stack.push([child, d + 1]);
    }
  }
  return max;
}

const NASTY = ['"', '\\', '\\"', '\\\\', '[', ']', '{', '}', '\\u0022', 'é', '\u2028', 'x', ' ', '"]', '\\\\"', '{"a":['];

function nastyString(r: Random): string {
  let s = '';
  const n = r.int(6);
  for (let i = 0; i < n; i++) s += r.pick(NASTY);
  return s;
}

/** A value nesting at most `depth` levels: 30% leaves (strings, numbers, nulls), 35% arrays, 35% objects. */
function value(r: Random, depth: number): unknown {
  const pick = r.int(20);
  if (depth <= 0 || pick < 6) {
    return pick < 4 ? nastyString(r) : pick < 5 ? r.int(100) : null;
  }
  const n = 1 + r.int(3);
  if (pick < 13) return Array.from({ length: n }, () => value(r, depth - 1));
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${nastyString(r)}${i}`, value(r, depth - 1)]));
}

describe('jsonNestsDeeperThan', () => {
  it('agrees with the depth of the parsed value, whatever the strings hold', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = seededRandom(seed);
      const text = JSON.stringify(value(r, 1 + r.int(8)));
      const depth = depthOf(JSON.parse(text));
      for (const max of [Math.max(0, depth - 1), depth, depth + 1]) {
        expect(jsonNestsDeeperThan(text, max), `seed ${seed}, max ${max}: ${text}`).toBe(depth > max);
      }
    }
  });

  it('counts no bracket inside a string, however it is escaped', () => {
    expect(jsonNestsDeeperThan('["[[[[", "\\\\", "\\"[[[", "\\\\\\"[["]', 1)).toBe(false);
    expect(jsonNestsDeeperThan('{"a\\\\":[[1]]}', 2)).toBe(true);
    expect(jsonNestsDeeperThan('{"a\\\\":[[1]]}', 3)).toBe(false);
    // A quote preceded by an escaped backslash closes its string: what follows counts.
    expect(jsonNestsDeeperThan('["\\\\", [[]]]', 2)).toBe(true);
  });

  it('stops at a nesting far past the limit, and leaves broken text to the parser', () => {
    expect(jsonNestsDeeperThan('['.repeat(100_000), 100)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a": "${'['.repeat(500)}`, 100)).toBe(false); // unterminated string
    expect(jsonNestsDeeperThan('{{{', 2)).toBe(true); // not JSON, still deep
    expect(jsonNestsDeeperThan('"\\', 0)).toBe(false);
    expect(jsonNestsDeeperThan('', 0)).toBe(false);
  });
});
