import { ProtocolError, SignalError } from '../errors';
import { checkSignalValue, SignalValue } from './values';
import { isPlainObject, setOwn } from './record';

/** The wire protocol version this engine speaks. */
export const PROTOCOL_VERSION = 2;

/** Signal name → value. Iterate with Object.keys: a name may be "__proto__". */
export type SignalRecord = Record<string, SignalValue>;
export type ConfigObject = Record<string, unknown>;

export interface InitMessage { type: 'init'; version?: number; name?: string }
export interface DataMessage { type: 'data'; version?: number; signals: SignalRecord }
export interface SnapshotMessage { type: 'snapshot'; version?: number; signals: SignalRecord }
export interface ImportRequestMessage { type: 'import_request'; version?: number }
export interface ImportAnswerMessage {
  type: 'import_answer';
  version?: number;
  signals: SignalRecord;
  signalTypes: Record<string, string>;
}
export interface SubscribeMessage { type: 'subscribe'; version?: number; subscribe: string[] }
export interface ConfigGetMessage { type: 'config_get'; version?: number }
export interface ConfigAnswerMessage { type: 'config_answer'; version?: number; config: ConfigObject }
export interface ConfigSetMessage { type: 'config_set'; version?: number; config: ConfigObject }
export interface ConfigResultMessage { type: 'config_result'; version?: number; success: boolean; message: string }

export type Message =
  | InitMessage
  | DataMessage
  | SnapshotMessage
  | ImportRequestMessage
  | ImportAnswerMessage
  | SubscribeMessage
  | ConfigGetMessage
  | ConfigAnswerMessage
  | ConfigSetMessage
  | ConfigResultMessage;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = [
  'init', 'data', 'import_request', 'import_answer', 'subscribe',
  'snapshot', 'config_get', 'config_answer', 'config_set', 'config_result',
];

/** A message that parsed, with the signals whose values were rejected (the rest applies). */
export interface ParsedMessage { kind: 'message'; message: Message; rejected: SignalError[] }
/** A well-formed message of a type this engine does not know: ignored by the caller. */
export interface UnknownMessage { kind: 'unknown'; type: string; version?: number }
export type ParseResult = ParsedMessage | UnknownMessage | ProtocolError;

const KNOWN_TYPES = new Set<string>(MESSAGE_TYPES);

function invalidField(type: string, field: string, expected: string): ProtocolError {
  return new ProtocolError('ERR_INVALID_FIELD', `"${type}" message: field "${field}" must be ${expected}`);
}

/** Keeps the valid signal values; every other value becomes a SignalError. */
function readSignals(type: string, field: string, value: unknown, rejected: SignalError[]): SignalRecord | ProtocolError {
  if (!isPlainObject(value)) return invalidField(type, field, 'an object of signal name to value');
  let clean: SignalRecord | undefined;
  const names = Object.keys(value);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const error = checkSignalValue(name, value[name]);
    if (error === undefined) {
      if (clean !== undefined) setOwn(clean, name, value[name] as SignalValue);
      continue;
    }
    rejected.push(error);
    if (clean === undefined) {
      clean = {};
      for (let j = 0; j < i; j++) setOwn(clean, names[j], value[names[j]] as SignalValue);
    }
  }
  return clean === undefined ? (value as SignalRecord) : clean;
}

function readSignalTypes(value: unknown, rejected: SignalError[]): Record<string, string> | ProtocolError {
  if (value === undefined) return {};
  if (!isPlainObject(value)) return invalidField('import_answer', 'signalTypes', 'an object of signal name to type string');
  const types: Record<string, string> = {};
  for (const name of Object.keys(value)) {
    const typeName = value[name];
    if (typeof typeName === 'string') setOwn(types, name, typeName);
    else rejected.push(new SignalError('ERR_INVALID_VALUE', name, `signal "${name}": its type in "signalTypes" must be a string`));
  }
  return types;
}

function parseObject(type: string, raw: Record<string, unknown>, version: number | undefined): ParseResult {
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
      return ok({ type, version, signals });
    }
    case 'import_answer': {
      if (raw.signals === undefined && raw.signalTypes === undefined) {
        return invalidField(type, 'signals', 'an object (an import_answer needs "signals" or "signalTypes")');
      }
      const signals = raw.signals === undefined ? {} : readSignals(type, 'signals', raw.signals, rejected);
      if (signals instanceof ProtocolError) return signals;
      const signalTypes = readSignalTypes(raw.signalTypes, rejected);
      if (signalTypes instanceof ProtocolError) return signalTypes;
      return ok({ type, version, signals, signalTypes });
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

export const encode = {
  init: (name: string): string => encodeMessage({ type: 'init', name }),
  importRequest: (): string => encodeMessage({ type: 'import_request' }),
  importAnswer: (signals: SignalRecord, signalTypes: Record<string, string>): string =>
    encodeMessage({ type: 'import_answer', signals, signalTypes }),
  subscribe: (names: string[]): string => encodeMessage({ type: 'subscribe', subscribe: names }),
  configGet: (): string => encodeMessage({ type: 'config_get' }),
  configAnswer: (config: ConfigObject): string => encodeMessage({ type: 'config_answer', config }),
  configSet: (config: ConfigObject): string => encodeMessage({ type: 'config_set', config }),
  configResult: (success: boolean, message: string): string => encodeMessage({ type: 'config_result', success, message }),
};
