import { ProtocolError, SignalError } from '../errors';
import { checkSignalValue, isSignalValue, quotedName, SignalValue } from './values';
import { isPlainObject, setOwn } from '../record';

/** The wire protocol version this engine speaks. */
export const PROTOCOL_VERSION = 2;

/** Signal name → value. Iterate with Object.keys: a name may be "__proto__". */
export type SignalRecord = Record<string, SignalValue>;
export type ConfigObject = Record<string, unknown>;

export interface InitMessage {
  type: 'init';
  version?: number;
  name?: string;
}
export interface DataMessage {
  type: 'data';
  version?: number;
  signals: SignalRecord;
}
export interface SnapshotMessage {
  type: 'snapshot';
  version?: number;
  signals: SignalRecord;
}
export interface ImportRequestMessage {
  type: 'import_request';
  version?: number;
}
export interface ImportAnswerMessage {
  type: 'import_answer';
  version?: number;
  signals: SignalRecord;
  signalTypes: Record<string, string>;
}
export interface SubscribeMessage {
  type: 'subscribe';
  version?: number;
  subscribe: string[];
}
export interface ConfigGetMessage {
  type: 'config_get';
  version?: number;
}
export interface ConfigAnswerMessage {
  type: 'config_answer';
  version?: number;
  config: ConfigObject;
}
export interface ConfigSetMessage {
  type: 'config_set';
  version?: number;
  config: ConfigObject;
}
export interface ConfigResultMessage {
  type: 'config_result';
  version?: number;
  success: boolean;
  message: string;
}

export type Message =
  InitMessage | DataMessage | SnapshotMessage | ImportRequestMessage | ImportAnswerMessage | SubscribeMessage | ConfigGetMessage | ConfigAnswerMessage | ConfigSetMessage | ConfigResultMessage;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = ['init', 'data', 'import_request', 'import_answer', 'subscribe', 'snapshot', 'config_get', 'config_answer', 'config_set', 'config_result'];

/** A message that parsed, with the signals whose values were rejected (the rest applies). */
export interface ParsedMessage {
  kind: 'message';
  message: Message;
  rejected: SignalError[];
}
/** A well-formed message of a type this engine does not know: ignored by the caller. */
export interface UnknownMessage {
  kind: 'unknown';
  type: string;
  version?: number;
}
export type ParseResult = ParsedMessage | UnknownMessage | ProtocolError;

/** A `data` or `snapshot` message as parseFrame gives it: its signals, with their names listed in order. */
export interface ParsedSignals {
  kind: 'signals';
  type: 'data' | 'snapshot';
  version?: number;
  signals: SignalRecord;
  /** The names of `signals`, in order. */
  names: readonly string[];
  rejected: SignalError[];
}
export type FrameResult = ParsedSignals | ParsedMessage | UnknownMessage | ProtocolError;

const KNOWN_TYPES = new Set<string>(MESSAGE_TYPES);

/** Deepest nesting of a configuration object that is accepted (JSON.stringify recurses). */
export const MAX_CONFIG_DEPTH = 32;

/**
 * Why a configuration could not be kept and encoded again, or undefined when it can:
 * nesting deeper than MAX_CONFIG_DEPTH would make every later `config_answer` throw
 * (JSON.stringify recurses), as would a cycle or a BigInt (possible in objects a flow
 * builds). Iterative and linear in the number of objects, shared ones counted once.
 */
export function configProblem(config: unknown): string | undefined {
  if (config === null || typeof config !== 'object') return typeof config === 'bigint' ? 'JSON data (it holds a BigInt)' : undefined;
  const childrenOf = (value: object): unknown[] => (Array.isArray(value) ? value : Object.keys(value).map((key) => (value as Record<string, unknown>)[key]));
  /** Finished objects and their height (1 = no object inside). */
  const heights = new Map<object, number>();
  const onPath = new Set<object>([config]);
  const stack: Array<{ value: object; children: unknown[]; next: number; height: number }> = [{ value: config, children: childrenOf(config), next: 0, height: 1 }];
  const tooDeep = `JSON data nested at most ${MAX_CONFIG_DEPTH} levels deep`;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      if (typeof child === 'bigint') return 'JSON data (it holds a BigInt)';
      if (child === null || typeof child !== 'object') continue;
      if (onPath.has(child)) return 'JSON data (it refers to itself)';
      const known = heights.get(child);
      if (known !== undefined) {
        top.height = Math.max(top.height, known + 1);
        if (stack.length + known > MAX_CONFIG_DEPTH) return tooDeep;
        continue;
      }
      if (stack.length >= MAX_CONFIG_DEPTH) return tooDeep;
      onPath.add(child);
      stack.push({ value: child, children: childrenOf(child), next: 0, height: 1 });
      continue;
    }
    stack.pop();
    onPath.delete(top.value);
    heights.set(top.value, top.height);
    const parent = stack[stack.length - 1];
    if (parent) parent.height = Math.max(parent.height, top.height + 1);
  }
  return undefined;
}

