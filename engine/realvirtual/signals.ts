import { SignalError } from '../errors';
import { flatCopy } from '../text';
import { checkSignalValue, coerceValue, defaultValue, describeValue, inferValueType, isExactValue, isSignalValue, isValueType, quotedName, SignalValue, UNEXPLAINED, ValueType } from './values';
import { SignalRecord } from './messages';
import { setOwn } from '../record';

/** Direction seen from our side: `write` = we send it, `read` = we receive it. */
export type Direction = 'write' | 'read';

export function isDirection(value: unknown): value is Direction {
  return value === 'write' || value === 'read';
}

/** realvirtual's type string for a signal: we write PLCOutput<T>, we read PLCInput<T>. */
export function realvirtualType(direction: Direction, valueType: ValueType): string {
  // One string per type for all signals (a concatenation would give each signal its own).
  return (direction === 'write' ? RV_OUTPUT : RV_INPUT)[valueType];
}

const RV_OUTPUT: Record<ValueType, string> = { Bool: 'PLCOutputBool', Int: 'PLCOutputInt', Float: 'PLCOutputFloat', Text: 'PLCOutputText' };
const RV_INPUT: Record<ValueType, string> = { Bool: 'PLCInputBool', Int: 'PLCInputInt', Float: 'PLCInputFloat', Text: 'PLCInputText' };

export interface Signal {
  readonly name: string;
  valueType: ValueType;
  direction: Direction;
  /** realvirtual's type string, e.g. "PLCOutputFloat". */
  rvType: string;
  value: SignalValue;
  /** Declared up front (or imported) rather than inferred from its first value. */
  declared: boolean;
  /**
   * The table's change sequence (SignalTable.changeSequence) when this signal was added,
   * or its value, type or direction last changed: a reader that remembers the sequence
   * it last saw finds what changed since by comparing one number per signal.
   */
  readonly changedAt: number;
}

export interface SignalDeclaration {
  name: string;
  type: ValueType;
  direction: Direction;
  value?: unknown;
}

/** The bounds of what peers and flows may store in a table (see EndpointOptions). */
export interface TableLimits {
  /** Most signals that writes, received values and imports may create (a user's declarations always fit). */
  maxSignals: number;
  /** Largest Text value, in UTF-8 bytes. */
  maxTextBytes: number;
  /** Longest signal name, in characters (UTF-16 code units). */
  maxNameLength: number;
  /** Budget of the whole table in estimated bytes (see signalBytes); a user's declarations always fit. */
  maxTableBytes: number;
}

/** Estimated bytes of one signal beside its name and text: its object, Map entry and caches. */
export const SIGNAL_OVERHEAD_BYTES = 160;

/** The bytes a signal is accounted with: two per character of its name and of a Text value, plus the overhead. */
export function signalBytes(name: string, value: SignalValue): number {
  return SIGNAL_OVERHEAD_BYTES + 2 * name.length + (typeof value === 'string' ? 2 * value.length : 0);
}

/** Strings shorter than this are always copied by slice(), never shared with the string they came from. */
const SHARING_MIN_LENGTH = 13;

/**
 * A Text value the table keeps: one read by the fast frame reader (shape.ts) is a slice
 * of the whole frame and would keep that frame alive as long as the value is stored.
 */
function ownText(text: string): string {
  return text.length < SHARING_MIN_LENGTH ? text : flatCopy(text);
}

/** A signal as the table stores it: always one of the two classes below (see newSignal). */
abstract class StoredSignal implements Signal {
  constructor(
    readonly name: string,
    public valueType: ValueType,
    public direction: Direction,
    public rvType: string,
    public value: SignalValue,
    public declared: boolean,
    public changedAt: number,
  ) {}
}

/** A signal of type Int or Float (an inferred Int may become a Float; it never holds anything but numbers). */
class NumberSignal extends StoredSignal {}

/** A signal of type Bool or Text. */
class OtherSignal extends StoredSignal {}

