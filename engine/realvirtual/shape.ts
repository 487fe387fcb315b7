import { DATA_HEAD, FALSE, TRUE } from './json-bytes';
import { SignalValue } from './values';

/**
 * A fast path for the frames a peer sends most: `data` (or `snapshot`) messages with the
 * same signal names in the same order as its previous ones (realvirtual sends its whole
 * signal list every cycle). Knowing the names, one pass over the frame's bytes checks each
 * name where it must stand and reads each value, without decoding the frame to a string,
 * without building the generic object that JSON.parse builds and without listing its keys.
 *
 * It accepts a strict subset of JSON: an object with exactly the members "type" (the
 * string "data" or "snapshot") and "signals", whose members are the expected names, each
 * spelled as JSON.stringify spells it, with true, false, a finite number or a string
 * without escapes. Anything else (another name, order, spelling or member, an escape in a
 * value, null, an object, a syntax error) gives null, and the caller parses the frame the
 * general way, which reports what is wrong with it. The frame must be valid UTF-8 (the
 * WebSocket layer checks text frames).
 */

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

const TYPE_KEY = Buffer.from('"type"');
const SIGNALS_KEY = Buffer.from('"signals"');
const DATA = Buffer.from('"data"');
const SNAPSHOT = Buffer.from('"snapshot"');

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

function skipSpace(bytes: Uint8Array, i: number): number {
  let c = bytes[i];
  while (c === 32 || c === 10 || c === 13 || c === 9) c = bytes[++i];
  return i;
}

/** Whether `bytes` holds `expected` from `at` on. */
function matches(bytes: Uint8Array, at: number, expected: Uint8Array, from = 0, to = expected.length): boolean {
  if (at + (to - from) > bytes.length) return false;
  for (let k = from; k < to; k++) if (bytes[at++] !== expected[k]) return false;
  return true;
}

/** Reads frames whose signals are `names`, in that order (see above). */
export class ShapeReader {
  /** Every name as JSON spells it, quotes included, one after the other in UTF-8. */
  private readonly quoted: Buffer;
  /** Where each name's spelling ends in `quoted` (it starts where the one before ends). */
  private readonly ends: Uint32Array;

  constructor(readonly names: readonly string[]) {
    const spelled = names.map((name) => JSON.stringify(name));
    this.quoted = Buffer.from(spelled.join(''));
    this.ends = new Uint32Array(names.length);
    let end = 0;
    for (let j = 0; j < spelled.length; j++) this.ends[j] = end += Buffer.byteLength(spelled[j]);
  }

  /**
   * Reads `frame` into `values` (aligned with `names`). Returns the message type, or null
   * when the frame is anything else (see above); `values` may then hold some of its values.
   */
  read(frame: Buffer, values: SignalValue[]): 'data' | 'snapshot' | null {
    // What realvirtual sends, byte for byte, checked in one go; else member by member.
    if (matches(frame, 0, DATA_HEAD) && this.readSignals(frame, DATA_HEAD.length - 1, values) === frame.length - 1 && frame[frame.length - 1] === CLOSE) return 'data';
    let i = skipSpace(frame, 0);
    if (frame[i] !== OPEN) return null;
    let type: 'data' | 'snapshot' | null = null;
    let signals = false;
    i = skipSpace(frame, i + 1);
    for (;;) {
      if (type === null && matches(frame, i, TYPE_KEY)) {
        i = skipSpace(frame, i + TYPE_KEY.length);
        if (frame[i] !== COLON) return null;
        i = skipSpace(frame, i + 1);
        if (matches(frame, i, DATA)) {
          type = 'data';
          i += DATA.length;
        } else if (matches(frame, i, SNAPSHOT)) {
          type = 'snapshot';
          i += SNAPSHOT.length;
        } else {
          return null;
        }
      } else if (!signals && matches(frame, i, SIGNALS_KEY)) {
        i = skipSpace(frame, i + SIGNALS_KEY.length);
        if (frame[i] !== COLON) return null;
        i = skipSpace(frame, i + 1);
        if (frame[i] !== OPEN) return null;
        i = this.readSignals(frame, i, values);
        if (i < 0) return null;
        signals = true;
      } else {
        return null;
      }
      i = skipSpace(frame, i);
      const c = frame[i];
      if (c === CLOSE) break;
      if (c !== COMMA) return null;
      i = skipSpace(frame, i + 1);
    }
    if (skipSpace(frame, i + 1) !== frame.length || !signals || type === null) return null;
    return type;
  }

