import type { DataEvent } from './endpoint';
import { SignalRecord } from './messages';
import { PeerInfo } from './peers';
import { setOwn } from '../record';
import { SignalValue } from './values';

/**
 * Stands for one peer's list of signal names: a receiver holds on to the token of the
 * messages it has seen and compares the next message's token with it (not its arrays)
 * to know that the message names the same signals in the same order, so that it can
 * keep what it knows about each signal by position.
 */
export class ShapeToken {
  /** A record of every name (values null) in V8's fast property mode, made on first use. */
  private template: Record<string, SignalValue | null> | null = null;

  constructor(
    /** The names, in their order. */
    readonly names: readonly string[],
  ) {}

  /**
   * A new record of `values` (aligned with `names`). Up to TEMPLATE_MAX_NAMES names it starts
   * as a copy of a template that has every name: V8 copies such an object in one step, where
   * adding the names one by one builds a hash table for each record (several times the CPU
   * time, and most of the garbage, of a message of a thousand signals).
   */
  record(values: readonly SignalValue[]): SignalRecord {
    const names = this.names;
    let record: SignalRecord;
    if (names.length <= TEMPLATE_MAX_NAMES) {
      // Names added one by one make a hash table; a spread copy of it has fast properties.
      this.template ??= { ...recordOf(names, () => null) };
      record = { ...this.template } as SignalRecord;
    } else {
      record = {};
    }
    for (let i = 0; i < names.length; i++) setOwn(record, names[i], values[i]);
    return record;
  }
}

/** V8 keeps up to this many properties of an object in fast mode (kMaxNumberOfDescriptors); a larger template would be a hash table too. */
const TEMPLATE_MAX_NAMES = 1020;

function recordOf<T>(names: readonly string[], value: (i: number) => T): Record<string, T> {
  const record: Record<string, T> = {};
  for (let i = 0; i < names.length; i++) setOwn(record, names[i], value(i));
  return record;
}

/** The values of one received message as two aligned lists, in the order of the message. */
export interface SignalBatch {
  /** The names of the applied values (rejected ones are left out). */
  readonly names: readonly string[];
  /** The applied values (coerced to each signal's type), `values[i]` for `names[i]`. */
  readonly values: readonly SignalValue[];
  /**
   * Set when this batch lists the same names in the same order as the previous batch from
   * the same peer: then `names` is `shape.names`, and the token is the same object for
   * every batch in a row with that list. null when the list is new or has changed (a
   * value left out changes it too).
   */
  readonly shape: ShapeToken | null;
}

function batchRecord(batch: SignalBatch): SignalRecord {
  return batch.shape !== null ? batch.shape.record(batch.values) : recordOf(batch.names, (i) => batch.values[i]);
}

/** Makes `values` a plain data property of the event. */
function settle(event: DataEvent, record: SignalRecord): SignalRecord {
  Object.defineProperty(event, 'values', { value: record, writable: true, enumerable: true, configurable: true });
  return record;
}

/**
 * The accessor `values` starts as. Its functions are shared by every event: an object
 * literal with a getter would create two closures per event, which V8 builds far more
 * slowly (about 30 µs against 1 µs per event in a loop of 100-signal events). Turning a
 * data property into it would cost twice as much as adding it: `values` comes last.
 */
const LAZY_VALUES: PropertyDescriptor = {
  get(this: DataEvent): SignalRecord {
    return settle(this, batchRecord(this.batch));
  },
  set(this: DataEvent, record: SignalRecord): void {
    settle(this, record);
  },
  enumerable: true,
  configurable: true,
};

/** Up to this many signals the record costs less than the accessor (defineProperty is not free): built at once. */
const EAGER_RECORD_SIGNALS = 16;

/**
 * The DataEvent the endpoint emits. Without the message's record at hand (a frame read by
 * its shape, see shape.ts) `values` is built on first read, as an own enumerable property
 * (spreads, JSON.stringify and deep comparisons see it as before): a listener that reads
 * only `batch` or `changed` then costs no record of all the signals.
 */
export function dataEvent(type: 'data' | 'snapshot', peer: PeerInfo, batch: SignalBatch, changed: string[], record: SignalRecord | null): DataEvent {
  if (record !== null) return { type, peer, values: record, changed, batch };
  if (batch.names.length <= EAGER_RECORD_SIGNALS) return { type, peer, values: batchRecord(batch), changed, batch };
  const event = { type, peer, changed, batch };
  return Object.defineProperty(event, 'values', LAZY_VALUES) as DataEvent;
}
