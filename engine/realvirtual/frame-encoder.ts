import { SignalValue } from './values';
import { DATA_HEAD, FALSE, TRUE } from './json-bytes';

/**
 * Encodes `data` and `snapshot` frames of signals in two lists straight into UTF-8 bytes,
 * the JSON of encodeSignals in meaning (JSON.parse of both gives the same object, keys in
 * the same order): no object, no string per value, no text to convert at the end.
 *
 * Most of the time of an encoding goes into numbers: String() of a fraction costs about
 * ten times what an integer does. A fraction with up to MAX_FRACTION_DIGITS decimals
 * (what measurements and set points mostly have) is written as two integers instead.
 */
export class SignalFrameEncoder {
  /** The names of the last frame by position, and their JSON with the colon as bytes. */
  private names: string[] = [];
  private keys: Uint8Array[] = [];

  encode(type: 'data' | 'snapshot', names: readonly string[], values: readonly SignalValue[]): Buffer {
    const out = scratch;
    out.reset();
    out.bytes(type === 'data' ? DATA_HEAD : SNAPSHOT_HEAD);
    for (let i = 0; i < names.length; i++) {
      if (i > 0) out.byte(COMMA);
      out.bytes(this.key(i, names[i]));
      const value = values[i];
      if (typeof value === 'number') out.number(value);
      else if (typeof value === 'boolean') out.bytes(value ? TRUE : FALSE);
      else out.string(value);
    }
    out.bytes(TAIL);
    return out.take();
  }

  /** `"name":` as bytes; the same names come in the same order frame after frame. */
  private key(index: number, name: string): Uint8Array {
    if (this.names[index] === name) return this.keys[index];
    const key = Buffer.from(`${jsonString(name)}:`);
    this.names[index] = name;
    this.keys[index] = key;
    return key;
  }
}

const COMMA = 0x2c;
const SNAPSHOT_HEAD = Buffer.from('{"type":"snapshot","signals":{');
const TAIL = Buffer.from('}}');
const NULL = Buffer.from('null');

/** Most decimals of a fraction written without String(); others take String(), which is exact for all. */
const MAX_FRACTION_DIGITS = 9;
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** Integer parts below this are written with 32-bit integer arithmetic. */
const INT_PART_LIMIT = 2 ** 31;
/** Room for any number as String() writes it ("-1.2345678901234567e-308" has 24 characters). */
const NUMBER_ROOM = 32;
/** A scratch buffer grown beyond this is handed out with its frame instead of being kept. */
const KEPT_SCRATCH_BYTES = 1 << 20;

/** A string as JSON: between quotes as it is when nothing in it needs an escape, else JSON.stringify. */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** The bytes of the frame being encoded; encodings run one at a time, so all encoders share it. */
class FrameBytes {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  reset(): void {
    this.length = 0;
  }

  /** The frame in a buffer of its own (ws may keep it queued while the next frame is encoded). */
  take(): Buffer {
    const length = this.length;
    this.length = 0;
    if (this.buffer.length > KEPT_SCRATCH_BYTES) {
      const frame = this.buffer.subarray(0, length);
      this.buffer = Buffer.allocUnsafe(64 * 1024);
      return frame;
    }
    const frame = Buffer.allocUnsafe(length);
    this.buffer.copy(frame, 0, 0, length);
    return frame;
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.room(1);
    this.buffer[this.length++] = value;
  }

  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Text of ASCII characters only (what String() gives for a number). */
  private ascii(text: string): void {
    this.room(text.length);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  string(text: string): void {
    this.room(text.length + 2);
    const buffer = this.buffer;
    let at = this.length;
    buffer[at++] = 0x22;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 32 || c === 34 || c === 92 || c > 126) {
        // Escapes, and UTF-8 of anything beyond ASCII: JSON.stringify and the Buffer's encoder.
        const json = JSON.stringify(text);
        this.room(3 * json.length);
        this.length += this.buffer.write(json, this.length, 'utf8');
        return;
      }
      buffer[at++] = c;
    }
    buffer[at++] = 0x22;
    this.length = at;
  }

  /** A number as JSON: what JSON.stringify writes in meaning (-0 as 0, and null for NaN and ±Infinity, as JSON.stringify). */
  number(value: number): void {
    this.room(NUMBER_ROOM);
    if (!Number.isFinite(value)) {
      this.bytes(NULL);
      return;
    }
    let x = value;
    if (x < 0) {
      this.buffer[this.length++] = 0x2d;
      x = -x;
    }
    if (x < INT_PART_LIMIT) {
      const whole = Math.floor(x);
      if (whole === x) {
        this.digits(whole, 0);
        return;
      }
      // The fewest decimals d with round(x·10^d) / 10^d === x: that decimal text parses back to x
      // (parsing and the division both round the same exact value to the nearest double).
      for (let d = 1; d <= MAX_FRACTION_DIGITS; d++) {
        const scale = POWERS_OF_TEN[d];
        const scaled = Math.round(x * scale);
        if (scaled / scale === x && scaled <= Number.MAX_SAFE_INTEGER) {
          this.digits(whole, 0);
          this.buffer[this.length++] = 0x2e;
          this.digits(scaled - whole * scale, d);
          return;
        }
      }
    }
    this.ascii(String(x));
  }

  /** A non-negative integer below 2^31 in decimal, with leading zeros up to `width` digits. */
  private digits(n: number, width: number): void {
    let count = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) count++;
    if (count < width) count = width;
    const buffer = this.buffer;
    let at = this.length + count;
    this.length = at;
    for (let i = 0; i < count; i++) {
      const next = (n / 10) | 0;
      buffer[--at] = 0x30 + n - 10 * next;
      n = next;
    }
  }
}

const scratch = new FrameBytes();
