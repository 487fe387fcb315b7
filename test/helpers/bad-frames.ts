/**
 * The table of bad frames that test/engine/bad-input.test.ts sends to the server and to
 * the client: what is sent, which codes must be reported, whether the connection must
 * be closed (and with which code), and what must hold afterwards.
 */
import assert from 'assert/strict';
import { Endpoint, ErrorCode } from '../../engine';
import { MAX_CONFIG_DEPTH } from '../../engine/realvirtual/messages';
import { WAIT_MS } from './events';
import { Target } from './targets';

export interface Case {
  what: string;
  frame: string | Buffer | (() => string | Buffer);
  /** Send as a binary frame (otherwise text, even when the bytes are not UTF-8). */
  binary?: boolean;
  /** Codes that must be reported, each at least once. */
  codes?: ErrorCode[];
  /** The endpoint must close the connection with this code (otherwise it stays open). */
  closeCode?: number;
  after?(endpoint: Endpoint, target: Target): void | Promise<void>;
}

const deep = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const MiB = 1024 * 1024;
const own = (record: object, name: string): unknown => Object.getOwnPropertyDescriptor(record, name)?.value;

/** Sends config_get and resolves with the config_answer: the configuration is still encodable. */
async function configAnswer(target: Target): Promise<Record<string, unknown>> {
  const peer = target.peer();
  const from = peer.mark();
  peer.send({ type: 'config_get', version: 2 });
  const answer = await peer.waitFor((frame) => frame.type === 'config_answer', 'a config_answer', WAIT_MS, from);
  return answer.config as Record<string, unknown>;
}

