/** Making peer-chosen text safe to show: escaped, clipped, and sharing no memory with its frame. */

/** C0 and C1 control characters (ESC included), DEL, and the Unicode line and paragraph separators. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeCharacter(character: string): string {
  switch (character) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** Every control character of a text escaped (see printable), nothing clipped. */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, escapeCharacter);
}

/**
 * A peer-chosen text as it may appear in a log line or a node status: every control
 * character escaped (a newline cannot start a forged line, ESC cannot colour the
 * terminal) and at most `max` characters kept (a peer may send megabytes).
 */
export function printable(text: string, max = 500): string {
  if (text.length <= max) return escapeUnprintable(text);
  // A copy: a slice would keep the whole text (megabytes, maybe) alive in every message built from it.
  const head = escapeUnprintable(flatCopy(text.slice(0, max)));
  return `${head}… (${text.length} characters)`;
}

/** Keeps one log line readable and single: printable() of the whole line. */
export function clip(text: string, max = 500): string {
  return printable(text, max);
}

/**
 * A copy of a string that shares no memory with the string it came from: `slice` and
 * concatenation may keep a reference to the whole original (a frame of megabytes) for a
 * few characters. A round trip through a Buffer always builds a new string.
 */
export function flatCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