/**
 * Numbers get a class of their own so that V8 keeps their value field as a double that
 * is overwritten in place: storing a received float then links no new object into the
 * long-lived table. Measured with the signal monitor (10,000 signals at 100 frames/s in
 * Node-RED): with one shared shape, receiving took 90 ms of CPU a second, and up to
 * 190 ms while an editor watched (every store crossed the garbage collector's write
 * barrier while it marked); with this, 90 ms either way.
 */
function newSignal(name: string, valueType: ValueType, direction: Direction, value: SignalValue, declared: boolean, changedAt: number): StoredSignal {
  const SignalClass = valueType === 'Int' || valueType === 'Float' ? NumberSignal : OtherSignal;
  return new SignalClass(name, valueType, direction, realvirtualType(direction, valueType), value, declared, changedAt);
}

/**
 * The signals a peer's last message named, by position: peers send the same names in
 * the same order message after message, so a receiver finds each signal by comparing
 * one name instead of looking it up (see SignalTable.receiveExact).
 */
export interface NameCache {
  generation: number;
  names: string[];
  signals: Signal[];
}

export function newNameCache(): NameCache {
  return { generation: -1, names: [], signals: [] };
}

/** What SignalTable.writeExact returns for a value equal to the one the signal held. */
export const UNCHANGED: unique symbol = Symbol('unchanged');

/** What a write or a receive did to one signal. */
export interface SignalUpdate {
  signal: Signal;
  previous: SignalValue | undefined;
  changed: boolean;
}

/**
 * The last value of every signal, with its type and direction. Names live in a
 * Map, so no name can touch a prototype.
 */
export class SignalTable {
  private readonly entries = new Map<string, StoredSignal>();
  /** Changes whenever a signal object is replaced or removed, which invalidates every NameCache. */
  private generation = 0;
  /** Counts every change of a value, type or direction and every added, replaced or removed signal. */
  private sequence = 0;
  /** Counts every added, replaced or removed signal (not changes of values). */
  private layout = 0;
  /**
   * What writes, received values and imports may store: a peer that sends ever new
   * names, long names or large texts cannot grow memory without bound.
   */
  limits: TableLimits = { maxSignals: Infinity, maxTextBytes: Infinity, maxNameLength: Infinity, maxTableBytes: Infinity };
  /** The table's estimated size (signalBytes of every signal), kept up to date on every change. */
  private accounted = 0;

