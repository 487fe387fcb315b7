import { SignalError } from '../errors';
import { ImportAnswerMessage, MAX_REJECTED_LISTED } from './messages';
import { hasOwn } from '../record';
import { Direction, realvirtualType, SignalDeclaration } from './signals';
import { coerceValue, defaultValue, inferValueType, isSignalValue, isValueType, quotedName, SignalValue, ValueType } from './values';

/** One signal of a peer's catalog, seen from our side after direction inversion. */
export interface ImportedSignal {
  name: string;
  /** The type string the peer sent, e.g. "PLCInputBool" or a neutral "Float". */
  remoteType: string;
  /** Our realvirtual type string, e.g. "PLCOutputBool". */
  localType: string;
  valueType: ValueType;
  direction: Direction;
  value: SignalValue;
}

export interface DirectionRules {
  /** Name substrings of neutral-typed signals the remote side writes: we read them. */
  inputPatterns?: readonly string[];
  /** Name substrings of neutral-typed signals we write. */
  outputPatterns?: readonly string[];
  /** Direction of a neutral-typed signal that matches no pattern. Default "read". */
  defaultDirection?: Direction;
}

const PREFIXED = /^PLC(Input|Output)(Bool|Int|Float|Text)$/;

/** Splits "a, b,,c" into ["a", "b", "c"]. */
export function splitList(text: string | readonly string[] | undefined | null): string[] {
  if (text === undefined || text === null) return [];
  const parts = typeof text === 'string' ? text.split(',') : text;
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

function neutralDirection(name: string, rules: DirectionRules): Direction {
  if ((rules.inputPatterns ?? []).some((pattern) => name.includes(pattern))) return 'read';
  if ((rules.outputPatterns ?? []).some((pattern) => name.includes(pattern))) return 'write';
  return rules.defaultDirection ?? 'read';
}

/**
 * Reads a peer's catalog. The peer's PLCInput (it reads) becomes our write and its
 * PLCOutput (it writes) becomes our read; neutral types get their direction from the
 * name patterns, then from the default direction. Values are coerced to the type.
 * Rejected signals are listed one by one up to MAX_REJECTED_LISTED, then counted in one more error.
 */
export function importCatalog(answer: Pick<ImportAnswerMessage, 'signals' | 'signalTypes'>, rules: DirectionRules = {}): { signals: ImportedSignal[]; rejected: SignalError[] } {
  const names = new Set<string>([...Object.keys(answer.signalTypes), ...Object.keys(answer.signals)]);
  const signals: ImportedSignal[] = [];
  const rejected: SignalError[] = [];
  let unlisted = 0;
  let firstUnlisted = '';
  const explain = (): boolean => {
    if (rejected.length < MAX_REJECTED_LISTED) return true;
    if (unlisted++ === 0) firstUnlisted = name;
    return false;
  };
  let name = '';
  for (name of names) {
    const rawValue = hasOwn(answer.signals, name) ? answer.signals[name] : undefined;
    const remoteType = hasOwn(answer.signalTypes, name) ? answer.signalTypes[name] : '';
    const prefixed = PREFIXED.exec(remoteType);
    let valueType: ValueType;
    let direction: Direction;
    if (prefixed) {
      valueType = prefixed[2] as ValueType;
      direction = prefixed[1] === 'Input' ? 'write' : 'read';
    } else {
      if (isValueType(remoteType)) valueType = remoteType;
      else if (rawValue !== undefined && isSignalValue(rawValue)) valueType = inferValueType(rawValue);
      else {
        if (explain()) rejected.push(new SignalError('ERR_INVALID_FIELD', name, `signal ${quotedName(name)}: unknown type ${quotedName(remoteType)} and no value to infer one from`));
        continue;
      }
      direction = neutralDirection(name, rules);
    }
    let value = defaultValue(valueType);
    if (rawValue !== undefined) {
      const coerced = coerceValue(name, rawValue, valueType, rejected.length < MAX_REJECTED_LISTED);
      if (coerced instanceof SignalError) {
        if (explain()) rejected.push(coerced);
      } else {
        value = coerced;
      }
    }
    signals.push({
      name,
      remoteType: remoteType || valueType,
      localType: realvirtualType(direction, valueType),
      valueType,
      direction,
      value,
    });
  }
  if (unlisted > 0) {
    rejected.push(
      new SignalError(
        'ERR_INVALID_FIELD',
        firstUnlisted,
        `catalog: ${unlisted} more signals (from ${quotedName(firstUnlisted)} on) had an unknown type or a value of the wrong type (not listed one by one)`,
      ),
    );
  }
  return { signals, rejected };
}

export function toDeclarations(signals: readonly ImportedSignal[]): SignalDeclaration[] {
  return signals.map(({ name, valueType, direction, value }) => ({ name, type: valueType, direction, value }));
}
