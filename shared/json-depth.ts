// How deep a JSON text nests, read from the text itself before it is parsed: JSON.parse copes with a
// 10,000-deep array, but everything that walks the parsed value afterwards (validation, reference
// rewriting, structuredClone, JSON.stringify) recurses and would overflow the stack. One pass over the
// characters, skipping strings; the text need not be valid JSON (the parser says what else is wrong).

/** The character codes (and UTF-8 bytes) that delimit JSON strings, objects and arrays. */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;

/** Whether arrays and objects in `text` nest deeper than `max`. */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        i++;
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) {
        return true;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
