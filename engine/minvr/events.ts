/**
 * The MinVR3 VREvent model and its JSON codec, as sent by MinVR3's TcpJsonVREventConnection:
 * `{"m_Name": string, "m_DataTypeName": string, "m_Data": payload}`.
 *
 * Pure functions: no sockets, no Node-RED. Decoding accepts the variants real peers send (any
 * key order, `m_Data` absent or null for events without data, a trailing newline, `1.0` for
 * integer-valued numbers); encoding writes ASCII-only JSON, so that its byte length equals its
 * character count, which is what a Unity receiver assumes.
 */
import { ProtocolError } from '../errors';
import { clip } from '../text';
import { hasOwn, isPlainObject } from '../record';

export interface Vector2 {
  x: number;
  y: number;
}

export interface Vector3 extends Vector2 {
  z: number;
}

export interface Vector4 extends Vector3 {
  w: number;
}

export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** A reference to a Unity object, only meaningful inside the Unity app that sent it. */
export interface GameObjectRef {
  instanceID: number;
}

export interface NoDataEvent {
  name: string;
  type: '';
}
export interface SingleEvent {
  name: string;
  type: 'Single';
  data: number;
}
export interface Int32Event {
  name: string;
  type: 'Int32';
  data: number;
}
export interface StringEvent {
  name: string;
  type: 'String';
  data: string;
}
export interface Vector2Event {
  name: string;
  type: 'Vector2';
  data: Vector2;
}
export interface Vector3Event {
  name: string;
  type: 'Vector3';
  data: Vector3;
}
export interface Vector4Event {
  name: string;
  type: 'Vector4';
  data: Vector4;
}
export interface QuaternionEvent {
  name: string;
  type: 'Quaternion';
  data: Quaternion;
}
/** Receive only: `encodeEvent` refuses it (the reference is local to the sender). */
export interface GameObjectEvent {
  name: string;
  type: 'GameObject';
  data: GameObjectRef;
}

export type KnownEvent = NoDataEvent | SingleEvent | Int32Event | StringEvent | Vector2Event | Vector3Event | Vector4Event | QuaternionEvent | GameObjectEvent;

/**
 * An event whose m_DataTypeName is not one of KNOWN_TYPES. Unity keeps such an event as a plain
 * named event; here it also keeps its type name and its raw `m_Data` (undefined when absent),
 * so that it can be inspected or passed on unchanged.
 */
export interface UnknownEvent {
  name: string;
  type: string;
  data?: unknown;
  unknownType: true;
}

export type VREvent = KnownEvent | UnknownEvent;

export type KnownType = KnownEvent['type'];

export const KNOWN_TYPES: readonly KnownType[] = Object.freeze(['', 'Single', 'Int32', 'String', 'Vector2', 'Vector3', 'Vector4', 'Quaternion', 'GameObject'] as KnownType[]);

const COMPONENTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Vector2: ['x', 'y'],
  Vector3: ['x', 'y', 'z'],
  Vector4: ['x', 'y', 'z', 'w'],
  Quaternion: ['x', 'y', 'z', 'w'],
  GameObject: ['instanceID'],
});

/**
 * Levels of arrays and objects allowed in the raw data of an unknown event, received or sent.
 * A peer controls it: anything that walks the data recursively (a copy, a clone) stays far
 * from the stack's limit.
 */
export const MAX_RAW_DEPTH = 64;

/**
 * Arrays, objects and elements (counted as `[`, `{` and `,` outside strings) one received event
 * may hold. A 16 MiB frame of `[{},{},…]` would otherwise parse into 5.6 million objects
 * (650 MiB of heap, seconds of work, and as much again for each copy a flow makes).
 */
export const MAX_JSON_VALUES = 100000;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function isKnownType(type: string): type is KnownType {
  return (KNOWN_TYPES as readonly string[]).includes(type);
}

