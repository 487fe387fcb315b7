import assert from 'assert/strict';
import { ConnectionError, ErrorCode, OptionError, ProtocolError, RealvirtualError } from '../../engine/errors';
import { decodeEvent, encodeEvent, isUnknownEvent, KNOWN_TYPES, MAX_JSON_VALUES, MAX_RAW_DEPTH, UnknownEvent, VREvent } from '../../engine/minvr/events';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder, FrameResult, frameJson, OutgoingEvent } from '../../engine/minvr/framing';
import { seededRandom } from '../helpers/faults';
import { VREVENT_SAMPLES as SAMPLES } from '../helpers/minvr-events';

function rejects(action: () => unknown, code: ErrorCode): RealvirtualError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof RealvirtualError, `expected a RealvirtualError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.length > 0);
    return error;
  }
  return assert.fail(`expected ${code}`);
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** A frame with a raw body (not necessarily valid). */
function rawFrame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = Buffer.alloc(4);
  header.writeUInt32LE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

function events(results: FrameResult[]): VREvent[] {
  return results.map((result) => {
    if (result instanceof Error) assert.fail(`unexpected ${(result as RealvirtualError).code}: ${result.message}`);
    return result;
  });
}

describe('MinVR3 VREvent codec', () => {
  describe('round trip', () => {
    for (const event of SAMPLES) {
      it(`${event.type || 'no data'}: ${event.name}`, () => {
        const json = encodeEvent(event);
        assert.ok(isAscii(json));
        assert.deepEqual(decodeEvent(json), event);
        assert.deepEqual(decodeEvent(json + '\n'), event);
      });
    }

    it('covers every known type but the receive-only GameObject', () => {
      const covered = new Set(SAMPLES.map((event) => event.type));
      for (const type of KNOWN_TYPES) if (type !== 'GameObject') assert.ok(covered.has(type), `no sample of ${type}`);
    });

    it('writes the Unity layout, without m_Data for an event without data', () => {
      assert.equal(encodeEvent({ name: 'MinVR3/Shutdown', type: '' }), '{"m_Name":"MinVR3/Shutdown","m_DataTypeName":""}');
      assert.equal(encodeEvent({ name: 'n', type: 'Vector2', data: { x: 1, y: 2 } }), '{"m_Name":"n","m_DataTypeName":"Vector2","m_Data":{"x":1,"y":2}}');
    });
  });

  describe('decoding what peers send', () => {
    it("accepts Unity's shutdown event", () => {
      assert.deepEqual(decodeEvent('{"m_Name":"MinVR3/Shutdown","m_DataTypeName":""}'), { name: 'MinVR3/Shutdown', type: '' });
    });

    it('accepts m_Data null (JavaScript client) and any key order', () => {
      assert.deepEqual(decodeEvent('{"m_Data":null,"m_DataTypeName":"","m_Name":"Ping"}'), { name: 'Ping', type: '' });
      assert.deepEqual(decodeEvent('{"m_Data":{"z":3,"x":1,"y":2},"m_Name":"P","m_DataTypeName":"Vector3"}'), {
        name: 'P',
        type: 'Vector3',
        data: { x: 1, y: 2, z: 3 },
      });
      assert.deepEqual(decodeEvent('{"m_DataTypeName":"Int32","m_Data":7,"m_Name":"I"}'), { name: 'I', type: 'Int32', data: 7 });
    });

    it('accepts the C++ trailing newline and surrounding whitespace', () => {
      assert.deepEqual(decodeEvent('{"m_Name":"S","m_DataTypeName":"String","m_Data":"x"}\n'), { name: 'S', type: 'String', data: 'x' });
      assert.deepEqual(decodeEvent(' \r\n{ "m_Name" : "E" , "m_DataTypeName" : "" }\r\n'), { name: 'E', type: '' });
    });

    it('accepts double-precision and 1.0-style numbers', () => {
      assert.deepEqual(decodeEvent('{"m_Name":"F","m_DataTypeName":"Single","m_Data":3.1415927410125732}'), {
        name: 'F',
        type: 'Single',
        data: 3.1415927410125732,
      });
      assert.deepEqual(decodeEvent('{"m_Name":"F","m_DataTypeName":"Single","m_Data":1.0}'), { name: 'F', type: 'Single', data: 1 });
      assert.deepEqual(decodeEvent('{"m_Name":"I","m_DataTypeName":"Int32","m_Data":5.0}'), { name: 'I', type: 'Int32', data: 5 });
      assert.deepEqual(decodeEvent('{"m_Name":"Q","m_DataTypeName":"Quaternion","m_Data":{"x":0.0,"y":0.0,"z":0.0,"w":1.0}}'), {
        name: 'Q',
        type: 'Quaternion',
        data: { x: 0, y: 0, z: 0, w: 1 },
      });
    });

    it('decodes a GameObject event (receive only)', () => {
      const json = '{"m_Name":"Picked","m_DataTypeName":"GameObject","m_Data":{"instanceID":-12345}}';
      assert.deepEqual(decodeEvent(json), { name: 'Picked', type: 'GameObject', data: { instanceID: -12345 } });
      rejects(() => encodeEvent({ name: 'Picked', type: 'GameObject', data: { instanceID: 1 } }), 'ERR_MINVR_EVENT');
    });

    it('keeps an event of unknown type with its type name and raw data', () => {
      const event = decodeEvent('{"m_Name":"Custom","m_DataTypeName":"MyStruct","m_Data":{"a":[1,"b",null],"__proto__":{"polluted":1}}}');
      assert.ok(isUnknownEvent(event));
      assert.equal(event.name, 'Custom');
      assert.equal(event.type, 'MyStruct');
      assert.deepEqual(JSON.parse(JSON.stringify(event.data)), JSON.parse('{"a":[1,"b",null],"__proto__":{"polluted":1}}'));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      // Passed on unchanged.
      assert.deepEqual(decodeEvent(encodeEvent(event)), event);

      const bare = decodeEvent('{"m_Name":"Bare","m_DataTypeName":"Bool"}');
      assert.deepEqual(bare, { name: 'Bare', type: 'Bool', unknownType: true });
      assert.equal(encodeEvent(bare), '{"m_Name":"Bare","m_DataTypeName":"Bool"}');
      assert.deepEqual(decodeEvent('{"m_Name":"N","m_DataTypeName":"X","m_Data":null}'), { name: 'N', type: 'X', data: null, unknownType: true });
    });

    it('ignores other top-level fields', () => {
      assert.deepEqual(decodeEvent('{"m_Name":"A","m_DataTypeName":"Int32","m_Data":1,"extra":true}'), { name: 'A', type: 'Int32', data: 1 });
    });
  });

  describe('ASCII encoding', () => {
    const strings = ['Grüße', 'naïve café', '日本語', '😀 emoji 👍🏽', 'mixed \u0080\u00ff\u0100\uffff', 'lone \ud800 surrogate', '\u0000\u001f\u007f'];
    for (const text of strings) {
      it(`round-trips ${JSON.stringify(text)}`, () => {
        const event: VREvent = { name: text, type: 'String', data: text };
        const json = encodeEvent(event);
        assert.ok(isAscii(json), json);
        assert.equal(Buffer.byteLength(json, 'utf8'), json.length);
        assert.deepEqual(decodeEvent(json), event);
        const frame = encodeFrame(event);
        assert.equal(frame.readUInt32LE(0), json.length);
        assert.equal(frame.length, 4 + json.length);
        assert.equal(frame.subarray(4).toString('latin1'), json);
      });
    }

    it('escapes a surrogate pair as two \\u escapes', () => {
      const json = encodeEvent({ name: 'e', type: 'String', data: '😀' });
      assert.match(json, /"m_Data":"\\ud83d\\ude00"/i);
      assert.match(encodeEvent({ name: 'é', type: '' }), /"m_Name":"\\u00e9"/i);
    });

    it('escapes non-ASCII in the type name and raw data of unknown events', () => {
      const event: VREvent = { name: 'ü', type: 'Typ€', data: { ключ: ['значение', '🚀'] }, unknownType: true };
      const json = encodeEvent(event);
      assert.ok(isAscii(json), json);
      assert.deepEqual(decodeEvent(json), event);
    });
  });

  describe('reads what Unity reads (lenient where Unity is)', () => {
    const lenient: Array<[string, string, VREvent]> = [
      ['no m_DataTypeName: a plain event', '{"m_Name":"a"}', { name: 'a', type: '' }],
      ['null m_DataTypeName: a plain event', '{"m_Name":"a","m_DataTypeName":null}', { name: 'a', type: '' }],
      ['data on a no-data event: ignored', '{"m_Name":"a","m_DataTypeName":"","m_Data":1}', { name: 'a', type: '' }],
      ['Vector2 with z: z ignored', '{"m_Name":"a","m_DataTypeName":"Vector2","m_Data":{"x":1,"y":2,"z":3}}', { name: 'a', type: 'Vector2', data: { x: 1, y: 2 } }],
      [
        'GameObject with a __proto__ field: ignored',
        '{"m_Name":"a","m_DataTypeName":"GameObject","m_Data":{"instanceID":1,"__proto__":{"x":1}}}',
        { name: 'a', type: 'GameObject', data: { instanceID: 1 } },
      ],
    ];
    for (const [label, json, expected] of lenient) {
      it(label, () => {
        const event = decodeEvent(json);
        assert.deepEqual(event, expected);
        if ('data' in event && event.data) assert.equal(Object.getPrototypeOf(event.data), Object.prototype);
      });
    }
  });

  describe('writes exactly what JSON.stringify (with \\u escapes) writes, but for -0', () => {
    /** JSON.stringify writes -0 as 0; jsoncpp and Unity keep the sign, and so do we: a marker stands in for -0 here. */
    const NEGATIVE_ZERO = '~negative zero~';
    const reference = (event: VREvent): string => {
      const record: Record<string, unknown> = { m_Name: event.name, m_DataTypeName: event.type };
      if (event.type !== '') record.m_Data = (event as { data: unknown }).data;
      const json = JSON.stringify(record, (_key, value: unknown) => (Object.is(value, -0) ? NEGATIVE_ZERO : value));
      return json
        .split(`"${NEGATIVE_ZERO}"`)
        .join('-0')
        .replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    };
    it('keeps the sign of -0 in Single and vector components; an Int32 has no -0', () => {
      assert.equal(encodeEvent({ name: 'a', type: 'Single', data: -0 }), '{"m_Name":"a","m_DataTypeName":"Single","m_Data":-0}');
      assert.equal(encodeEvent({ name: 'v', type: 'Vector3', data: { x: -0, y: 0, z: -0 } }), '{"m_Name":"v","m_DataTypeName":"Vector3","m_Data":{"x":-0,"y":0,"z":-0}}');
      assert.equal(encodeEvent({ name: 'i', type: 'Int32', data: -0 }), '{"m_Name":"i","m_DataTypeName":"Int32","m_Data":0}');
      const back = decodeEvent(encodeEvent({ name: 'v', type: 'Vector3', data: { x: -0, y: 0, z: -0 } })) as { data: Record<string, number> };
      assert.ok(Object.is(back.data.x, -0) && Object.is(back.data.y, 0) && Object.is(back.data.z, -0));
      // What Unity writes (-0.0) reads back as -0.
      assert.ok(Object.is((decodeEvent('{"m_Name":"a","m_DataTypeName":"Single","m_Data":-0.0}') as { data: number }).data, -0));
    });
    it('for 5,000 seeded random events of every sendable type (names repeat, as a flow sends them)', () => {
      const random = seededRandom(20261121);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
      const numbers = [0, -0, 1, -1, 0.1, 1e21, -1e-7, 5e-324, 1.7976931348623157e308, 2147483647, -2147483648, 3.1415927410125732];
      const number = (): number => (random() < 0.5 ? pick(numbers) : (random() - 0.5) * 10 ** Math.floor(random() * 12));
      const text = (): string => pick(['', 'a', 'Grüße 🚀', '"quoted" \\ back/slash', 'tab\tnew\nline', '\u2028\u0000\u007f', 'x'.repeat(50)]);
      const names = Array.from({ length: 40 }, (_, i) => `${pick(['Head', 'Hand/Left', 'Ü', 'Tracker 🚀'])}/${i}`);
      for (let i = 0; i < 5000; i++) {
        const name = pick(names);
        const type = pick(['', 'Single', 'Int32', 'String', 'Vector2', 'Vector3', 'Vector4', 'Quaternion'] as const);
        let event: VREvent;
        if (type === '') event = { name, type };
        else if (type === 'Single') event = { name, type, data: number() };
        else if (type === 'Int32') event = { name, type, data: Math.trunc(random() * 4294967295) - 2147483648 };
        else if (type === 'String') event = { name, type, data: text() };
        else if (type === 'Vector2') event = { name, type, data: { x: number(), y: number() } };
        else if (type === 'Vector3') event = { name, type, data: { z: number(), y: number(), x: number() } };
        else event = { name, type, data: { w: number(), x: number(), y: number(), z: number() } } as VREvent;
        const ordered =
          type === '' || !('data' in event) || typeof event.data !== 'object'
            ? event
            : { ...event, data: Object.fromEntries(['x', 'y', 'z', 'w'].filter((k) => k in (event as { data: object }).data).map((k) => [k, (event as { data: Record<string, number> }).data[k]])) };
        const expected = reference(ordered as VREvent);
        assert.equal(encodeEvent(event), expected, `event ${i}`);
        assert.deepEqual(OutgoingEvent.of(event).frame, frameJson(expected));
      }
    });
  });

  describe('rejects invalid events with a coded error', () => {
    const badDecodes: Array<[string, string, ErrorCode]> = [
      ['not JSON', '{"m_Name":', 'ERR_INVALID_JSON'],
      ['empty text', '', 'ERR_INVALID_JSON'],
      ['an array', '[1,2]', 'ERR_MINVR_EVENT'],
      ['a string', '"m_Name"', 'ERR_MINVR_EVENT'],
      ['null', 'null', 'ERR_MINVR_EVENT'],
      ['no m_Name', '{"m_DataTypeName":""}', 'ERR_MINVR_EVENT'],
      ['numeric m_Name', '{"m_Name":1,"m_DataTypeName":""}', 'ERR_MINVR_EVENT'],
      ['Single as string', '{"m_Name":"a","m_DataTypeName":"Single","m_Data":"1"}', 'ERR_MINVR_EVENT'],
      ['Single absent', '{"m_Name":"a","m_DataTypeName":"Single"}', 'ERR_MINVR_EVENT'],
      ['Single null', '{"m_Name":"a","m_DataTypeName":"Single","m_Data":null}', 'ERR_MINVR_EVENT'],
      ['Single overflowing to Infinity', '{"m_Name":"a","m_DataTypeName":"Single","m_Data":1e400}', 'ERR_MINVR_EVENT'],
      ['Int32 fraction', '{"m_Name":"a","m_DataTypeName":"Int32","m_Data":1.5}', 'ERR_MINVR_EVENT'],
      ['Int32 too large', '{"m_Name":"a","m_DataTypeName":"Int32","m_Data":2147483648}', 'ERR_MINVR_EVENT'],
      ['Int32 too small', '{"m_Name":"a","m_DataTypeName":"Int32","m_Data":-2147483649}', 'ERR_MINVR_EVENT'],
      ['Int32 boolean', '{"m_Name":"a","m_DataTypeName":"Int32","m_Data":true}', 'ERR_MINVR_EVENT'],
      ['String number', '{"m_Name":"a","m_DataTypeName":"String","m_Data":5}', 'ERR_MINVR_EVENT'],
      ['String absent', '{"m_Name":"a","m_DataTypeName":"String"}', 'ERR_MINVR_EVENT'],
      ['Vector2 missing y', '{"m_Name":"a","m_DataTypeName":"Vector2","m_Data":{"x":1}}', 'ERR_MINVR_EVENT'],
      ['Vector3 array', '{"m_Name":"a","m_DataTypeName":"Vector3","m_Data":[1,2,3]}', 'ERR_MINVR_EVENT'],
      ['Vector3 string component', '{"m_Name":"a","m_DataTypeName":"Vector3","m_Data":{"x":1,"y":"2","z":3}}', 'ERR_MINVR_EVENT'],
      ['Vector4 missing w', '{"m_Name":"a","m_DataTypeName":"Vector4","m_Data":{"x":1,"y":2,"z":3}}', 'ERR_MINVR_EVENT'],
      ['Quaternion null component', '{"m_Name":"a","m_DataTypeName":"Quaternion","m_Data":{"x":0,"y":0,"z":0,"w":null}}', 'ERR_MINVR_EVENT'],
      ['Quaternion absent', '{"m_Name":"a","m_DataTypeName":"Quaternion"}', 'ERR_MINVR_EVENT'],
      ['GameObject fractional id', '{"m_Name":"a","m_DataTypeName":"GameObject","m_Data":{"instanceID":1.5}}', 'ERR_MINVR_EVENT'],
      ['GameObject number', '{"m_Name":"a","m_DataTypeName":"GameObject","m_Data":7}', 'ERR_MINVR_EVENT'],
    ];
    for (const [label, json, code] of badDecodes) {
      it(`decoding ${label}: ${code}`, () => {
        const error = rejects(() => decodeEvent(json), code);
        assert.ok(error instanceof ProtocolError);
      });
    }

    const badEncodes: Array<[string, unknown]> = [
      ['Vector2 with an extra field', { name: 'a', type: 'Vector2', data: { x: 1, y: 2, z: 3 } }],
      ['Single NaN', { name: 'a', type: 'Single', data: NaN }],
      ['Single Infinity', { name: 'a', type: 'Single', data: Infinity }],
      ['Int32 fraction', { name: 'a', type: 'Int32', data: 0.5 }],
      ['Int32 out of range', { name: 'a', type: 'Int32', data: 2 ** 31 }],
      ['String number', { name: 'a', type: 'String', data: 1 }],
      ['Vector3 NaN component', { name: 'a', type: 'Vector3', data: { x: 1, y: NaN, z: 0 } }],
      ['Vector2 missing component', { name: 'a', type: 'Vector2', data: { x: 1 } }],
      ['Quaternion -Infinity', { name: 'a', type: 'Quaternion', data: { x: 0, y: 0, z: 0, w: -Infinity } }],
      ['no-data event with data', { name: 'a', type: '', data: 1 }],
      ['name not a string', { name: 5, type: '' }],
      ['type not a string', { name: 'a', type: 3 }],
      ['unknown type with NaN deep in data', { name: 'a', type: 'X', data: { list: [1, { v: NaN }] }, unknownType: true }],
      ['unknown type with a function', { name: 'a', type: 'X', data: { f: () => 1 }, unknownType: true }],
      ['not an object', 'event'],
    ];
    for (const [label, event] of badEncodes) {
      it(`encoding ${label}: ERR_MINVR_EVENT`, () => {
        rejects(() => encodeEvent(event as VREvent), 'ERR_MINVR_EVENT');
        rejects(() => encodeFrame(event as VREvent), 'ERR_MINVR_EVENT');
      });
    }

    describe('nesting of unknown data (a peer controls the depth)', () => {
      const nested = (depth: number): string => `{"m_Name":"Deep","m_DataTypeName":"My.Type","m_Data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      for (const depth of [65, 4000, 99000]) {
        it(`decoding m_Data nested ${depth.toLocaleString('en-US')} deep: ERR_MINVR_EVENT naming the limit of ${MAX_RAW_DEPTH}`, () => {
          const error = rejects(() => decodeEvent(nested(depth)), 'ERR_MINVR_EVENT');
          assert.match(error.message, new RegExp(`deeper than ${MAX_RAW_DEPTH} levels`));
        });
      }
      it('decoding m_Data nested 100,000 deep: ERR_MINVR_EVENT, refused before parsing (100,000 arrays are too many values)', () => {
        const error = rejects(() => decodeEvent(nested(100000)), 'ERR_MINVR_EVENT');
        assert.match(error.message, new RegExp(`more than ${MAX_JSON_VALUES} JSON values`));
      });
      it(`${MAX_RAW_DEPTH} levels are accepted, copied with structuredClone and sent back unchanged`, () => {
        const event = decodeEvent(nested(MAX_RAW_DEPTH));
        const copy = structuredClone((event as { data: unknown }).data);
        assert.equal(encodeEvent({ ...(event as UnknownEvent), data: copy }), nested(MAX_RAW_DEPTH));
        rejects(() => encodeEvent({ name: 'Deep', type: 'My.Type', data: JSON.parse(`${'['.repeat(MAX_RAW_DEPTH + 1)}${']'.repeat(MAX_RAW_DEPTH + 1)}`), unknownType: true }), 'ERR_MINVR_EVENT');
      });
      it('objects count as levels too; deep extra fields of a known type or of the event are ignored', () => {
        const objects = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        rejects(() => decodeEvent(`{"m_Name":"D","m_DataTypeName":"X","m_Data":${objects(MAX_RAW_DEPTH + 1)}}`), 'ERR_MINVR_EVENT');
        assert.equal(isUnknownEvent(decodeEvent(`{"m_Name":"D","m_DataTypeName":"X","m_Data":${objects(MAX_RAW_DEPTH)}}`)), true);
        const deep = '['.repeat(49000) + ']'.repeat(49000);
        assert.deepEqual(decodeEvent(`{"m_Name":"P","m_DataTypeName":"Vector2","m_Data":{"x":1,"y":2,"junk":${deep}},"extra":${deep}}`), { name: 'P', type: 'Vector2', data: { x: 1, y: 2 } });
      });
      it('a frame decoder reports the deep frame and decodes the next one', () => {
        const decoder = new FrameDecoder();
        const results = decoder.push(Buffer.concat([rawFrame(nested(100000)), encodeFrame({ name: 'after', type: 'Int32', data: 1 })]));
        assert.equal((results[0] as RealvirtualError).code, 'ERR_MINVR_EVENT');
        assert.deepEqual(results[1], { name: 'after', type: 'Int32', data: 1 });
      });
    });

    describe('width (a peer controls the number of values)', () => {
      const wide = (zeros: number): string => `{"m_Name":"W","m_DataTypeName":"X","m_Data":[${'0,'.repeat(zeros - 1)}0]}`;
      it(`${MAX_JSON_VALUES.toLocaleString('en-US')} values are accepted, one more is refused (ERR_MINVR_EVENT) before parsing`, () => {
        // {, two commas between the fields, [ and the commas between the zeros.
        assert.equal((decodeEvent(wide(MAX_JSON_VALUES - 3)) as { data: number[] }).data.length, MAX_JSON_VALUES - 3);
        const error = rejects(() => decodeEvent(wide(MAX_JSON_VALUES - 2)), 'ERR_MINVR_EVENT');
        assert.match(error.message, new RegExp(`more than ${MAX_JSON_VALUES} JSON values`));
      });
      it('a 16 MiB frame of 5.6 million empty objects is refused, and decoding goes on', () => {
        const objects = Math.floor((DEFAULT_MAX_FRAME - 64) / 3);
        const body = `{"m_Name":"W","m_DataTypeName":"X","m_Data":[${'{},'.repeat(objects - 1)}{}]}`;
        const decoder = new FrameDecoder();
        const results = decoder.push(Buffer.concat([rawFrame(body), encodeFrame({ name: 'after', type: '' })]));
        assert.equal((results[0] as RealvirtualError).code, 'ERR_MINVR_EVENT');
        assert.deepEqual(results[1], { name: 'after', type: '' });
      });
      it('commas, brackets and escaped quotes inside strings do not count', () => {
        const text = '[{\\",'.repeat(100000);
        const event = decodeEvent(JSON.stringify({ m_Name: 'S', m_DataTypeName: 'String', m_Data: text }));
        assert.equal((event as { data: string }).data, text);
      });
    });

    it('clips a huge event name in the message', () => {
      const error = rejects(() => decodeEvent(`{"m_Name":"${'n'.repeat(100000)}","m_DataTypeName":"Int32","m_Data":0.5}`), 'ERR_MINVR_EVENT');
      assert.ok(error.message.length < 400, `message of ${error.message.length} characters`);
    });

    it('names the event in the message', () => {
      const error = rejects(() => decodeEvent('{"m_Name":"Head/Position","m_DataTypeName":"Vector3","m_Data":{"x":1}}'), 'ERR_MINVR_EVENT');
      assert.match(error.message, /Head\/Position/);
      assert.match(error.message, /Vector3/);
    });
  });
});

