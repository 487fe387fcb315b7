/**
 * SignalFrameEncoder writes `data` and `snapshot` frames as bytes, numbers with fractions
 * without String(): every frame must parse to what encodeSignals gives, key for key and
 * number for number, however the names and values look and however large the frame is.
 */
import assert from 'assert/strict';
import { SignalFrameEncoder } from '../../engine/realvirtual/frame-encoder';
import { encodeSignals, SignalRecord } from '../../engine/realvirtual/messages';
import { SignalValue } from '../../engine/realvirtual/values';

type Entry = [string, SignalValue];

function recordOf(list: readonly Entry[]): SignalRecord {
  const record: SignalRecord = {};
  for (const [name, value] of list) Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  return record;
}

/** Encodes `list` and checks that the frame parses to the JSON of encodeSignals, in the same key order; returns the frame. */
function check(encoder: SignalFrameEncoder, list: readonly Entry[], type: 'data' | 'snapshot' = 'data'): Buffer {
  const frame = encoder.encode(
    type,
    list.map(([name]) => name),
    list.map(([, value]) => value),
  );
  const text = frame.toString('utf8');
  assert.ok(Buffer.from(text, 'utf8').equals(frame), 'well-formed UTF-8');
  const parsed = JSON.parse(text);
  const expected = JSON.parse(encodeSignals(type, recordOf(list)));
  assert.deepEqual(parsed, expected, text.slice(0, 300));
  assert.deepEqual(Object.keys(parsed.signals), Object.keys(expected.signals), 'the same order');
  return frame;
}

/** A number as a frame carries it: parsed back, it is the same double (JSON has no -0). */
function roundTrip(encoder: SignalFrameEncoder, value: number): number {
  return JSON.parse(encoder.encode('data', ['x'], [value]).toString()).signals.x;
}

/** A deterministic generator of doubles (xorshift), so that a failure can be repeated. */
function* doubles(count: number): Generator<number> {
  let state = 0x2545f491;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < count; i++) {
    const magnitude = 10 ** Math.floor(next() * 24 - 10);
    const decimals = Math.floor(next() * 12);
    const raw = (next() - 0.5) * magnitude;
    // Half of them with few decimals (what the fast path writes), half with all of their digits.
    yield i % 2 === 0 ? Math.round(raw * 10 ** decimals) / 10 ** decimals : raw;
  }
}

