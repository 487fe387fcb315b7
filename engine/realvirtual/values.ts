import { SignalError } from '../errors';
import { printable } from '../text';

/** The four value types of realvirtual signals. */
export type ValueType = 'Bool' | 'Int' | 'Float' | 'Text';
export type SignalValue = boolean | number | string;

export const VALUE_TYPES: readonly ValueType[] = ['Bool', 'Int', 'Float', 'Text'];

/** realvirtual's Int signals are C# `int`. */
export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;

export function isValueType(value: unknown): value is ValueType {
  return value === 'Bool' || value === 'Int' || value === 'Float' || value === 'Text';
}

/** True for the primitives a signal may carry: booleans, finite numbers and strings. */
export function isSignalValue(value: unknown): value is SignalValue {
  const kind = typeof value;
  return kind === 'boolean' || kind === 'string' || (kind === 'number' && Number.isFinite(value as number));
}

/**
 * The value type a signal gets when it is written without a declaration. Integers
 * outside the Int range are Float: an Int signal could not hold them.
 */
export function inferValueType(value: SignalValue): ValueType {
  switch (typeof value) {
    case 'boolean':
      return 'Bool';
    case 'number':
      return Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX ? 'Int' : 'Float';
    default:
      return 'Text';
  }
}

export function defaultValue(type: ValueType): SignalValue {
  switch (type) {
    case 'Bool':
      return false;
    case 'Text':
      return '';
    default:
      return 0;
  }
}

const NUMERIC_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A value as an error message names it: short, printable, and never walked into (objects are "an object"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the text "${printable(value, 40)}"`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A signal name as an error message quotes it: at most 100 characters, control characters escaped. */
export function quotedName(name: string): string {
  return `"${printable(name, 100)}"`;
}

/**
 * The one error returned for every rejected value that is not explained one by one (see
 * SignalTable.receive): a hostile message of a million bad values builds no million errors.
 */
export const UNEXPLAINED = new SignalError('ERR_INVALID_VALUE', '', 'value rejected (not explained one by one)');

function mismatch(name: string, value: unknown, type: ValueType, hint: string, explain: boolean): SignalError {
  if (!explain) return UNEXPLAINED;
  return new SignalError('ERR_TYPE_MISMATCH', name, `signal ${quotedName(name)} is ${type}: ${describeValue(value)} ${hint}`);
}

/** Rejects anything that is not a boolean, a finite number or a string, naming the signal. */
export function checkSignalValue(name: string, value: unknown): SignalError | undefined {
  if (isSignalValue(value)) return undefined;
  const reason = typeof value === 'number' ? `${describeValue(value)} is not a finite number` : `${describeValue(value)} is not a boolean, number or string`;
  return new SignalError('ERR_INVALID_VALUE', name, `signal ${quotedName(name)}: ${reason}`);
}

function toInt(name: string, value: number, original: unknown, explain: boolean): number | SignalError {
  const rounded = value < 0 ? -Math.round(-value) : Math.round(value);
  if (rounded < INT_MIN || rounded > INT_MAX) {
    return mismatch(name, original, 'Int', `is outside the 32-bit range ${INT_MIN}..${INT_MAX}`, explain);
  }
  return rounded === 0 ? 0 : rounded;
}

/**
 * True when `value` already is a value of `type`, i.e. when coerceValue would return
 * it unchanged: the fast path of receiving, which skips the conversion.
 */
export function isExactValue(value: unknown, type: ValueType): boolean {
  switch (type) {
    case 'Bool':
      return typeof value === 'boolean';
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Int':
      // -0 is converted to 0.
      return typeof value === 'number' && Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX && (value !== 0 || 1 / value > 0);
    case 'Text':
      return typeof value === 'string';
  }
}

/**
 * Converts a value to a signal's type, following realvirtual's own clients:
 * numbers convert between Int and Float (Float → Int rounds to nearest, halves away
 * from zero), "true"/"True"/"false"/"False" convert to Bool, and numeric text converts
 * to a number. Everything else is a SignalError: ERR_INVALID_VALUE for what no signal
 * can carry (as checkSignalValue: NaN, Infinity, null, objects…), else ERR_TYPE_MISMATCH.
 * With `explain` false every rejection is UNEXPLAINED.
 */
export function coerceValue(name: string, value: unknown, type: ValueType, explain = true): SignalValue | SignalError {
  if (!explain && !isSignalValue(value)) return UNEXPLAINED;
  const invalid = checkSignalValue(name, value);
  if (invalid) return invalid;
  switch (type) {
    case 'Bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'True') return true;
      if (value === 'false' || value === 'False') return false;
      return mismatch(name, value, type, 'is not true/false (accepted text: "true", "True", "false", "False")', explain);
    case 'Int':
    case 'Float': {
      let number: number;
      if (typeof value === 'number') number = value;
      else if (typeof value === 'string' && NUMERIC_TEXT.test(value)) number = Number(value);
      else return mismatch(name, value, type, 'is not a number or numeric text', explain);
      if (!Number.isFinite(number)) return mismatch(name, value, type, 'is not a finite number', explain);
      return type === 'Int' ? toInt(name, number, value, explain) : number;
    }
    case 'Text':
      if (typeof value === 'string') return value;
      return mismatch(name, value, type, 'is not text', explain);
  }
}