  /** Reads the members of the `signals` object that starts at frame[start] ("{"). Returns the index after its "}", or -1. */
  private readSignals(frame: Buffer, start: number, values: SignalValue[]): number {
    let i = skipSpace(frame, start + 1);
    const count = this.names.length;
    if (count === 0) return frame[i] === CLOSE ? i + 1 : -1;
    const quoted = this.quoted;
    const ends = this.ends;
    const length = frame.length;
    let k = 0;
    for (let j = 0; j < count; j++) {
      const nameEnd = ends[j];
      if (i + nameEnd - k > length) return -1;
      // Eight bytes per step (one branch for eight), then the rest.
      for (; k + 8 <= nameEnd; k += 8, i += 8) {
        if (
          (frame[i] ^ quoted[k]) |
          (frame[i + 1] ^ quoted[k + 1]) |
          (frame[i + 2] ^ quoted[k + 2]) |
          (frame[i + 3] ^ quoted[k + 3]) |
          (frame[i + 4] ^ quoted[k + 4]) |
          (frame[i + 5] ^ quoted[k + 5]) |
          (frame[i + 6] ^ quoted[k + 6]) |
          (frame[i + 7] ^ quoted[k + 7])
        )
          return -1;
      }
      while (k < nameEnd) if (frame[i++] !== quoted[k++]) return -1;
      if (frame[i] !== COLON) {
        i = skipSpace(frame, i);
        if (frame[i] !== COLON) return -1;
      }
      i++;
      let c = frame[i];
      if (c <= 32) c = frame[(i = skipSpace(frame, i))];
      i = c === 116 || c === 102 || c === QUOTE ? readOther(frame, i, values, j) : readNumber(frame, i, values, j);
      if (i < 0) return -1;
      c = frame[i];
      if (j + 1 < count) {
        if (c !== COMMA) {
          i = skipSpace(frame, i);
          if (frame[i] !== COMMA) return -1;
        }
        c = frame[++i];
        if (c !== QUOTE) i = skipSpace(frame, i);
      } else if (c !== CLOSE) {
        i = skipSpace(frame, i);
        if (frame[i] !== CLOSE) return -1;
      }
    }
    return i + 1;
  }
}

/** Reads the value (true, false or a text) at frame[i] into values[j]. Returns the index after it, or -1. */
function readOther(frame: Buffer, i: number, values: SignalValue[], j: number): number {
  let c = frame[i];
  if (c === 116) {
    if (!matches(frame, i, TRUE)) return -1;
    values[j] = true;
    return i + 4;
  }
  if (c === 102) {
    if (!matches(frame, i, FALSE)) return -1;
    values[j] = false;
    return i + 5;
  }
  if (c !== QUOTE) return -1;
  const from = ++i;
  let ascii = true;
  for (;;) {
    c = frame[i];
    if (c === QUOTE) break;
    // An escape, a control character or the end of the frame (undefined).
    if (c === BACKSLASH || !(c >= 32)) return -1;
    if (c >= 128) ascii = false;
    i++;
  }
  // A new string either way: no slice of the frame stays alive in the table.
  values[j] = frame.toString(ascii ? 'latin1' : 'utf8', from, i);
  return i + 1;
}

/**
 * Reads the JSON number at frame[i] into values[j]. Returns the index after it, or -1.
 * Up to 15 significant digits and 22 decimals without an exponent, mantissa / 10^decimals
 * is one correctly rounded division of two exact doubles: the value JSON.parse reads.
 * Small enough for V8 to inline into the loop (the rest is in readOtherNumber).
 */
function readNumber(frame: Buffer, i: number, values: SignalValue[], j: number): number {
  const from = i;
  let c = frame[i];
  const negative = c === MINUS;
  if (negative) c = frame[++i];
  let mantissa = 0;
  let digits = 0;
  let decimals = 0;
  if (c === ZERO) {
    c = frame[++i];
  } else if (c > ZERO && c <= NINE) {
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      c = frame[++i];
    } while (c >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  if (c === DOT) {
    c = frame[++i];
    if (!(c >= ZERO && c <= NINE)) return -1;
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      if (mantissa !== 0) digits++;
      decimals++;
      c = frame[++i];
    } while (c >= ZERO && c <= NINE);
  }
  if (c === 101 || c === 69 || digits > 15 || decimals > 22) return readOtherNumber(frame, from, i, values, j);
  const value = decimals === 0 ? mantissa : mantissa / POW10[decimals];
  values[j] = negative ? -value : value;
  return i;
}

/** A number readNumber leaves over: frame[from..i) read so far, an exponent may follow. Read by Number(). */
function readOtherNumber(frame: Buffer, from: number, i: number, values: SignalValue[], j: number): number {
  let c = frame[i];
  if (c === 101 || c === 69) {
    c = frame[++i];
    if (c === 43 || c === MINUS) c = frame[++i];
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = frame[++i];
    while (c >= ZERO && c <= NINE);
  }
  const value = Number(frame.toString('latin1', from, i));
  if (!Number.isFinite(value)) return -1;
  values[j] = value;
  return i;
}
