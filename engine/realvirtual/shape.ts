import { SignalValue } from './values';

/**
 * A fast path for the frames a peer sends most: `data` (or `snapshot`) messages with the
 * same signal names in the same order as its previous ones (realvirtual sends its whole
 * signal list every cycle). Knowing the names, one pass over the text checks each name
 * where it must stand and reads each value, without building the generic object that
 * JSON.parse builds and without listing its keys (both cost more than the pass, from a
 * few hundred signals per message on).
 *
 * It accepts a strict subset of JSON: an object with exactly the members "type" (the
 * string "data" or "snapshot") and "signals", whose members are the expected names with
 * true, false, a finite number or a string without escapes. Anything else (another name,
 * order or member, an escape, null, an object, a syntax error) returns null, and the
 * caller parses the frame the general way, which reports what is wrong with it.
 */

/** Messages from this many signals on are worth reading by their shape. */
export const SHAPE_MIN_SIGNALS = 256;

/** True when `name` appears verbatim between quotes in JSON (no character that needs an escape). */
export function isPlainName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92) return false;
  }
  return true;
}

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
  return i;
}

/**
 * Reads the members of the `signals` object that starts at text[start] ("{") into
 * `values` (aligned with `shape`). Returns the index after its "}", or -1.
 */
function readSignals(text: string, start: number, shape: readonly string[], values: SignalValue[]): number {
  let i = skipSpace(text, start + 1);
  const count = shape.length;
  if (count === 0) return text.charCodeAt(i) === 125 ? i + 1 : -1;
  for (let j = 0; j < count; j++) {
    const name = shape[j];
    if (text.charCodeAt(i) !== 34 || !text.startsWith(name, i + 1)) return -1;
    i += name.length + 1;
    if (text.charCodeAt(i) !== 34) return -1;
    i = skipSpace(text, i + 1);
    if (text.charCodeAt(i) !== 58) return -1;
    i = skipSpace(text, i + 1);
    let c = text.charCodeAt(i);
    let value: SignalValue;
    if (c === 116) {
      if (!text.startsWith('true', i)) return -1;
      value = true;
      i += 4;
    } else if (c === 102) {
      if (!text.startsWith('false', i)) return -1;
      value = false;
      i += 5;
    } else if (c === 34) {
      const from = ++i;
      for (;;) {
        c = text.charCodeAt(i);
        if (c === 34) break;
        // An escape, a control character or the end of the text (NaN).
        if (c === 92 || c < 32 || c !== c) return -1;
        i++;
      }
      value = text.slice(from, i);
      i++;
    } else {
      // A JSON number. Up to 15 significant digits and 22 decimals, mantissa / 10^decimals
      // is one correctly rounded division of two exact doubles: the value JSON.parse reads.
      const from = i;
      let negative = false;
      let mantissa = 0;
      let digits = 0;
      let decimals = 0;
      let exponent = false;
      if (c === 45) {
        negative = true;
        c = text.charCodeAt(++i);
      }
      if (c === 48) {
        c = text.charCodeAt(++i);
      } else if (c >= 49 && c <= 57) {
        do {
          mantissa = mantissa * 10 + (c - 48);
          digits++;
          c = text.charCodeAt(++i);
        } while (c >= 48 && c <= 57);
      } else {
        return -1;
      }
      if (c === 46) {
        c = text.charCodeAt(++i);
        if (!(c >= 48 && c <= 57)) return -1;
        do {
          mantissa = mantissa * 10 + (c - 48);
          if (mantissa !== 0) digits++;
          decimals++;
          c = text.charCodeAt(++i);
        } while (c >= 48 && c <= 57);
      }
      if (c === 101 || c === 69) {
        exponent = true;
        c = text.charCodeAt(++i);
        if (c === 43 || c === 45) c = text.charCodeAt(++i);
        if (!(c >= 48 && c <= 57)) return -1;
        do c = text.charCodeAt(++i);
        while (c >= 48 && c <= 57);
      }
      if (!exponent && digits <= 15 && decimals <= 22) {
        value = decimals === 0 ? mantissa : mantissa / POW10[decimals];
        if (negative) value = -value;
      } else {
        value = Number(text.slice(from, i));
        if (!Number.isFinite(value)) return -1;
      }
    }
    values[j] = value;
    i = skipSpace(text, i);
    c = text.charCodeAt(i);
    if (j + 1 < count) {
      if (c !== 44) return -1;
      i = skipSpace(text, i + 1);
    } else if (c !== 125) {
      return -1;
    }
  }
  return i + 1;
}

/**
 * Reads a frame whose signals are `shape`, in that order, into `values`. Returns the
 * message type, or null when the frame is anything else (see above).
 */
export function readShapedFrame(text: string, shape: readonly string[], values: SignalValue[]): 'data' | 'snapshot' | null {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123) return null;
  let type: 'data' | 'snapshot' | null = null;
  let signals = false;
  i = skipSpace(text, i + 1);
  for (;;) {
    if (text.charCodeAt(i) !== 34) return null;
    if (text.startsWith('type"', i + 1) && type === null) {
      i = skipSpace(text, i + 6);
      if (text.charCodeAt(i) !== 58) return null;
      i = skipSpace(text, i + 1);
      if (text.startsWith('"data"', i)) {
        type = 'data';
        i += 6;
      } else if (text.startsWith('"snapshot"', i)) {
        type = 'snapshot';
        i += 10;
      } else {
        return null;
      }
    } else if (text.startsWith('signals"', i + 1) && !signals) {
      i = skipSpace(text, i + 9);
      if (text.charCodeAt(i) !== 58) return null;
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) !== 123) return null;
      i = readSignals(text, i, shape, values);
      if (i < 0) return null;
      signals = true;
    } else {
      return null;
    }
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 125) break;
    if (c !== 44) return null;
    i = skipSpace(text, i + 1);
  }
  if (skipSpace(text, i + 1) !== text.length || !signals || type === null) return null;
  return type;
}