export const CASES: Case[] = [
  {
    what: 'a binary frame (with valid JSON inside)',
    frame: Buffer.from('{"type":"data","signals":{"Bin":1}}'),
    binary: true,
    codes: ['ERR_BINARY_FRAME'],
    after: (e) => assert.equal(e.values().Bin, undefined),
  },
  {
    what: 'invalid UTF-8 in a text frame',
    frame: Buffer.concat([Buffer.from('{"type":"data","signals":{"Utf":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('"}}')]),
    codes: ['ERR_INVALID_UTF8'],
    closeCode: 1007,
    after: (e) => assert.equal(e.values().Utf, undefined),
  },
  { what: 'an empty text frame', frame: '', codes: ['ERR_INVALID_JSON'] },
  { what: 'text that is not JSON', frame: '{"type":"data",', codes: ['ERR_INVALID_JSON'] },
  { what: 'JSON with single quotes', frame: "{'type':'data','signals':{}}", codes: ['ERR_INVALID_JSON'] },
  { what: 'a JSON number', frame: '42', codes: ['ERR_NOT_AN_OBJECT'] },
  { what: 'JSON null', frame: 'null', codes: ['ERR_NOT_AN_OBJECT'] },
  { what: 'a JSON array', frame: '[{"type":"data"}]', codes: ['ERR_NOT_AN_OBJECT'] },
  { what: 'arrays nested 1,000,000 deep', frame: () => deep(1e6), codes: ['ERR_NOT_AN_OBJECT'] },
  {
    what: 'a signal value nested 100,000 deep',
    frame: () => `{"type":"data","signals":{"Deep":${deep(1e5)},"Shallow":1}}`,
    codes: ['ERR_INVALID_VALUE'],
    after: (e) => {
      assert.equal(e.values().Deep, undefined);
      assert.equal(e.values().Shallow, 1);
    },
  },
  {
    what: 'a config_set nested 10,000 deep',
    frame: () => `{"type":"config_set","version":2,"config":{"Deep":${deep(1e4)}}}`,
    codes: ['ERR_INVALID_FIELD'],
    async after(e, target) {
      assert.equal(own(e.config, 'Deep'), undefined);
      assert.equal((await configAnswer(target)).Deep, undefined, 'config_get is still answered');
    },
  },
  {
    what: `a config_set nested ${MAX_CONFIG_DEPTH} deep (the limit) is kept`,
    frame: () => `{"type":"config_set","version":2,"config":{"Nested":${deep(MAX_CONFIG_DEPTH - 1)}}}`,
    async after(e, target) {
      assert.ok(Array.isArray(own(e.config, 'Nested')));
      assert.ok(Array.isArray((await configAnswer(target)).Nested));
    },
  },
  {
    what: 'an 8 MiB string value (beyond maxTextBytes)',
    frame: () => JSON.stringify({ type: 'data', signals: { Huge: 'h'.repeat(8 * MiB) } }),
    codes: ['ERR_VALUE_TOO_LARGE'],
    after: (e) => assert.equal(e.values().Huge, undefined),
  },
  {
    what: 'a 1 MiB signal name with an invalid value',
    frame: () => JSON.stringify({ type: 'data', signals: { ['N'.repeat(MiB)]: null } }),
    codes: ['ERR_INVALID_VALUE'],
    after: (_e, target) => {
      const longest = Math.max(...target.logger.lines.map((line) => line.text.length));
      assert.ok(longest < 1000, `a log line of ${longest} characters`);
    },
  },
  // Wrong types, field by field.
  { what: 'a numeric type', frame: '{"type":5}', codes: ['ERR_MISSING_TYPE'] },
  { what: 'no type', frame: '{"signals":{"A":1}}', codes: ['ERR_MISSING_TYPE'] },
  { what: 'an unknown type', frame: '{"type":"hello","version":2}', after: (e) => assert.equal(e.values().hello, undefined) },
  { what: 'version as text', frame: '{"type":"data","version":"2","signals":{"V":1}}', codes: ['ERR_INVALID_FIELD'], after: (e) => assert.equal(e.values().V, undefined) },
  { what: 'an init name that is a number', frame: '{"type":"init","version":2,"name":7}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'an init name that is an object', frame: '{"type":"init","version":2,"name":{"__proto__":1}}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'data without signals', frame: '{"type":"data"}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'signals as an array', frame: '{"type":"data","signals":[1,2]}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'signals as text', frame: '{"type":"data","signals":"A"}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'snapshot signals null', frame: '{"type":"snapshot","signals":null}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'subscribe as text', frame: '{"type":"subscribe","version":2,"subscribe":"A"}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'subscribe with a number and null', frame: '{"type":"subscribe","version":2,"subscribe":[1,null]}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'import_answer signals as a number', frame: '{"type":"import_answer","version":2,"signals":5}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'import_answer signalTypes as an array', frame: '{"type":"import_answer","version":2,"signals":{},"signalTypes":[]}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'import_answer with a numeric signal type', frame: '{"type":"import_answer","version":2,"signals":{"A":1},"signalTypes":{"A":5}}', codes: ['ERR_INVALID_VALUE'] },
  { what: 'config_set config as an array', frame: '{"type":"config_set","version":2,"config":[]}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'config_answer config as text', frame: '{"type":"config_answer","version":2,"config":"x"}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'config_result success as text', frame: '{"type":"config_result","version":2,"success":"yes"}', codes: ['ERR_INVALID_FIELD'] },
  { what: 'config_result message as a number', frame: '{"type":"config_result","version":2,"success":true,"message":5}', codes: ['ERR_INVALID_FIELD'] },
  {
    what: 'values no signal can carry (null, object, array, 1e400 = Infinity)',
    frame: '{"type":"data","signals":{"N":null,"O":{},"A":[],"Inf":1e400,"Ok":2}}',
    codes: ['ERR_INVALID_VALUE'],
    after: (e) =>
      assert.deepEqual(
        ['N', 'O', 'A', 'Inf', 'Ok'].map((name) => e.values()[name]),
        [undefined, undefined, undefined, undefined, 2],
      ),
  },
  {
    what: 'values of the wrong type for declared signals',
    frame: '{"type":"data","signals":{"Flag":"maybe","Level":1e12}}',
    codes: ['ERR_TYPE_MISMATCH'],
    after: (e) => assert.deepEqual([e.values().Flag, e.values().Level], [false, 0]),
  },
  { what: 'values for the signals we write', frame: '{"type":"data","signals":{"Speed":99,"Label":"theirs"}}' },
  // Names that are prototypes' properties.
  {
    what: '"__proto__" and "constructor" with object values',
    frame: '{"type":"data","signals":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}',
    codes: ['ERR_INVALID_VALUE'],
  },
  {
    what: '"__proto__", "constructor" and "hasOwnProperty" as names with valid values',
    frame: '{"type":"data","signals":{"__proto__":5,"constructor":"c","hasOwnProperty":true}}',
    after: (e) => {
      const values = e.values();
      assert.deepEqual([own(values, '__proto__'), own(values, 'constructor'), own(values, 'hasOwnProperty')], [5, 'c', true]);
    },
  },
  { what: 'a top-level "__proto__" key', frame: '{"__proto__":{"polluted":true},"type":"data","signals":{"P":1}}', after: (e) => assert.equal(e.values().P, 1) },
  { what: 'a subscribe to "__proto__" and "constructor"', frame: '{"type":"subscribe","version":2,"subscribe":["__proto__","constructor","toString"]}' },
  {
    what: 'a config_set with "__proto__" and "constructor" keys',
    frame: '{"type":"config_set","version":2,"config":{"__proto__":{"polluted":true},"constructor":1}}',
    async after(e, target) {
      assert.equal(own(e.config, 'constructor'), 1);
      assert.equal(Object.getPrototypeOf(e.config), Object.prototype);
      assert.equal(own(await configAnswer(target), 'constructor'), 1);
    },
  },
  { what: 'an import_answer naming "__proto__"', frame: '{"type":"import_answer","version":2,"signals":{"__proto__":1},"signalTypes":{"__proto__":"PLCInputInt","constructor":"PLCOutputBool"}}' },
  // Sheer size.
  {
    what: '100,000 invalid values in one message',
    frame: () => JSON.stringify({ type: 'data', signals: Object.fromEntries(Array.from({ length: 100000 }, (_, i) => [`Bad${i}`, [i]])) }),
    codes: ['ERR_INVALID_VALUE'],
  },
  {
    what: 'a frame over maxPayload (the default, 16 MiB)',
    frame: () => JSON.stringify({ type: 'data', signals: { TooBig: 't'.repeat(16 * MiB) } }),
    codes: ['ERR_PAYLOAD_TOO_LARGE'],
    closeCode: 1009,
    after: (e, target) => {
      assert.equal(e.values().TooBig, undefined);
      const error = target.problems.find((problem) => problem.code === 'ERR_PAYLOAD_TOO_LARGE');
      assert.match(String(error?.message), /larger than maxPayload \(16777216 bytes\).*1009/);
    },
  },
  // Last: every later settle() round trip would carry these 100,000 signals.
  {
    what: '100,000 signals in one message',
    frame: () => JSON.stringify({ type: 'data', signals: Object.fromEntries(Array.from({ length: 100000 }, (_, i) => [`Many${i}`, i])) }),
    after: (e) => {
      assert.equal(e.values().Many0, 0);
      assert.equal(e.values().Many99999, 99999);
    },
  },
];