describe('SignalFrameEncoder', function () {
  it('writes the JSON of encodeSignals for awkward names and texts', function () {
    const encoder = new SignalFrameEncoder();
    const cases: Entry[][] = [
      [],
      [['A', 1]],
      [
        ['Speed', 1.5],
        ['On', true],
        ['Off', false],
        ['Label', 'text'],
        ['Empty', ''],
      ],
      [
        ['quote"name', 'va"lue'],
        ['back\\slash', 'a\\b'],
        ['new\nline', 'tab\t and \u0000 and \u001f'],
        ['ü ✓ 𝄞', 'ü ✓ 𝄞 and DEL \u007f'],
        ['\u2028', '\u2029'],
        ['é', 'a text that is ASCII up to the end é'],
      ],
      [
        ['lone \ud800 high', 'lone \udc00 low'],
        ['__proto__', 'p'],
        ['constructor', 2],
        ['', ''],
      ],
    ];
    for (const list of cases) {
      check(encoder, list, 'data');
      check(encoder, list, 'snapshot');
    }
    assert.equal(encoder.encode('data', ['a"b', 'On'], ['x\\y', true]).toString(), '{"type":"data","signals":{"a\\"b":"x\\\\y","On":true}}');
    assert.equal(encoder.encode('snapshot', [], []).toString(), '{"type":"snapshot","signals":{}}');
  });

  it('numbers parse back to the same double: edges, negative zero, large and small, integers and fractions', function () {
    const encoder = new SignalFrameEncoder();
    const edges = [
      0,
      -0,
      1,
      -1,
      0.5,
      -1.5,
      0.1,
      0.1 + 0.2,
      1 / 3,
      2.05,
      1234.55,
      0.000001,
      0.0000001,
      0.000000001,
      0.0000000011,
      123456789.12345679,
      2 ** 31 - 0.5,
      2 ** 31,
      2 ** 31 + 0.5,
      -(2 ** 31) - 0.25,
      2 ** 32 - 1,
      2147483647,
      -2147483648,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
      1e21,
      -1e21,
      1.7976931348623157e308,
      5e-324,
      -5e-324,
      2.2250738585072014e-308,
      Number.EPSILON,
      999999999.9999999,
      0.9999999999,
      9.999999999,
    ];
    for (const value of edges) {
      const parsed = roundTrip(encoder, value);
      assert.ok(Object.is(parsed, value === 0 ? 0 : value), `${value} came back as ${parsed}`);
      assert.equal(parsed, JSON.parse(JSON.stringify(value)), `${value} as JSON.stringify has it`);
    }
    let count = 0;
    for (const value of doubles(20000)) {
      const parsed = roundTrip(encoder, value);
      if (!Object.is(parsed, value === 0 ? 0 : value)) assert.fail(`${String(value)} came back as ${String(parsed)}`);
      count++;
    }
    assert.equal(count, 20000);
  });

  it('negative zero is written as 0, and numbers that JSON cannot carry as null, as JSON.stringify does', function () {
    const encoder = new SignalFrameEncoder();
    assert.equal(encoder.encode('data', ['z', 'n', 'p', 'm'], [-0, NaN, Infinity, -Infinity]).toString(), '{"type":"data","signals":{"z":0,"n":null,"p":null,"m":null}}');
  });

  it('writes integers and short fractions as String() does, digit for digit', function () {
    const encoder = new SignalFrameEncoder();
    for (const value of [0, 7, 10, 99, 100, 123456, 2147483647, -5, 0.5, 2.05, 10.25, -3.125, 1234.55, 0.001, 100.1, 65535.5]) {
      assert.equal(encoder.encode('data', ['v'], [value]).toString(), `{"type":"data","signals":{"v":${String(value)}}}`);
    }
  });

  it('stays right when the names change, move or shrink from one frame to the next', function () {
    const encoder = new SignalFrameEncoder();
    const names = Array.from({ length: 50 }, (_, i) => `Signal_${i}`);
    const lists: Entry[][] = [
      names.map((name, i) => [name, i + 0.25]),
      names.map((name, i) => [name, i % 2 === 0]),
      [...names].reverse().map((name, i) => [name, `text ${i}`]),
      names.slice(10, 20).map((name, i) => [name, -i]),
      names.map((name, i) => [i % 3 === 0 ? `${name} "quoted"` : name, i * 1.5]),
      names.map((name, i) => [name, i + 0.25]),
    ];
    for (const list of lists) check(encoder, list);
  });

  it('frames beyond its scratch buffer: large frames come out whole, and frames handed out stay as they were', function () {
    const encoder = new SignalFrameEncoder();
    const small = check(encoder, [['A', 1.5]]);
    const smallText = small.toString();
    const long = 'x'.repeat(2000);
    // About 100 KiB, then about 2 MiB: the second one is handed out with its scratch buffer.
    const medium = check(
      encoder,
      Array.from({ length: 50 }, (_, i): Entry => [`Text_${i}`, `${long}${i}`]),
    );
    const mediumText = medium.toString();
    const large = check(
      encoder,
      Array.from({ length: 1000 }, (_, i): Entry => [`Text_${i}`, `${long}ü${i}`]),
    );
    assert.ok(large.length > 2 * 1000 * 1000, `${large.length} bytes`);
    const largeText = large.toString();
    const after = check(
      encoder,
      Array.from({ length: 3000 }, (_, i): Entry => [`Number_${i}`, i / 8]),
    );
    assert.equal(small.toString(), smallText);
    assert.equal(medium.toString(), mediumText);
    assert.equal(large.toString(), largeText, 'not overwritten by the next frame');
    assert.equal(JSON.parse(after.toString()).signals.Number_2999, 2999 / 8);
  });
});
