import assert from 'node:assert/strict';
import { ErrorCode, ProtocolError, RealvirtualError, SignalError } from '../../engine/errors';
import { encode, encodeMessage, encodeSignals, isKnownType, Message, MESSAGE_TYPES, ParsedMessage, parseMessage, PROTOCOL_VERSION, UnknownMessage } from '../../engine/realvirtual/messages';
import { REFERENCE } from '../helpers/reference-examples';

/** Parses a frame that must be a known message. */
function parsed(frame: string | Buffer): ParsedMessage {
  const result = parseMessage(frame);
  if (result instanceof ProtocolError) assert.fail(`expected a message, got ${result.code}: ${result.message}`);
  assert.equal(result.kind, 'message', JSON.stringify(result));
  return result as ParsedMessage;
}

/** Parses a frame that must be a known message with nothing rejected. */
function message(frame: string | Buffer): Message {
  const result = parsed(frame);
  assert.deepEqual(result.rejected, []);
  return result.message;
}

/** Parses a frame that must fail with the given code. */
function failure(frame: string | Buffer, code: ErrorCode, isBinary = false): ProtocolError {
  const result = parseMessage(frame, isBinary);
  assert.ok(result instanceof ProtocolError, `expected ${code}, got ${JSON.stringify(result)}`);
  assert.ok(result instanceof RealvirtualError);
  assert.equal(result.code, code);
  assert.equal(result.name, 'ProtocolError');
  assert.ok(result.message.length > 0);
  return result;
}

/**
 * The parser sets optional fields it did not find (version, name) to undefined;
 * JSON and users see no difference, but deepStrictEqual does. Drops such keys.
 */
function defined<T extends object>(value: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = field;
  }
  return out as Partial<T>;
}

function noPollution(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  assert.equal(typeof ({} as Record<string, unknown>).constructor, 'function');
  assert.equal({}.constructor, Object);
}