describe('MinVR3 framing', () => {
  it('frames as little-endian length + ASCII JSON', () => {
    const frame = encodeFrame({ name: 'MinVR3/Shutdown', type: '' });
    const json = '{"m_Name":"MinVR3/Shutdown","m_DataTypeName":""}';
    assert.deepEqual([...frame.subarray(0, 4)], [json.length, 0, 0, 0]);
    assert.equal(frame.subarray(4).toString('ascii'), json);
    rejects(() => frameJson('{"m_Name":"ü","m_DataTypeName":""}'), 'ERR_MINVR_EVENT');
  });

  it('decodes a multi-frame buffer split at every byte boundary (in two and byte by byte)', () => {
    const sent: VREvent[] = [...SAMPLES, { name: '😀 Grüße', type: 'String', data: 'ñ' }];
    const stream = Buffer.concat([...sent.map((event) => encodeFrame(event)), rawFrame('{"m_Name":"Cpp","m_DataTypeName":"Int32","m_Data":3}\n')]);
    const expected = [...sent, { name: 'Cpp', type: 'Int32', data: 3 }];
    for (let split = 0; split <= stream.length; split++) {
      const decoder = new FrameDecoder();
      const got = [...decoder.push(stream.subarray(0, split)), ...decoder.push(stream.subarray(split))];
      assert.deepEqual(events(got), expected, `split at ${split}`);
      assert.equal(decoder.buffered, 0);
      assert.equal(decoder.inFrame, false);
    }
    const decoder = new FrameDecoder();
    const got: FrameResult[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...decoder.push(stream.subarray(i, i + 1)));
    assert.deepEqual(events(got), expected);
  });

  it('decodes three-way splits of two frames at every pair of boundaries', () => {
    const sent: VREvent[] = [
      { name: 'A', type: 'Vector3', data: { x: 1, y: 2, z: 3 } },
      { name: 'B', type: '' },
    ];
    const stream = Buffer.concat(sent.map((event) => encodeFrame(event)));
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const decoder = new FrameDecoder();
        const got = [...decoder.push(stream.subarray(0, i)), ...decoder.push(stream.subarray(i, j)), ...decoder.push(stream.subarray(j))];
        assert.deepEqual(events(got), sent, `split at ${i}, ${j}`);
      }
    }
  });

  it('decodes 1,000 frames in one chunk, in order', () => {
    const sent: VREvent[] = [];
    for (let i = 0; i < 1000; i++) sent.push({ name: `E${i}`, type: 'Int32', data: i });
    const decoder = new FrameDecoder();
    const got = decoder.push(Buffer.concat(sent.map((event) => encodeFrame(event))));
    assert.equal(got.length, 1000);
    assert.deepEqual(events(got), sent);
  });

  it('accepts a Uint8Array chunk', () => {
    const frame = encodeFrame({ name: 'U', type: 'Single', data: 1.5 });
    const decoder = new FrameDecoder();
    assert.deepEqual(events(decoder.push(new Uint8Array(frame))), [{ name: 'U', type: 'Single', data: 1.5 }]);
  });

  it('refuses an announced length above maxFrame, then refuses further input', () => {
    const decoder = new FrameDecoder({ maxFrame: 100 });
    const ok = encodeFrame({ name: 'ok', type: '' });
    const header = Buffer.alloc(4);
    header.writeUInt32LE(101, 0);
    const results = decoder.push(Buffer.concat([ok, header, Buffer.alloc(10)]));
    assert.equal(results.length, 2);
    assert.deepEqual(results[0], { name: 'ok', type: '' });
    const fatal = results[1];
    assert.ok(fatal instanceof ConnectionError);
    assert.equal(fatal.code, 'ERR_MINVR_FRAME_TOO_LARGE');
    assert.match(fatal.message, /101/);
    assert.match(fatal.message, /100/);
    assert.equal(decoder.failed, fatal);
    assert.deepEqual(decoder.push(ok), [fatal]);
    assert.equal(decoder.buffered, 0);

    // A frame of exactly maxFrame bytes is fine.
    const exact = new FrameDecoder({ maxFrame: ok.length - 4 });
    assert.deepEqual(events(exact.push(ok)), [{ name: 'ok', type: '' }]);
  });

  it('defaults maxFrame to 16 MiB and reports a huge length as soon as its header arrives', () => {
    const decoder = new FrameDecoder();
    assert.equal(decoder.maxFrame, DEFAULT_MAX_FRAME);
    assert.equal(DEFAULT_MAX_FRAME, 16 * 1024 * 1024);
    assert.deepEqual(decoder.push(Buffer.from([0xff, 0xff, 0xff])), []);
    const results = decoder.push(Buffer.from([0xff]));
    assert.equal(results.length, 1);
    assert.equal((results[0] as RealvirtualError).code, 'ERR_MINVR_FRAME_TOO_LARGE');
    const atLimit = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32LE(DEFAULT_MAX_FRAME, 0);
    assert.deepEqual(atLimit.push(header), []);
    assert.equal(atLimit.inFrame, true);
  });

  it('rejects a bad maxFrame option', () => {
    for (const maxFrame of [-1, 1.5, NaN, 2 ** 32, '10']) {
      assert.throws(() => new FrameDecoder({ maxFrame: maxFrame as number }), OptionError);
    }
  });

  it('reports a frame of invalid JSON and goes on with the next frame', () => {
    const decoder = new FrameDecoder();
    const stream = Buffer.concat([
      rawFrame('{"m_Name": not json'),
      encodeFrame({ name: 'good', type: 'Int32', data: 1 }),
      rawFrame(''),
      rawFrame('{"m_Name":"bad","m_DataTypeName":"Vector2","m_Data":{"x":1}}'),
      rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
      encodeFrame({ name: 'after', type: 'String', data: 'still here' }),
    ]);
    for (const input of [[stream], [...stream].map((byte) => Buffer.from([byte]))]) {
      const results: FrameResult[] = [];
      for (const chunk of input) results.push(...decoder.push(chunk));
      assert.equal(results.length, 6);
      const codes = results.map((result) => (result instanceof RealvirtualError ? result.code : undefined));
      assert.deepEqual(codes, ['ERR_INVALID_JSON', undefined, 'ERR_INVALID_JSON', 'ERR_MINVR_EVENT', 'ERR_INVALID_UTF8', undefined]);
      for (const result of results) if (result instanceof RealvirtualError) assert.ok(result instanceof ProtocolError);
      assert.deepEqual(results[1], { name: 'good', type: 'Int32', data: 1 });
      assert.deepEqual(results[5], { name: 'after', type: 'String', data: 'still here' });
      assert.equal(decoder.failed, undefined);
    }
  });

  it('accepts raw UTF-8 from a lenient sender', () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(events(decoder.push(rawFrame('{"m_Name":"Grüße 😀","m_DataTypeName":""}'))), [{ name: 'Grüße 😀', type: '' }]);
  });

  it('assembles a large frame sent in many small chunks', () => {
    const big = 'x'.repeat(1 << 20);
    const frame = encodeFrame({ name: 'big', type: 'String', data: big });
    const decoder = new FrameDecoder();
    const results: FrameResult[] = [];
    for (let offset = 0; offset < frame.length; offset += 1000) results.push(...decoder.push(frame.subarray(offset, offset + 1000)));
    assert.deepEqual(events(results), [{ name: 'big', type: 'String', data: big }]);
  });

  it('assembles frames trickled in chunks of 1 to 9 bytes, also when held chunks are copied together', () => {
    const random = seededRandom(7);
    const big = 'y'.repeat(100 * 1024);
    const wire = Buffer.concat([encodeFrame({ name: 'big', type: 'String', data: big }), encodeFrame({ name: 'n', type: 'Int32', data: 3 }), encodeFrame({ name: 'big2', type: 'String', data: big })]);
    const decoder = new FrameDecoder();
    const results: FrameResult[] = [];
    for (let offset = 0; offset < wire.length;) {
      const size = 1 + Math.floor(random() * 9);
      results.push(...decoder.push(Buffer.from(wire.subarray(offset, offset + size))));
      offset += size;
      if (offset < wire.length) assert.ok(decoder.buffered > 0 || decoder.inFrame === false);
    }
    assert.deepEqual(events(results), [
      { name: 'big', type: 'String', data: big },
      { name: 'n', type: 'Int32', data: 3 },
      { name: 'big2', type: 'String', data: big },
    ]);
    assert.equal(decoder.buffered, 0);
  });

  it('release() lets go of an incomplete frame; the decoder is empty afterwards', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame({ name: 'cut', type: 'String', data: 'z'.repeat(5000) });
    for (let i = 0; i < 3000; i++) decoder.push(frame.subarray(i, i + 1));
    assert.equal(decoder.buffered, 3000 - 4, 'the bytes after the 4-byte header');
    decoder.release();
    assert.equal(decoder.buffered, 0);
    assert.equal(decoder.inFrame, false);
    assert.deepEqual(events(decoder.push(encodeFrame({ name: 'whole', type: '' }))), [{ name: 'whole', type: '' }]);
  });
});
