// Text taken from a request or an error, made fit to store in a FHIR string (an AuditEvent's
// outcomeDesc, a display) or to print on a terminal: control characters and lone surrogates become
// visible `\uXXXX` escapes (FHIR strings refuse them, and a terminal would act on them), and the
// length is bounded. Pure: the renderer may use it too.

/** C0 controls (tab, CR and LF included: an audit line stays one line), DEL, C1 controls, lone surrogates. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeUnit(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character and lone surrogate escaped, cut to at most `max` UTF-16 units
 * (an ellipsis marks the cut; a surrogate pair is never split). Undefined when nothing visible is left:
 * FHIR refuses a string of whitespace only.
 */
export function safeText(text: string, max = 500): string | undefined {
  let out = text.replace(UNSAFE, escapeUnit);
  if (out.length > max) {
    let end = Math.max(0, max - 1);
    const code = out.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) {
      end--;
    }
    out = `${out.slice(0, end)}…`;
  }
  return /\S/.test(out) ? out : undefined;
}