function invalidField(type: string, field: string, expected: string): ProtocolError {
  return new ProtocolError('ERR_INVALID_FIELD', `"${type}" message: field "${field}" must be ${expected}`);
}

/** Rejected values listed one by one per message; the rest are summed up in one more error. */
export const MAX_REJECTED_LISTED = 1000;

interface ReadSignals {
  record: SignalRecord;
  /** The names of `record`, in order. */
  names: string[];
}

/**
 * Keeps the valid signal values; every other value becomes a SignalError (the first
 * MAX_REJECTED_LISTED one by one, then one error that counts the rest, so that a
 * hostile message cannot make the receiver build millions of errors).
 */
function readSignals(type: string, field: string, value: unknown, rejected: SignalError[]): ReadSignals | ProtocolError {
  if (!isPlainObject(value)) return invalidField(type, field, 'an object of signal name to value');
  let clean: SignalRecord | undefined;
  const names = Object.keys(value);
  let unlisted = 0;
  let firstUnlisted = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const raw = value[name];
    if (isSignalValue(raw)) {
      if (clean !== undefined) setOwn(clean, name, raw);
      continue;
    }
    if (rejected.length < MAX_REJECTED_LISTED) rejected.push(checkSignalValue(name, raw) as SignalError);
    else if (unlisted++ === 0) firstUnlisted = name;
    if (clean === undefined) {
      clean = {};
      for (let j = 0; j < i; j++) setOwn(clean, names[j], value[names[j]] as SignalValue);
    }
  }
  if (unlisted > 0) {
    rejected.push(
      new SignalError(
        'ERR_INVALID_VALUE',
        firstUnlisted,
        `"${type}" message: ${unlisted} more signals (from ${quotedName(firstUnlisted)} on) had values that are not a boolean, finite number or string`,
      ),
    );
  }
  return clean === undefined ? { record: value as SignalRecord, names } : { record: clean, names: Object.keys(clean) };
}

function readSignalTypes(value: unknown, rejected: SignalError[]): Record<string, string> | ProtocolError {
  if (value === undefined) return {};
  if (!isPlainObject(value)) return invalidField('import_answer', 'signalTypes', 'an object of signal name to type string');
  const types: Record<string, string> = {};
  let listed = 0;
  let unlisted = 0;
  let firstUnlisted = '';
  for (const name of Object.keys(value)) {
    const typeName = value[name];
    if (typeof typeName === 'string') setOwn(types, name, typeName);
    // Listed one by one up to a bound, then counted (see MAX_REJECTED_LISTED).
    else if (listed++ < MAX_REJECTED_LISTED) rejected.push(new SignalError('ERR_INVALID_VALUE', name, `signal ${quotedName(name)}: its type in "signalTypes" must be a string`));
    else if (unlisted++ === 0) firstUnlisted = name;
  }
  if (unlisted > 0) {
    rejected.push(
      new SignalError('ERR_INVALID_VALUE', firstUnlisted, `"import_answer" message: ${unlisted} more signals (from ${quotedName(firstUnlisted)} on) had types in "signalTypes" that are not strings`),
    );
  }
  return types;
}

function parseObject(type: string, raw: Record<string, unknown>, version: number | undefined): FrameResult {
  const rejected: SignalError[] = [];
  const ok = (message: Message): ParsedMessage => ({ kind: 'message', message, rejected });
  switch (type) {
    case 'init': {
      const name = raw.name;
      if (name !== undefined && typeof name !== 'string') return invalidField(type, 'name', 'a string');
      return ok({ type, version, name });
    }
    case 'data':
    case 'snapshot': {
      const signals = readSignals(type, 'signals', raw.signals, rejected);
      if (signals instanceof ProtocolError) return signals;
      return { kind: 'signals', type, version, signals: signals.record, names: signals.names, rejected };
    }
    case 'import_answer': {
      if (raw.signals === undefined && raw.signalTypes === undefined) {
        return invalidField(type, 'signals', 'an object (an import_answer needs "signals" or "signalTypes")');
      }
      const signals = raw.signals === undefined ? { record: {} } : readSignals(type, 'signals', raw.signals, rejected);
      if (signals instanceof ProtocolError) return signals;
      const signalTypes = readSignalTypes(raw.signalTypes, rejected);
      if (signalTypes instanceof ProtocolError) return signalTypes;
      return ok({ type, version, signals: signals.record, signalTypes });
    }
    case 'subscribe': {
      const list = raw.subscribe;
      if (!Array.isArray(list) || !list.every((name) => typeof name === 'string')) {
        return invalidField(type, 'subscribe', 'an array of signal names');
      }
      return ok({ type, version, subscribe: list as string[] });
    }
    case 'import_request':
    case 'config_get':
      return ok({ type, version });
    case 'config_answer':
    case 'config_set': {
      if (!isPlainObject(raw.config)) return invalidField(type, 'config', 'an object');
      const problem = configProblem(raw.config);
      if (problem) return invalidField(type, 'config', problem);
      return ok({ type, version, config: raw.config });
    }
    case 'config_result': {
      if (typeof raw.success !== 'boolean') return invalidField(type, 'success', 'a boolean');
      const message = raw.message === undefined || raw.message === null ? '' : raw.message;
      if (typeof message !== 'string') return invalidField(type, 'message', 'a string');
      return ok({ type, version, success: raw.success, message });
    }
    default:
      return { kind: 'unknown', type, version };
  }
}

