// The nesting check every JSON body and imported file passes before it is parsed: held against the
// depth of the parsed value on generated JSON whose strings are full of quotes, backslashes and
// brackets, and on the broken texts a client can send.
import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan } from '../../shared/json-depth.ts';

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

/** A small seeded generator (mulberry32), so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = ['"', '\\', '\\"', '\\\\', '[', ']', '{', '}', '\\u0022', 'é', '\u2028', 'x', ' ', '"]', '\\\\"', '{"a":['];

function nastyString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += NASTY[Math.floor(r() * NASTY.length)];
  return s;
}

function value(r: () => number, depth: number): unknown {
  const pick = r();
  if (depth <= 0 || pick < 0.3) {
    return pick < 0.2 ? nastyString(r) : pick < 0.25 ? Math.floor(r() * 100) : null;
  }
  const n = 1 + Math.floor(r() * 3);
  if (pick < 0.65) return Array.from({ length: n }, () => value(r, depth - 1));
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${nastyString(r)}${i}`, value(r, depth - 1)]));
}

describe('jsonNestsDeeperThan', () => {
  it('agrees with the depth of the parsed value, whatever the strings hold', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = random(seed);
      const text = JSON.stringify(value(r, 1 + Math.floor(r() * 8)));
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