describe('engine/realvirtual/messages', () => {
  it('speaks protocol version 2 and knows the ten message types of the reference', () => {
    assert.equal(PROTOCOL_VERSION, 2);
    assert.deepEqual([...MESSAGE_TYPES].sort(), Object.keys(REFERENCE).sort());
    for (const type of MESSAGE_TYPES) assert.equal(isKnownType(type), true);
    assert.equal(isKnownType('hello'), false);
    assert.equal(isKnownType('Data'), false);
  });

  describe('parseMessage with the reference examples', () => {
    it('init', () => {
      assert.deepEqual(message(REFERENCE.init), { type: 'init', version: 2, name: 'MyClient' });
    });

    it('data', () => {
      const result = message(REFERENCE.data);
      assert.deepEqual(defined(result), {
        type: 'data',
        signals: { Sensor1: true, DriveSpeed: 150.5, MotorOn: false, Counter: 42, Status: 'Running' },
      });
      assert.equal(result.version, undefined);
    });

    it('import_request', () => {
      assert.deepEqual(message(REFERENCE.import_request), { type: 'import_request', version: 2 });
    });

    it('import_answer', () => {
      assert.deepEqual(message(REFERENCE.import_answer), {
        type: 'import_answer',
        version: 2,
        signals: { Sensor1: true, DriveSpeed: 0, Counter: 0 },
        signalTypes: { Sensor1: 'PLCInputBool', DriveSpeed: 'PLCInputFloat', Counter: 'PLCOutputInt' },
      });
    });

    it('subscribe', () => {
      assert.deepEqual(message(REFERENCE.subscribe), { type: 'subscribe', version: 2, subscribe: ['Sensor1', 'DriveSpeed', 'Counter'] });
    });

    it('snapshot', () => {
      const result = message(REFERENCE.snapshot);
      assert.deepEqual(defined(result), { type: 'snapshot', signals: { Sensor1: true, DriveSpeed: 0, Counter: 0 } });
      assert.equal(result.version, undefined);
    });

    it('config_get', () => {
      assert.deepEqual(message(REFERENCE.config_get), { type: 'config_get', version: 2 });
    });

    it('config_answer keeps the whole application-specific config', () => {
      assert.deepEqual(message(REFERENCE.config_answer), {
        type: 'config_answer',
        version: 2,
        config: {
          publishIntervalMs: 5,
          loggingLevel: 'Information',
          browsePaths: [{ prefix: 'plc/app/Application/sym', direction: 'input', recursive: true }],
        },
      });
    });

    it('config_set', () => {
      assert.deepEqual(message(REFERENCE.config_set), {
        type: 'config_set',
        version: 2,
        config: {
          publishIntervalMs: 10,
          loggingLevel: 'Debug',
          browsePaths: [{ prefix: 'plc/app/Application/sym', direction: 'input', recursive: true }],
        },
      });
    });

    it('config_result', () => {
      assert.deepEqual(message(REFERENCE.config_result), {
        type: 'config_result',
        version: 2,
        success: true,
        message: 'Configuration saved and applied',
      });
    });

    it('accepts a UTF-8 Buffer text frame', () => {
      assert.deepEqual(message(Buffer.from('{"type":"init","version":2,"name":"Ünïcødé ✓"}', 'utf8')), { type: 'init', version: 2, name: 'Ünïcødé ✓' });
    });
  });

  describe('parseMessage details', () => {
    it('accepts every type without a version', () => {
      const frames: Record<string, string> = {
        init: '{"type":"init","name":"A"}',
        data: '{"type":"data","signals":{}}',
        import_request: '{"type":"import_request"}',
        import_answer: '{"type":"import_answer","signals":{},"signalTypes":{}}',
        subscribe: '{"type":"subscribe","subscribe":[]}',
        snapshot: '{"type":"snapshot","signals":{"a":1}}',
        config_get: '{"type":"config_get"}',
        config_answer: '{"type":"config_answer","config":{}}',
        config_set: '{"type":"config_set","config":{"a":1}}',
        config_result: '{"type":"config_result","success":false,"message":"no"}',
      };
      for (const type of MESSAGE_TYPES) {
        const result = message(frames[type]);
        assert.equal(result.type, type);
        assert.equal(result.version, undefined, type);
      }
    });

    it('keeps a version other than 2', () => {
      assert.equal(message('{"type":"import_request","version":3}').version, 3);
      assert.equal(message('{"type":"data","version":1,"signals":{}}').version, 1);
    });

    it('accepts init without a name', () => {
      const result = message('{"type":"init","version":2}');
      assert.equal(result.type, 'init');
      assert.equal((result as { name?: string }).name, undefined);
    });

    it('accepts an empty subscribe list', () => {
      assert.deepEqual(message('{"type":"subscribe","version":2,"subscribe":[]}'), { type: 'subscribe', version: 2, subscribe: [] });
    });

    it('config_result without a message (or with null) gets an empty message', () => {
      assert.deepEqual(message('{"type":"config_result","version":2,"success":false}'), { type: 'config_result', version: 2, success: false, message: '' });
      assert.deepEqual(message('{"type":"config_result","version":2,"success":true,"message":null}'), { type: 'config_result', version: 2, success: true, message: '' });
    });

    it('import_answer may carry only signals or only signalTypes', () => {
      assert.deepEqual(message('{"type":"import_answer","signals":{"a":1}}'), { type: 'import_answer', version: undefined, signals: { a: 1 }, signalTypes: {} });
      assert.deepEqual(message('{"type":"import_answer","signalTypes":{"a":"PLCInputInt"}}'), { type: 'import_answer', version: undefined, signals: {}, signalTypes: { a: 'PLCInputInt' } });
    });

    it('import_answer rejects a non-string signal type per signal and keeps the others', () => {
      const result = parsed('{"type":"import_answer","signals":{"a":1,"b":2},"signalTypes":{"a":"PLCInputInt","b":5}}');
      assert.deepEqual(result.message, { type: 'import_answer', version: undefined, signals: { a: 1, b: 2 }, signalTypes: { a: 'PLCInputInt' } });
      assert.equal(result.rejected.length, 1);
      assert.ok(result.rejected[0] instanceof SignalError);
      assert.equal(result.rejected[0].code, 'ERR_INVALID_VALUE');
      assert.equal(result.rejected[0].signal, 'b');
      assert.ok(result.rejected[0].message.includes('"b"'));
    });

    it('ignores fields it does not know', () => {
      assert.deepEqual(message('{"type":"import_request","version":2,"extra":[1,2],"name":"x"}'), { type: 'import_request', version: 2 });
    });

    it('returns unknown types as {kind: "unknown", type}', () => {
      const result = parseMessage('{"type":"hello","version":2,"whatever":{}}');
      assert.ok(!(result instanceof ProtocolError));
      assert.deepEqual(result, { kind: 'unknown', type: 'hello', version: 2 } as UnknownMessage);
      const bare = parseMessage('{"type":"DATA"}');
      assert.ok(!(bare instanceof ProtocolError));
      assert.equal(bare.kind, 'unknown');
      assert.equal((bare as UnknownMessage).type, 'DATA');
      const empty = parseMessage('{"type":""}');
      assert.ok(!(empty instanceof ProtocolError));
      assert.equal(empty.kind, 'unknown');
    });
  });

  describe('parseMessage errors', () => {
    it('binary frames → ERR_BINARY_FRAME, even when they contain valid JSON', () => {
      failure(Buffer.from(REFERENCE.data), 'ERR_BINARY_FRAME', true);
      failure(REFERENCE.init, 'ERR_BINARY_FRAME', true);
      failure(Buffer.from([0xff, 0x00, 0x13]), 'ERR_BINARY_FRAME', true);
    });

    it('non-JSON → ERR_INVALID_JSON', () => {
      for (const frame of ['', ' ', 'hello', '{', '{"type":"data",}', "{'type':'data'}", '{"type":"data"} trailing', 'undefined', 'NaN']) {
        failure(frame, 'ERR_INVALID_JSON');
      }
      failure(Buffer.from('not json'), 'ERR_INVALID_JSON');
    });

    it('shortens a long non-JSON frame in the message', () => {
      const error = failure('x'.repeat(10000), 'ERR_INVALID_JSON');
      assert.ok(error.message.length < 300, `${error.message.length} characters`);
    });

    it('JSON that is not an object → ERR_NOT_AN_OBJECT', () => {
      const cases: Array<[string, string]> = [
        ['42', 'number'],
        ['-1.5', 'number'],
        ['"data"', 'string'],
        ['true', 'boolean'],
        ['[]', 'an array'],
        ['[{"type":"data","signals":{}}]', 'an array'],
        ['null', 'null'],
      ];
      for (const [frame, what] of cases) {
        const error = failure(frame, 'ERR_NOT_AN_OBJECT');
        assert.ok(error.message.includes(what), error.message);
      }
    });

    it('missing or non-string type → ERR_MISSING_TYPE', () => {
      for (const frame of ['{}', '{"version":2}', '{"signals":{"a":1}}', '{"type":null}', '{"type":1}', '{"type":{"name":"data"}}', '{"type":["data"]}', '{"type":true}']) {
        failure(frame, 'ERR_MISSING_TYPE');
      }
    });

    it('version that is not a number → ERR_INVALID_FIELD', () => {
      for (const frame of ['{"type":"init","version":"2"}', '{"type":"data","version":null,"signals":{}}', '{"type":"config_get","version":[2]}', '{"type":"unknown_type","version":{}}']) {
        const error = failure(frame, 'ERR_INVALID_FIELD');
        assert.match(error.message, /version/);
      }
    });

    it('signals that is not an object → ERR_INVALID_FIELD', () => {
      for (const type of ['data', 'snapshot', 'import_answer']) {
        for (const signals of ['[]', '[1,2]', '"x"', '1', 'true', 'null']) {
          const error = failure(`{"type":"${type}","signals":${signals}}`, 'ERR_INVALID_FIELD');
          assert.match(error.message, /signals/);
          assert.ok(error.message.includes(type), error.message);
        }
      }
      failure('{"type":"data"}', 'ERR_INVALID_FIELD');
      failure('{"type":"snapshot","version":2}', 'ERR_INVALID_FIELD');
      failure('{"type":"import_answer","version":2}', 'ERR_INVALID_FIELD');
    });

    it('signalTypes that is not an object → ERR_INVALID_FIELD', () => {
      for (const signalTypes of ['[]', '"PLCInputBool"', '1', 'null']) {
        const error = failure(`{"type":"import_answer","signals":{},"signalTypes":${signalTypes}}`, 'ERR_INVALID_FIELD');
        assert.match(error.message, /signalTypes/);
      }
    });

    it('subscribe that is not an array of strings → ERR_INVALID_FIELD', () => {
      for (const list of ['"Sensor1"', '{"Sensor1":true}', '[1]', '["a",2]', '["a",null]', '[["a"]]', 'null', 'true']) {
        const error = failure(`{"type":"subscribe","version":2,"subscribe":${list}}`, 'ERR_INVALID_FIELD');
        assert.match(error.message, /subscribe/);
      }
      failure('{"type":"subscribe","version":2}', 'ERR_INVALID_FIELD');
    });

    it('config that is not an object → ERR_INVALID_FIELD', () => {
      for (const type of ['config_answer', 'config_set']) {
        for (const config of ['[]', '"a=1"', '1', 'null', 'false']) {
          const error = failure(`{"type":"${type}","version":2,"config":${config}}`, 'ERR_INVALID_FIELD');
          assert.match(error.message, /config/);
        }
        failure(`{"type":"${type}","version":2}`, 'ERR_INVALID_FIELD');
      }
    });

    it('success that is not a boolean → ERR_INVALID_FIELD', () => {
      for (const success of ['"true"', '1', '0', 'null', '{}']) {
        const error = failure(`{"type":"config_result","version":2,"success":${success},"message":"ok"}`, 'ERR_INVALID_FIELD');
        assert.match(error.message, /success/);
      }
      failure('{"type":"config_result","version":2,"message":"ok"}', 'ERR_INVALID_FIELD');
    });

    it('config_result message or init name that is not a string → ERR_INVALID_FIELD', () => {
      failure('{"type":"config_result","version":2,"success":true,"message":42}', 'ERR_INVALID_FIELD');
      failure('{"type":"config_result","version":2,"success":true,"message":{}}', 'ERR_INVALID_FIELD');
      failure('{"type":"init","version":2,"name":42}', 'ERR_INVALID_FIELD');
      failure('{"type":"init","version":2,"name":null}', 'ERR_INVALID_FIELD');
    });
  });

  describe('per-signal rejection', () => {
    it('keeps the valid values of a data message and lists a SignalError per bad one', () => {
      const result = parsed('{"type":"data","signals":{"a":1,"bad1":null,"b":"x","bad2":{"v":1},"c":true,"bad3":[1,2],"d":2.5}}');
      assert.equal(result.message.type, 'data');
      assert.deepEqual((result.message as { signals: unknown }).signals, { a: 1, b: 'x', c: true, d: 2.5 });
      assert.deepEqual(
        result.rejected.map((error) => error.signal),
        ['bad1', 'bad2', 'bad3'],
      );
      for (const error of result.rejected) {
        assert.ok(error instanceof SignalError);
        assert.equal(error.code, 'ERR_INVALID_VALUE');
        assert.ok(error.message.includes(`"${error.signal}"`), error.message);
      }
    });

    it('keeps the original order of the valid signals', () => {
      const result = parsed('{"type":"snapshot","signals":{"z":1,"bad":null,"a":2,"m":3}}');
      assert.deepEqual(Object.keys((result.message as { signals: object }).signals), ['z', 'a', 'm']);
    });

    it('rejects every value when all are bad, leaving an empty record', () => {
      const result = parsed('{"type":"data","signals":{"a":null,"b":[],"c":{}}}');
      assert.deepEqual((result.message as { signals: unknown }).signals, {});
      assert.equal(result.rejected.length, 3);
    });

    it('rejects bad values in import_answer signals too', () => {
      const result = parsed('{"type":"import_answer","version":2,"signals":{"ok":1,"bad":null},"signalTypes":{"ok":"PLCInputInt","bad":"PLCInputInt"}}');
      const answer = result.message as { signals: unknown; signalTypes: unknown };
      assert.deepEqual(answer.signals, { ok: 1 });
      assert.deepEqual(answer.signalTypes, { ok: 'PLCInputInt', bad: 'PLCInputInt' });
      assert.deepEqual(
        result.rejected.map((error) => [error.code, error.signal]),
        [['ERR_INVALID_VALUE', 'bad']],
      );
    });

    it('passes a message without bad values through with every value', () => {
      const result = parsed('{"type":"data","signals":{"a":1,"b":false,"c":""}}');
      assert.deepEqual(result.rejected, []);
      assert.deepEqual((result.message as { signals: unknown }).signals, { a: 1, b: false, c: '' });
    });
  });

  describe('prototype safety', () => {
    it('parses "__proto__" and "constructor" as ordinary own signal names', () => {
      const result = parsed('{"type":"data","signals":{"__proto__":1,"constructor":2}}');
      assert.deepEqual(result.rejected, []);
      const signals = (result.message as { signals: Record<string, unknown> }).signals;
      assert.deepEqual(Object.keys(signals), ['__proto__', 'constructor']);
      assert.ok(Object.prototype.hasOwnProperty.call(signals, '__proto__'));
      assert.ok(Object.prototype.hasOwnProperty.call(signals, 'constructor'));
      assert.equal(Object.getOwnPropertyDescriptor(signals, '__proto__')?.value, 1);
      assert.equal(Object.getOwnPropertyDescriptor(signals, 'constructor')?.value, 2);
      assert.equal(Object.getPrototypeOf(signals), Object.prototype);
      assert.equal(JSON.stringify(signals), '{"__proto__":1,"constructor":2}');
      noPollution();
    });

    it('a "__proto__" whose value is an object is rejected and pollutes nothing', () => {
      const result = parsed('{"type":"data","signals":{"a":1,"__proto__":{"polluted":true}}}');
      const signals = (result.message as { signals: Record<string, unknown> }).signals;
      assert.deepEqual(
        result.rejected.map((error) => error.signal),
        ['__proto__'],
      );
      assert.equal(Object.getPrototypeOf(signals), Object.prototype);
      assert.equal(signals.polluted, undefined);
      assert.deepEqual(Object.keys(signals), ['a']);
      noPollution();
    });

    it('a "__proto__" at the top level of a message changes nothing', () => {
      const result = parsed('{"type":"data","__proto__":{"polluted":true},"signals":{"a":1}}');
      assert.equal(Object.getPrototypeOf(result.message), Object.prototype);
      assert.equal((result.message as unknown as Record<string, unknown>).polluted, undefined);
      noPollution();
    });

    it('filtering out a bad value keeps an own "__proto__" key placed before it', () => {
      const result = parsed('{"type":"data","signals":{"__proto__":1,"bad":null,"constructor":2}}');
      const signals = (result.message as { signals: Record<string, unknown> }).signals;
      assert.deepEqual(
        result.rejected.map((error) => error.signal),
        ['bad'],
      );
      assert.deepEqual(Object.keys(signals), ['__proto__', 'constructor']);
      assert.ok(Object.prototype.hasOwnProperty.call(signals, '__proto__'));
      assert.equal(Object.getOwnPropertyDescriptor(signals, '__proto__')?.value, 1);
      assert.equal(Object.getPrototypeOf(signals), Object.prototype);
      assert.equal(JSON.stringify(signals), '{"__proto__":1,"constructor":2}');
      noPollution();
    });

    it('filtering out a bad value keeps an own "__proto__" key placed after it', () => {
      const result = parsed('{"type":"data","signals":{"bad":[],"__proto__":"text","x":true}}');
      const signals = (result.message as { signals: Record<string, unknown> }).signals;
      assert.deepEqual(Object.keys(signals), ['__proto__', 'x']);
      assert.equal(Object.getOwnPropertyDescriptor(signals, '__proto__')?.value, 'text');
      assert.equal(Object.getPrototypeOf(signals), Object.prototype);
      noPollution();
    });

    it('keeps "__proto__" as an own key of signalTypes', () => {
      const answer = message('{"type":"import_answer","signals":{"__proto__":true},"signalTypes":{"__proto__":"PLCInputBool"}}') as { signals: object; signalTypes: object };
      assert.equal(Object.getOwnPropertyDescriptor(answer.signalTypes, '__proto__')?.value, 'PLCInputBool');
      assert.equal(Object.getPrototypeOf(answer.signalTypes), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(answer.signals, '__proto__')?.value, true);
      noPollution();
    });
  });

  describe('encodeMessage and encode', () => {
    const versioned: Message[] = [
      { type: 'init', version: 2, name: 'MyClient' },
      { type: 'import_request', version: 2 },
      {
        type: 'import_answer',
        version: 2,
        signals: { Sensor1: true, DriveSpeed: 0.5, Counter: 0, Status: 'Idle' },
        signalTypes: { Sensor1: 'PLCInputBool', DriveSpeed: 'PLCInputFloat', Counter: 'PLCOutputInt', Status: 'PLCOutputText' },
      },
      { type: 'subscribe', version: 2, subscribe: ['Sensor1', 'DriveSpeed', 'Counter'] },
      { type: 'config_get', version: 2 },
      { type: 'config_answer', version: 2, config: { publishIntervalMs: 5, nested: { list: [1, 'two', null, { three: true }] } } },
      { type: 'config_set', version: 2, config: { loggingLevel: 'Debug' } },
      { type: 'config_result', version: 2, success: false, message: 'invalid publishIntervalMs' },
    ];
    const unversioned: Message[] = [
      { type: 'data', signals: { Sensor1: true, DriveSpeed: 150.5, MotorOn: false, Counter: 42, Status: 'Running' } },
      { type: 'snapshot', signals: { Sensor1: true, DriveSpeed: 0, Counter: -7, Status: '' } },
    ];

    it('covers every message type', () => {
      assert.deepEqual([...versioned, ...unversioned].map((m) => m.type).sort(), [...MESSAGE_TYPES].sort());
    });

    for (const original of versioned) {
      it(`round-trips ${original.type} with "version": 2`, () => {
        const text = encodeMessage(original);
        assert.equal(JSON.parse(text).version, 2);
        assert.equal(JSON.parse(text).type, original.type);
        assert.deepEqual(message(text), original);
      });
    }

    for (const original of unversioned) {
      it(`round-trips ${original.type} without a version`, () => {
        const text = encodeMessage(original);
        assert.equal(Object.prototype.hasOwnProperty.call(JSON.parse(text), 'version'), false);
        assert.deepEqual(defined(message(text)), original);
      });
    }

    it('adds version 2 to a versioned type that has none', () => {
      for (const original of versioned) {
        const { version: _version, ...withoutVersion } = original;
        const text = encodeMessage(withoutVersion as Message);
        assert.equal(JSON.parse(text).version, PROTOCOL_VERSION, original.type);
        assert.deepEqual(message(text), original);
      }
    });

    it('keeps an explicit version on a versioned type', () => {
      assert.equal(JSON.parse(encodeMessage({ type: 'config_get', version: 3 })).version, 3);
    });

    it('never puts a version on data or snapshot', () => {
      const text = encodeMessage({ type: 'data', version: 2, signals: { a: 1 } });
      assert.equal(text, '{"type":"data","signals":{"a":1}}');
      assert.equal(encodeMessage({ type: 'snapshot', signals: {} }), '{"type":"snapshot","signals":{}}');
    });

    it('encodeSignals writes the reference layout', () => {
      assert.equal(encodeSignals('data', { Sensor1: true, Status: 'a "quoted" text' }), '{"type":"data","signals":{"Sensor1":true,"Status":"a \\"quoted\\" text"}}');
      assert.deepEqual(defined(message(encodeSignals('snapshot', { x: 1.25 }))), { type: 'snapshot', signals: { x: 1.25 } });
    });

    it('encode helpers build every versioned type with version 2', () => {
      const cases: Array<[string, Message]> = [
        [encode.init('Node-RED'), { type: 'init', version: 2, name: 'Node-RED' }],
        [encode.importRequest(), { type: 'import_request', version: 2 }],
        [encode.importAnswer({ a: 1 }, { a: 'PLCOutputInt' }), { type: 'import_answer', version: 2, signals: { a: 1 }, signalTypes: { a: 'PLCOutputInt' } }],
        [encode.subscribe(['a', 'b']), { type: 'subscribe', version: 2, subscribe: ['a', 'b'] }],
        [encode.configGet(), { type: 'config_get', version: 2 }],
        [encode.configAnswer({ k: 'v' }), { type: 'config_answer', version: 2, config: { k: 'v' } }],
        [encode.configSet({ k: 1 }), { type: 'config_set', version: 2, config: { k: 1 } }],
        [encode.configResult(true, 'Configuration saved and applied'), { type: 'config_result', version: 2, success: true, message: 'Configuration saved and applied' }],
      ];
      for (const [text, expected] of cases) {
        assert.equal(JSON.parse(text).version, 2, text);
        assert.deepEqual(message(text), expected);
      }
    });

    it('round-trips signal names "__proto__" and "constructor"', () => {
      const parsedSignals = (message('{"type":"data","signals":{"__proto__":1,"constructor":"c"}}') as unknown as { signals: Record<string, never> }).signals;
      const text = encodeSignals('data', parsedSignals);
      assert.equal(text, '{"type":"data","signals":{"__proto__":1,"constructor":"c"}}');
      const again = (message(text) as { signals: object }).signals;
      assert.deepEqual(Object.keys(again), ['__proto__', 'constructor']);
      assert.equal(Object.getOwnPropertyDescriptor(again, '__proto__')?.value, 1);
      noPollution();
    });
  });
});