export function isUnknownEvent(event: VREvent): event is UnknownEvent {
  return (event as UnknownEvent).unknownType === true;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : `the number ${String(value)}`;
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

function eventError(name: string | undefined, message: string): ProtocolError {
  const subject = name === undefined ? 'MinVR3 event' : `MinVR3 event ${clip(JSON.stringify(name), 100)}`;
  return new ProtocolError('ERR_MINVR_EVENT', `${subject}: ${message}`);
}

function isInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

/**
 * Checks `data` against a known type; returns the data to keep (a fresh object holding only
 * the type's components, for the structured types) or a message saying what is wrong.
 */
function checkData(type: KnownType, data: unknown, received: boolean): { ok: true; data: unknown } | { ok: false; message: string } {
  switch (type) {
    case '':
      // Unity reads such an event as a plain VREvent and ignores any data it carries.
      if (data === undefined || data === null || received) return { ok: true, data: undefined };
      return { ok: false, message: `an event without data type must have no m_Data, got ${describe(data)}` };
    case 'Single':
      if (typeof data === 'number' && Number.isFinite(data)) return { ok: true, data };
      return { ok: false, message: `m_Data of a Single must be a finite number, got ${describe(data)}` };
    case 'Int32':
      if (isInt32(data)) return { ok: true, data: data === 0 ? 0 : data };
      return { ok: false, message: `m_Data of an Int32 must be an integer from ${INT32_MIN} to ${INT32_MAX}, got ${describe(data)}` };
    case 'String':
      if (typeof data === 'string') return { ok: true, data };
      return { ok: false, message: `m_Data of a String must be a string, got ${describe(data)}` };
    default: {
      const keys = COMPONENTS[type];
      if (!isPlainObject(data)) return { ok: false, message: `m_Data of a ${type} must be an object {${keys.map((key) => `"${key}"`).join(',')}}, got ${describe(data)}` };
      // Received extra fields are ignored, as Unity's JsonUtility does; sent ones are a mistake.
      if (!received) {
        const extra = Object.keys(data).find((key) => !keys.includes(key));
        if (extra !== undefined) return { ok: false, message: `m_Data of a ${type} has an unexpected field ${JSON.stringify(extra)}` };
      }
      const out: Record<string, number> = {};
      for (const key of keys) {
        const value = hasOwn(data, key) ? data[key] : undefined;
        if (type === 'GameObject') {
          if (!isInt32(value)) return { ok: false, message: `m_Data.${key} of a GameObject must be a 32-bit integer, got ${describe(value)}` };
        } else if (typeof value !== 'number' || !Number.isFinite(value)) {
          return { ok: false, message: `m_Data.${key} of a ${type} must be a finite number, got ${describe(value)}` };
        }
        out[key] = value;
      }
      return { ok: true, data: out };
    }
  }
}

/**
 * Decodes one VREvent from its JSON text. Throws a ProtocolError: ERR_INVALID_JSON for text that
 * is not JSON, ERR_MINVR_EVENT for JSON that is not a valid VREvent (not an object, m_Name missing
 * or not a string, m_DataTypeName not a string, m_Data that does not fit its known type, more than
 * MAX_JSON_VALUES values, unknown data nested deeper than MAX_RAW_DEPTH).
 * Lenient where Unity is: a missing or null m_DataTypeName is a plain event, data on a plain
 * event and extra fields of a structured type are ignored. A data type without data is an error
 * (Unity would make up zeros, which a flow could not tell from real values).
 */
export function decodeEvent(json: string): VREvent {
  // Each value takes at least two characters: shorter texts cannot hold too many.
  if (json.length > 2 * MAX_JSON_VALUES && holdsMoreValuesThan(json, MAX_JSON_VALUES)) {
    throw eventError(undefined, `holds more than ${MAX_JSON_VALUES} JSON values (arrays, objects and elements); not parsed`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ProtocolError('ERR_INVALID_JSON', `MinVR3 event is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isPlainObject(parsed)) throw eventError(undefined, `expected a JSON object, got ${describe(parsed)}`);
  const name = hasOwn(parsed, 'm_Name') ? parsed.m_Name : undefined;
  if (typeof name !== 'string') throw eventError(undefined, `m_Name must be a string, got ${describe(name)}`);
  // Without m_DataTypeName Unity sees a plain event (no data).
  const type = hasOwn(parsed, 'm_DataTypeName') && parsed.m_DataTypeName !== null ? parsed.m_DataTypeName : '';
  if (typeof type !== 'string') throw eventError(name, `m_DataTypeName must be a string, got ${describe(type)}`);
  const raw = hasOwn(parsed, 'm_Data') ? parsed.m_Data : undefined;
  if (!isKnownType(type)) {
    if (nestedDeeperThan(raw, MAX_RAW_DEPTH)) throw eventError(name, `m_Data of type ${clip(JSON.stringify(type), 100)} is nested deeper than ${MAX_RAW_DEPTH} levels`);
    const event: UnknownEvent = { name, type, unknownType: true };
    if (raw !== undefined) event.data = raw;
    return event;
  }
  const checked = checkData(type, raw, true);
  if (!checked.ok) throw eventError(name, checked.message);
  if (type === '') return { name, type };
  return { name, type, data: checked.data } as KnownEvent;
}

/** True when `json` has more than `max` of `[`, `{` and `,` outside its strings: one pass, nothing allocated. */
function holdsMoreValuesThan(json: string, max: number): boolean {
  let count = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if ((c === 0x5b || c === 0x7b || c === 0x2c) && ++count > max) {
      return true;
    }
  }
  return false;
}

/** True when arrays and objects in `value` nest deeper than `max` levels; walked without recursion, whatever the depth. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const item = stack.pop();
    const depth = depths.pop() as number;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** JSON.stringify, then every character >= U+0080 as \uXXXX (a surrogate pair gives two escapes). */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Escaped JSON of recent event names: a flow sends the same few names over and over. */
const nameJsonCache = new Map<string, string>();
const NAME_CACHE_SIZE = 1024;

function nameJson(name: string): string {
  let json = nameJsonCache.get(name);
  if (json === undefined) {
    if (nameJsonCache.size >= NAME_CACHE_SIZE) nameJsonCache.clear();
    json = asciiJson(name);
    nameJsonCache.set(name, json);
  }
  return json;
}

/** A finite number as JSON; -0 keeps its sign (`-0`), as jsoncpp and Unity do, where JSON.stringify writes `0`. */
function numberJson(value: number): string {
  return value === 0 && 1 / value < 0 ? '-0' : String(value);
}

/** JSON of checked data of a known type: a finite number, a string, or an object of the type's finite-number components. */
function knownDataJson(type: KnownType, data: unknown): string {
  if (typeof data === 'number') return numberJson(data);
  if (typeof data === 'string') return asciiJson(data);
  const keys = COMPONENTS[type];
  const values = data as Record<string, number>;
  let json = `{"${keys[0]}":${numberJson(values[keys[0]])}`;
  for (let i = 1; i < keys.length; i++) json += `,"${keys[i]}":${numberJson(values[keys[i]])}`;
  return `${json}}`;
}

/** Checks raw data of an unknown event: plain JSON with finite numbers only. */
function checkRaw(value: unknown, path: string, depth: number): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} must be a finite number, got ${String(value)}`;
  if (depth >= MAX_RAW_DEPTH) return `${path} is nested deeper than ${MAX_RAW_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = checkRaw(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const problem = checkRaw(value[key], `${path}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path} must be JSON (null, boolean, number, string, array or plain object), got ${describe(value)}`;
}

/**
 * Encodes a VREvent as ASCII-only JSON (`{"m_Name":…,"m_DataTypeName":…[,"m_Data":…]}`), with
 * m_Data left out for an event without data, as Unity does. Throws a ProtocolError
 * (ERR_MINVR_EVENT) for an event that is not valid: a name or type that is not a string, data
 * that does not fit its type, a number that is not finite, or a GameObject event (receive only).
 * An unknown event is written with its type name and raw data, which must be plain JSON.
 */
export function encodeEvent(event: VREvent): string {
  if (!isPlainObject(event)) throw eventError(undefined, `expected an event object, got ${describe(event)}`);
  const { name, type } = event as { name: unknown; type: unknown };
  if (typeof name !== 'string') throw eventError(undefined, `name must be a string, got ${describe(name)}`);
  if (typeof type !== 'string') throw eventError(name, `type must be a string, got ${describe(type)}`);
  const data = hasOwn(event, 'data') ? (event as { data?: unknown }).data : undefined;
  if (isKnownType(type)) {
    if (type === 'GameObject') throw eventError(name, 'a GameObject event refers to an object of the app that sent it and cannot be sent');
    const checked = checkData(type, data, false);
    if (!checked.ok) throw eventError(name, checked.message.replace(/m_Data/g, 'data'));
    // Built by hand (the text JSON.stringify gives, but for -0): events are sent at tracker rates.
    const head = `{"m_Name":${nameJson(name)},"m_DataTypeName":"${type}"`;
    return type === '' ? `${head}}` : `${head},"m_Data":${knownDataJson(type, checked.data)}}`;
  }
  if (data === undefined) return asciiJson({ m_Name: name, m_DataTypeName: type });
  const problem = checkRaw(data, 'data', 0);
  if (problem) throw eventError(name, problem);
  return asciiJson({ m_Name: name, m_DataTypeName: type, m_Data: data });
}
