import { SignalError } from '../errors';
import { checkSignalValue, coerceValue, defaultValue, inferValueType, isExactValue, isValueType, SignalValue, ValueType } from './values';
import { SignalRecord } from './messages';
import { setOwn } from './record';

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
}

export interface SignalDeclaration {
  name: string;
  type: ValueType;
  direction: Direction;
  value?: unknown;
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
  private readonly entries = new Map<string, Signal>();
  /** Changes whenever a signal object is replaced or removed, which invalidates every NameCache. */
  private generation = 0;
  /**
   * Most signals that writes and received values may create (declarations are not
   * limited): a peer that sends ever new names cannot grow memory without bound.
   */
  maxSignals = Infinity;

  get size(): number {
    return this.entries.size;
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

  /** Adds or redefines a signal; its value is coerced to the type, or the type's default. */
  declare(declaration: SignalDeclaration): Signal | SignalError {
    const { name, type, direction } = declaration;
    if (typeof name !== 'string') return new SignalError('ERR_INVALID_FIELD', String(name), 'a signal name must be a string');
    if (!isValueType(type)) {
      return new SignalError('ERR_INVALID_FIELD', name, `signal "${name}": type must be Bool, Int, Float or Text, got ${JSON.stringify(type)}`);
    }
    if (!isDirection(direction)) {
      return new SignalError('ERR_INVALID_FIELD', name, `signal "${name}": direction must be "write" or "read", got ${JSON.stringify(direction)}`);
    }
    let value: SignalValue = defaultValue(type);
    const initial = declaration.value !== undefined && declaration.value !== '' ? declaration.value : this.entries.get(name)?.value;
    if (initial !== undefined) {
      const coerced = coerceValue(name, initial, type);
      if (coerced instanceof SignalError) {
        if (declaration.value !== undefined && declaration.value !== '') return coerced;
      } else {
        value = coerced;
      }
    }
    const signal: Signal = { name, valueType: type, direction, rvType: realvirtualType(direction, type), value, declared: true };
    this.entries.set(name, signal);
    this.generation++;
    return signal;
  }

  remove(name: string): boolean {
    this.generation++;
    return this.entries.delete(name);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /** A local write: declares unknown signals by inference, coerces known ones to their type. */
  write(name: string, value: unknown): SignalUpdate | SignalError {
    return this.update(name, value, 'write');
  }

  /**
   * The fast path of write(), for a known signal we write and a value already of its
   * type: stores the value without allocating and returns the value it replaced, or
   * UNCHANGED. Returns undefined when write() must decide.
   */
  writeExact(name: string, value: unknown): SignalValue | typeof UNCHANGED | undefined {
    const signal = this.entries.get(name);
    if (signal === undefined || signal.direction !== 'write' || !isExactValue(value, signal.valueType)) return undefined;
    // Stored also when equal, as write() does (0 and -0 are equal).
    const previous = signal.value;
    signal.value = value as SignalValue;
    return previous === value ? UNCHANGED : previous;
  }

  /**
   * A value received from a peer. Returns undefined when the signal is one we write:
   * our value stays authoritative and is not overwritten (nor relayed) by a peer.
   */
  receive(name: string, value: SignalValue): SignalUpdate | SignalError | undefined {
    const signal = this.entries.get(name);
    if (signal !== undefined && signal.direction === 'write') return undefined;
    return this.update(name, value, 'read');
  }

  /**
   * The fast path of receive(), for a known signal we read and a value already of its
   * type (what a peer almost always sends): stores the value and returns whether it
   * changed, without allocating. Returns undefined when receive() must decide.
   * With a `cache`, `index` is the position of the name in its message.
   */
  receiveExact(name: string, value: unknown, cache?: NameCache, index = 0): boolean | undefined {
    let signal: Signal | undefined;
    if (cache === undefined) {
      signal = this.entries.get(name);
    } else {
      if (cache.generation !== this.generation) {
        cache.generation = this.generation;
        cache.names = [];
        cache.signals = [];
      }
      if (cache.names[index] === name) {
        signal = cache.signals[index];
      } else {
        signal = this.entries.get(name);
        if (signal !== undefined) {
          cache.names[index] = name;
          cache.signals[index] = signal;
        }
      }
    }
    if (signal === undefined || signal.direction !== 'read' || !isExactValue(value, signal.valueType)) return undefined;
    // Stored also when equal, as receive() does (0 and -0 are equal).
    const previous = signal.value;
    signal.value = value as SignalValue;
    return previous !== value;
  }

  private update(name: string, value: unknown, direction: Direction): SignalUpdate | SignalError {
    let signal = this.entries.get(name);
    if (signal === undefined) {
      const invalid = checkSignalValue(name, value);
      if (invalid) return invalid;
      if (this.entries.size >= this.maxSignals) {
        return new SignalError('ERR_TOO_MANY_SIGNALS', name, `signal "${name}" is new, but the table already holds maxSignals (${this.maxSignals}) signals: value ignored (declare it, or raise maxSignals)`);
      }
      const valueType = inferValueType(value as SignalValue);
      signal = { name, valueType, direction, rvType: realvirtualType(direction, valueType), value: value as SignalValue, declared: false };
      this.entries.set(name, signal);
      return { signal, previous: undefined, changed: true };
    }
    if (signal.direction !== direction && signal.declared) {
      return new SignalError('ERR_DIRECTION', name, `signal "${name}" is declared "${signal.direction}" (${signal.rvType}): it cannot be ${direction === 'write' ? 'written' : 'received'}`);
    }
    let retyped = false;
    if (!signal.declared && signal.valueType === 'Int' && typeof value === 'number' && !Number.isInteger(value)) {
      // JSON cannot tell 0.0 from 0: an inferred Int that receives a fraction was a Float all along.
      signal.valueType = 'Float';
      retyped = true;
    }
    const coerced = coerceValue(name, value, signal.valueType);
    if (coerced instanceof SignalError) return coerced;
    if (signal.direction !== direction) {
      // An inferred signal takes the direction of its latest accepted value.
      signal.direction = direction;
      retyped = true;
    }
    if (retyped) signal.rvType = realvirtualType(signal.direction, signal.valueType);
    const previous = signal.value;
    signal.value = coerced;
    return { signal, previous, changed: retyped || previous !== coerced };
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