/**
 * Parses one WebSocket frame. Only JSON text frames are protocol messages: every
 * other input gives a ProtocolError with a code, and the caller's session goes on.
 */
export function parseMessage(frame: string | Buffer, isBinary = false): ParseResult {
  const result = parseFrame(frame, isBinary);
  if (result instanceof ProtocolError || result.kind !== 'signals') return result;
  return { kind: 'message', message: { type: result.type, version: result.version, signals: result.signals }, rejected: result.rejected };
}

/** parseMessage for the endpoint: a `data` or `snapshot` message comes with the names of its signals in order. */
export function parseFrame(frame: string | Buffer, isBinary = false): FrameResult {
  if (isBinary) return new ProtocolError('ERR_BINARY_FRAME', 'binary frames are not part of the protocol: send JSON text frames');
  const text = typeof frame === 'string' ? frame : frame.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    return new ProtocolError('ERR_INVALID_JSON', `frame is not valid JSON (${(error as Error).message}): ${JSON.stringify(preview)}`);
  }
  if (!isPlainObject(raw)) {
    const what = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return new ProtocolError('ERR_NOT_AN_OBJECT', `a message must be a JSON object, got ${what}`);
  }
  const type = raw.type;
  if (type === undefined) return new ProtocolError('ERR_MISSING_TYPE', 'message has no "type" field');
  if (typeof type !== 'string') return new ProtocolError('ERR_MISSING_TYPE', 'message field "type" must be a string');
  const version = raw.version;
  if (version !== undefined && (typeof version !== 'number' || !Number.isFinite(version))) {
    return invalidField(type, 'version', 'a number');
  }
  return parseObject(type, raw, version as number | undefined);
}

export function isKnownType(type: string): type is MessageType {
  return KNOWN_TYPES.has(type);
}

/**
 * Encodes a message as JSON text. `version` is added to every type that carries
 * one in the reference (all but `data` and `snapshot`).
 */
export function encodeMessage(message: Message): string {
  switch (message.type) {
    case 'data':
    case 'snapshot':
      return encodeSignals(message.type, message.signals);
    default:
      return JSON.stringify({ ...message, version: message.version ?? PROTOCOL_VERSION });
  }
}

export function encodeSignals(type: 'data' | 'snapshot', signals: SignalRecord): string {
  return `{"type":"${type}","signals":${JSON.stringify(signals)}}`;
}

/** A string as JSON: between quotes as it is when nothing in it needs an escape (the usual signal name), else JSON.stringify. */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * encodeSignals for signals in two lists (distinct names, finite numbers): the same JSON
 * without building an object first, which for hundreds of signals costs as much as the encoding.
 */
export function encodeSignalList(type: 'data' | 'snapshot', names: readonly string[], values: readonly SignalValue[]): string {
  let text = `{"type":"${type}","signals":{`;
  for (let i = 0; i < names.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    text += `${jsonString(names[i])}:${typeof value === 'string' ? jsonString(value) : String(value)}`;
  }
  return `${text}}}`;
}

export const encode = {
  init: (name: string): string => encodeMessage({ type: 'init', name }),
  importRequest: (): string => encodeMessage({ type: 'import_request' }),
  importAnswer: (signals: SignalRecord, signalTypes: Record<string, string>): string => encodeMessage({ type: 'import_answer', signals, signalTypes }),
  subscribe: (names: string[]): string => encodeMessage({ type: 'subscribe', subscribe: names }),
  configGet: (): string => encodeMessage({ type: 'config_get' }),
  configAnswer: (config: ConfigObject): string => encodeMessage({ type: 'config_answer', config }),
  configSet: (config: ConfigObject): string => encodeMessage({ type: 'config_set', config }),
  configResult: (success: boolean, message: string): string => encodeMessage({ type: 'config_result', success, message }),
};
