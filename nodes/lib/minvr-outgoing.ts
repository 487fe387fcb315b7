import { internals, ProtocolError, VREvent } from '../../engine';
import { SENDABLE_TYPES } from './minvr-settings';
import { Translate } from './status';

const { isPlainObject } = internals;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const VECTOR_SHAPES: ReadonlyArray<[string, string]> = [
  ['x,y', 'Vector2'],
  ['x,y,z', 'Vector3'],
  ['w,x,y,z', 'Vector4'],
];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (isPlainObject(value)) return `an object with ${Object.keys(value).length === 0 ? 'no keys' : `keys ${Object.keys(value).slice(0, 8).join(', ')}`}`;
  return `a ${typeof value}`;
}

/** The MinVR3 type for a payload when none is asked for; a message saying why when there is none. */
function inferType(payload: unknown): string | { cannot: string } {
  if (payload === null || payload === undefined) return 'none';
  if (typeof payload === 'number') return Number.isInteger(payload) && payload >= INT32_MIN && payload <= INT32_MAX ? 'Int32' : 'Single';
  if (typeof payload === 'string') return 'String';
  if (isPlainObject(payload)) {
    const keys = Object.keys(payload).sort().join(',');
    for (const [shape, type] of VECTOR_SHAPES) if (keys === shape) return type;
  }
  return { cannot: describe(payload) };
}

/** The name the user asked for, matched without regard to case ("vector3" is Vector3); undefined when not set. */
function requestedType(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return String(value);
  return SENDABLE_TYPES.find((type) => type.toLowerCase() === value.trim().toLowerCase()) ?? value;
}

/**
 * Builds the event minvr-out sends: the name from msg.topic, the type from msg.dataType, else
 * the node's dataType, else inferred from msg.payload. Throws a ProtocolError (ERR_MINVR_EVENT)
 * that says what is wrong; the data itself is checked when the event is encoded.
 */
export function outgoingEvent(msg: { topic?: unknown; payload?: unknown; dataType?: unknown }, nodeDataType: string, _: Translate): VREvent {
  const name = msg.topic;
  if (typeof name !== 'string' || name === '') throw new ProtocolError('ERR_MINVR_EVENT', _('minvr-out.errors.no-topic'));
  const asked = requestedType(msg.dataType) ?? requestedType(nodeDataType);
  let type: string;
  if (asked !== undefined) {
    if (!SENDABLE_TYPES.includes(asked)) throw new ProtocolError('ERR_MINVR_EVENT', _('minvr-out.errors.bad-data-type', { type: JSON.stringify(asked), types: SENDABLE_TYPES.join(', ') }));
    type = asked;
  } else {
    const inferred = inferType(msg.payload);
    if (typeof inferred !== 'string') throw new ProtocolError('ERR_MINVR_EVENT', _('minvr-out.errors.cannot-infer', { what: inferred.cannot }));
    type = inferred;
  }
  if (type === 'none') return { name, type: '' };
  return { name, type, data: msg.payload } as VREvent;
}