  /** Estimated bytes held by the table (see signalBytes). */
  get bytes(): number {
    return this.accounted;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Grows with every change in the table: a signal whose `changedAt` is greater than the
   * sequence read at some moment changed after it. Storing an equal value changes nothing.
   */
  get changeSequence(): number {
    return this.sequence;
  }

  /**
   * Grows whenever a signal is added, removed, or replaced by a new signal object (a
   * declaration): while it stays the same, the table holds the same signal objects.
   */
  get layoutVersion(): number {
    return this.layout;
  }

  get(name: string): Signal | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  [Symbol.iterator](): IterableIterator<Signal> {
    return this.entries.values();
  }

  /**
   * Adds or redefines a signal; its value is coerced to the type, or the type's default.
   * Names and Text values must be within the limits; an `imported` declaration (from a
   * peer's catalog) must also fit maxSignals and maxTableBytes, a user's always fits.
   */
  declare(declaration: SignalDeclaration, imported = false): Signal | SignalError {
    const { name, type, direction } = declaration;
    if (typeof name !== 'string') {
      const shown = typeof name === 'number' || typeof name === 'boolean' ? String(name) : '';
      return new SignalError('ERR_INVALID_FIELD', shown, `a signal name must be a string, got ${describeValue(name)}`);
    }
    if (!isValueType(type)) {
      return new SignalError('ERR_INVALID_FIELD', name, `signal ${quotedName(name)}: type must be Bool, Int, Float or Text, got ${describeValue(type)}`);
    }
    if (!isDirection(direction)) {
      return new SignalError('ERR_INVALID_FIELD', name, `signal ${quotedName(name)}: direction must be "write" or "read", got ${describeValue(direction)}`);
    }
    const existing = this.entries.get(name);
    if (existing === undefined) {
      const problem = this.nameProblem(name) ?? (imported && this.entries.size >= this.limits.maxSignals ? this.tooMany(name) : undefined);
      if (problem) return problem;
    }
    const given = declaration.value !== undefined && declaration.value !== '';
    let value: SignalValue = defaultValue(type);
    const initial = given ? declaration.value : existing?.value;
    if (initial !== undefined) {
      const coerced = coerceValue(name, initial, type);
      const problem = coerced instanceof SignalError ? coerced : typeof coerced === 'string' ? this.textProblem(name, coerced) : undefined;
      if (problem) {
        if (given) return problem;
      } else {
        value = coerced as SignalValue;
      }
    }
    if (typeof value === 'string' && value !== existing?.value) value = ownText(value);
    const growth = signalBytes(name, value) - (existing === undefined ? 0 : signalBytes(name, existing.value));
    if (imported && growth > 0 && this.accounted + growth > this.limits.maxTableBytes) return this.tableFull(name, growth);
    const signal = newSignal(name, type, direction, value, true, ++this.sequence);
    this.entries.set(name, signal);
    this.accounted += growth;
    this.generation++;
    this.layout++;
    return signal;
  }

  remove(name: string): boolean {
    this.generation++;
    const signal = this.entries.get(name);
    if (signal === undefined) return false;
    this.accounted -= signalBytes(name, signal.value);
    this.sequence++;
    this.layout++;
    return this.entries.delete(name);
  }

  clear(): void {
    this.generation++;
    if (this.entries.size > 0) {
      this.sequence++;
      this.layout++;
    }
    this.entries.clear();
    this.accounted = 0;
  }

  /** A local write: declares unknown signals by inference, coerces known ones to their type. */
  write(name: string, value: unknown): SignalUpdate | SignalError {
    return this.update(name, value, 'write', true);
  }

  /**
   * The fast path of write(), for a known signal we write and a value already of its
   * type: stores the value without allocating and returns the value it replaced, or
   * UNCHANGED. Returns undefined when write() must decide.
   * With a `cache`, `index` is the position of the name in its batch of writes (flows
   * write objects with the same names in the same order, as peers send them).
   */
  writeExact(name: string, value: unknown, cache?: NameCache, index = 0): SignalValue | typeof UNCHANGED | undefined {
    const signal = cache === undefined ? this.entries.get(name) : this.cachedSignal(name, cache, index);
    if (signal === undefined || signal.direction !== 'write' || !isExactValue(value, signal.valueType)) return undefined;
    const previous = signal.value;
    if (signal.valueType === 'Text') {
      const stored = this.storeText(signal, value as string);
      return stored === undefined ? undefined : stored ? previous : UNCHANGED;
    }
    // Stored also when equal, as write() does (0 and -0 are equal).
    signal.value = value as SignalValue;
    if (previous === value) return UNCHANGED;
    signal.changedAt = ++this.sequence;
    return previous;
  }

  /** The signal of `name` at `index` of a batch of names: by one comparison when it is where it was the last time. */
  private cachedSignal(name: string, cache: NameCache, index: number): StoredSignal | undefined {
    if (cache.generation !== this.generation) {
      cache.generation = this.generation;
      cache.names = [];
      cache.signals = [];
    }
    if (cache.names[index] === name) return cache.signals[index] as StoredSignal;
    const signal = this.entries.get(name);
    if (signal !== undefined) {
      cache.names[index] = name;
      cache.signals[index] = signal;
    }
    return signal;
  }

  /**
   * A value received from a peer. Returns undefined when the signal is one we write:
   * our value stays authoritative and is not overwritten (nor relayed) by a peer.
   * With `explain` false a rejection is the shared UNEXPLAINED error, built at no cost
   * (for the values of a message beyond those listed one by one).
   */
  receive(name: string, value: SignalValue, explain = true): SignalUpdate | SignalError | undefined {
    const signal = this.entries.get(name);
    if (signal !== undefined && signal.direction === 'write') return undefined;
    return this.update(name, value, 'read', explain);
  }

  /**
   * The fast path of receive(), for a known signal we read and a value already of its
   * type (what a peer almost always sends): stores the value and returns whether it
   * changed, without allocating. Returns undefined when receive() must decide.
   * With a `cache`, `index` is the position of the name in its message.
   */
  receiveExact(name: string, value: unknown, cache?: NameCache, index = 0): boolean | undefined {
    const signal = cache === undefined ? this.entries.get(name) : this.cachedSignal(name, cache, index);
    if (signal === undefined || signal.direction !== 'read' || !isExactValue(value, signal.valueType)) return undefined;
    if (signal.valueType === 'Text') return this.storeText(signal, value as string);
    // Stored also when equal, as receive() does (0 and -0 are equal).
    const previous = signal.value;
    signal.value = value as SignalValue;
    if (previous === value) return false;
    signal.changedAt = ++this.sequence;
    return true;
  }

  /**
   * Stores a new text in a Text signal within the limits: true when stored, false when
   * equal to the one it holds (kept: it is the table's own copy), undefined when a limit
   * is in the way (the slow path explains which).
   */
  private storeText(signal: StoredSignal, text: string): boolean | undefined {
    const previous = signal.value as string;
    if (text === previous) return false;
    const growth = 2 * (text.length - previous.length);
    if (!this.textFits(text) || (growth > 0 && this.accounted + growth > this.limits.maxTableBytes)) return undefined;
    this.accounted += growth;
    signal.value = ownText(text);
    signal.changedAt = ++this.sequence;
    return true;
  }

  private update(name: string, value: unknown, direction: Direction, explain: boolean): SignalUpdate | SignalError {
    let signal = this.entries.get(name);
    if (signal === undefined) {
      if (!explain && !this.fitsAsNew(name, value)) return UNEXPLAINED;
      const invalid = checkSignalValue(name, value) ?? this.nameProblem(name);
      if (invalid) return invalid;
      if (this.entries.size >= this.limits.maxSignals) return this.tooMany(name);
      const tooLarge = typeof value === 'string' ? this.textProblem(name, value) : undefined;
      if (tooLarge) return tooLarge;
      const bytes = signalBytes(name, value as SignalValue);
      if (this.accounted + bytes > this.limits.maxTableBytes) return this.tableFull(name, bytes);
      const valueType = inferValueType(value as SignalValue);
      const stored = typeof value === 'string' ? ownText(value) : (value as SignalValue);
      signal = newSignal(name, valueType, direction, stored, false, ++this.sequence);
      this.entries.set(name, signal);
      this.accounted += bytes;
      this.layout++;
      return { signal, previous: undefined, changed: true };
    }
    if (signal.direction !== direction && signal.declared) {
      if (!explain) return UNEXPLAINED;
      return new SignalError('ERR_DIRECTION', name, `signal ${quotedName(name)} is declared "${signal.direction}" (${signal.rvType}): it cannot be ${direction === 'write' ? 'written' : 'received'}`);
    }
    let retyped = false;
    if (!signal.declared && signal.valueType === 'Int' && typeof value === 'number' && !Number.isInteger(value)) {
      // JSON cannot tell 0.0 from 0: an inferred Int that receives a fraction was a Float all along.
      signal.valueType = 'Float';
      retyped = true;
    }
    const coerced = coerceValue(name, value, signal.valueType, explain);
    if (coerced instanceof SignalError) return coerced;
    let stored = coerced;
    if (typeof coerced === 'string' && coerced !== signal.value) {
      const growth = 2 * (coerced.length - (signal.value as string).length);
      const problem = !explain && !this.textFits(coerced) ? UNEXPLAINED : this.textProblem(name, coerced);
      if (problem) return problem;
      if (growth > 0 && this.accounted + growth > this.limits.maxTableBytes) return explain ? this.tableFull(name, growth) : UNEXPLAINED;
      this.accounted += growth;
      stored = ownText(coerced);
    }
    if (signal.direction !== direction) {
      // An inferred signal takes the direction of its latest accepted value.
      signal.direction = direction;
      retyped = true;
    }
    if (retyped) signal.rvType = realvirtualType(signal.direction, signal.valueType);
    const previous = signal.value;
    // An equal text keeps the table's own copy; numbers are stored also when equal (0 and -0).
    if (typeof stored !== 'string' || stored !== previous) signal.value = stored;
    const changed = retyped || previous !== stored;
    if (changed) signal.changedAt = ++this.sequence;
    return { signal, previous, changed };
  }

  /** The checks of a new signal in update(), without building an error. */
  private fitsAsNew(name: string, value: unknown): boolean {
    return (
      isSignalValue(value) &&
      name.length <= this.limits.maxNameLength &&
      this.entries.size < this.limits.maxSignals &&
      (typeof value !== 'string' || this.textFits(value)) &&
      this.accounted + signalBytes(name, value) <= this.limits.maxTableBytes
    );
  }

  /** Whether a text is at most maxTextBytes in UTF-8 (1 to 3 bytes per UTF-16 unit: measured only in between). */
  private textFits(text: string): boolean {
    const max = this.limits.maxTextBytes;
    if (text.length * 3 <= max) return true;
    return text.length <= max && Buffer.byteLength(text, 'utf8') <= max;
  }

  private textProblem(name: string, text: string): SignalError | undefined {
    if (this.textFits(text)) return undefined;
    return new SignalError(
      'ERR_VALUE_TOO_LARGE',
      name,
      `signal ${quotedName(name)}: a text of ${Buffer.byteLength(text, 'utf8')} bytes is larger than maxTextBytes (${this.limits.maxTextBytes}): value ignored`,
    );
  }

  private nameProblem(name: string): SignalError | undefined {
    if (name.length <= this.limits.maxNameLength) return undefined;
    return new SignalError('ERR_NAME_TOO_LONG', name, `signal ${quotedName(name)}: its name of ${name.length} characters is longer than maxNameLength (${this.limits.maxNameLength}): value ignored`);
  }

  private tooMany(name: string): SignalError {
    return new SignalError(
      'ERR_TOO_MANY_SIGNALS',
      name,
      `signal ${quotedName(name)} is new, but the table already holds maxSignals (${this.limits.maxSignals}) signals: value ignored (declare it, or raise maxSignals)`,
    );
  }

  private tableFull(name: string, bytes: number): SignalError {
    return new SignalError(
      'ERR_TABLE_FULL',
      name,
      `signal ${quotedName(name)}: ${bytes} more bytes would exceed maxTableBytes (${this.limits.maxTableBytes}, ${this.accounted} in use): value ignored`,
    );
  }

  /** Values of the signals in one direction, optionally limited to a set of names. */
  values(direction: Direction, only?: ReadonlySet<string> | null): SignalRecord {
    const record: SignalRecord = {};
    if (only) {
      for (const name of only) {
        const signal = this.entries.get(name);
        if (signal !== undefined && signal.direction === direction) setOwn(record, name, signal.value);
      }
      return record;
    }
    for (const signal of this.entries.values()) {
      if (signal.direction === direction) setOwn(record, signal.name, signal.value);
    }
    return record;
  }

  /** The catalog for an `import_answer`: every signal's value and realvirtual type. */
  catalog(): { signals: SignalRecord; signalTypes: Record<string, string> } {
    const signals: SignalRecord = {};
    const signalTypes: Record<string, string> = {};
    for (const signal of this.entries.values()) {
      setOwn(signals, signal.name, signal.value);
      setOwn(signalTypes, signal.name, signal.rvType);
    }
    return { signals, signalTypes };
  }
}
