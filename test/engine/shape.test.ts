/**
 * The fast path for frames with a known shape (engine/realvirtual/shape.ts): reading the
 * frame's bytes, it must read exactly what JSON.parse reads of the decoded text, and give up (null) on everything else, so that
 * the general parser handles and reports it. The server test checks that a peer's
 * repeated frames give the same events through it as through the general path.
 */
import assert from 'node:assert/strict';
import { DataEvent, RealvirtualError, RealvirtualServer, ShapeToken } from '../../engine';
import { ShapeReader } from '../../engine/realvirtual/shape';
import { SignalValue } from '../../engine/realvirtual/values';
import { nextEvent, RawClient, Resources } from '../helpers/events';
import { seededRandom } from '../helpers/faults';

/** Reads `text` by its shape and checks the result against JSON.parse; returns whether the fast path took it. */
function agreesWithJson(text: string, shape: string[]): boolean {
  const values: SignalValue[] = shape.map(() => 0);
  const type = new ShapeReader(shape).read(Buffer.from(text), values);
  if (type === null) return false;
  let parsed: { type: unknown; signals: Record<string, unknown> };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    assert.fail(`the fast path read a frame JSON.parse rejects (${(error as Error).message}): ${text}`);
  }
  assert.equal(type, parsed.type, text);
  assert.deepEqual(
    Object.keys(parsed),
    ['type', 'signals'].filter((key) => key in parsed).sort((a, b) => text.indexOf(`"${a}"`) - text.indexOf(`"${b}"`)),
  );
  assert.deepEqual(Object.keys(parsed.signals), shape, text);
  shape.forEach((name, i) => assert.ok(Object.is(values[i], parsed.signals[name]), `${name}: read ${String(values[i])}, JSON.parse ${String(parsed.signals[name])} in ${text}`));
  return true;
}

const SHAPE = ['A', 'B', 'Speed', 'Label', 'Ünïcode ✓', '__proto__'];

function frame(values: string[], options: { space?: string; signalsFirst?: boolean; type?: string } = {}): string {
  const s = options.space ?? '';
  const members = SHAPE.map((name, i) => `${s}"${name}"${s}:${s}${values[i]}`).join(`${s},`);
  const signals = `"signals"${s}:${s}{${members}${s}}`;
  const type = `"type"${s}:${s}"${options.type ?? 'data'}"`;
  return `${s}{${s}${options.signalsFirst ? `${signals},${s}${type}` : `${type},${s}${signals}`}${s}}${s}`;
}

describe('engine: reading frames by their shape', function () {
  it('reads what JSON.parse reads: compact, with whitespace (as Python sends), members in either order, data and snapshot', function () {
    const values = ['true', 'false', '12.5', '"a label, with: punctuation {}[]"', '"ü ✓ \u2028"', '-7'];
    for (const space of ['', ' ', '\n\t  ']) {
      for (const signalsFirst of [false, true]) {
        for (const type of ['data', 'snapshot']) {
          assert.ok(agreesWithJson(frame(values, { space, signalsFirst, type }), SHAPE), `space ${JSON.stringify(space)}, signalsFirst ${signalsFirst}, ${type}`);
        }
      }
    }
  });

  it('reads every JSON number exactly as JSON.parse does', function () {
    const numbers = [
      '0',
      '-0',
      '0.0',
      '-0.0',
      '1',
      '-1',
      '10',
      '0.1',
      '0.30000000000000004',
      '123456789012345',
      '1234567890123456',
      '12345678901234567890',
      '9007199254740993',
      '0.000001',
      '1.5e3',
      '1E-7',
      '-2.5E+2',
      '1e22',
      '1e23',
      '2.2250738585072014e-308',
      '5e-324',
      '1.7976931348623157e308',
      '3.141592653589793',
      '0.1000000000000000055511151231257827',
      '100.0000',
      '0.0000000000000000000001',
      '2147483647',
      '-2147483648',
    ];
    for (const number of numbers) assert.ok(agreesWithJson(frame(['true', 'false', number, '""', '"x"', number]), SHAPE), number);
    const next = seededRandom(1);
    for (let i = 0; i < 5000; i++) {
      const magnitude = 10 ** Math.floor(next() * 30 - 15);
      const value = (next() - 0.5) * magnitude;
      const text = next() < 0.3 ? value.toFixed(Math.floor(next() * 10)) : JSON.stringify(value);
      assert.ok(agreesWithJson(frame(['true', 'true', text, '""', '""', String(Math.round(value))]), SHAPE), text);
    }
  });

  it('gives up on everything else, which the general parser handles', function () {
    const good = ['true', 'false', '1.5', '"x"', '"y"', '2'];
    assert.ok(agreesWithJson(frame(good), SHAPE));
    const variants: Array<[string, string]> = [
      ['another name', frame(good).replace('"Speed"', '"Sped"')],
      ['an escaped name', frame(good).replace('"Speed"', '"Sp\\u0065ed"')],
      ['an escape in a text value', frame(['true', 'false', '1.5', '"a\\"b"', '"y"', '2'])],
      ['null', frame(['true', 'null', '1.5', '"x"', '"y"', '2'])],
      ['an object value', frame(['true', '{}', '1.5', '"x"', '"y"', '2'])],
      ['an array value', frame(['true', '[1]', '1.5', '"x"', '"y"', '2'])],
      ['a number beyond double range', frame(['true', 'false', '1e999', '"x"', '"y"', '2'])],
      ['NaN', frame(['true', 'false', 'NaN', '"x"', '"y"', '2'])],
      ['a leading zero', frame(['true', 'false', '01', '"x"', '"y"', '2'])],
      ['a bare dot', frame(['true', 'false', '1.', '"x"', '"y"', '2'])],
      ['a leading dot', frame(['true', 'false', '.5', '"x"', '"y"', '2'])],
      ['a plus sign', frame(['true', 'false', '+1', '"x"', '"y"', '2'])],
      ['an empty exponent', frame(['true', 'false', '1e', '"x"', '"y"', '2'])],
      ['True', frame(['True', 'false', '1', '"x"', '"y"', '2'])],
      ['a control character in text', frame(['true', 'false', '1', '"a\tb"', '"y"', '2'])],
      ['a trailing comma', frame(good).replace('2}', '2,}')],
      ['a missing colon', frame(good).replace('"A":', '"A"')],
      ['trailing text', `${frame(good)}x`],
      ['a truncated frame', frame(good).slice(0, -3)],
      ['another type', frame(good, { type: 'import_answer' })],
      ['a version member', frame(good).replace('{"type"', '{"version":2,"type"')],
      ['another member', frame(good).replace('{"type"', '{"extra":1,"type"')],
      ['a second type', frame(good).replace('"signals"', '"type":"data","signals"')],
      ['one signal more', frame(good).replace('2}', '2,"More":1}')],
      ['one signal less', frame(good).replace(',"__proto__":2', '')],
      ['no type', frame(good).replace('"type":"data",', '')],
      ['an array', `[${frame(good)}]`],
    ];
    for (const [what, text] of variants)
      assert.equal(
        new ShapeReader(SHAPE).read(
          Buffer.from(text),
          SHAPE.map(() => 0),
        ),
        null,
        what,
      );
  });

  it('never reads a frame JSON.parse would read differently: 20,000 random corruptions of valid frames', function () {
    const next = seededRandom(7);
    const alphabet = ' \t\n{}[]:,"\\-+.0123456789eEtrufalsn_Ab\u00fc';
    const base = [frame(['true', 'false', '12.25', '"text"', '"ü"', '-3']), frame(['false', 'true', '-0.5e2', '""', '"a b"', '0'], { space: ' ' })];
    let taken = 0;
    for (let i = 0; i < 20000; i++) {
      let text = base[i % base.length];
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
        const at = Math.floor(next() * text.length);
        const choice = next();
        const char = alphabet[Math.floor(next() * alphabet.length)];
        if (choice < 0.4) text = text.slice(0, at) + char + text.slice(at + 1);
        else if (choice < 0.7) text = text.slice(0, at) + char + text.slice(at);
        else text = text.slice(0, at) + text.slice(at + 1);
      }
      if (agreesWithJson(text, SHAPE)) taken++;
    }
    assert.ok(taken > 100, `some corruptions are still valid frames of the shape (${taken})`);
  });

  it('reads names that JSON escapes when they are spelled as JSON.stringify spells them, and nothing else', function () {
    const names = ['a"b', 'back\\slash', 'new\nline', 'tab\there', '\u0001', 'lone \ud800', 'plain'];
    const spelled = (spell: (name: string) => string): string => `{"type":"data","signals":{${names.map((name, i) => `${spell(name)}:${i}`).join(',')}}}`;
    assert.ok(agreesWithJson(spelled(JSON.stringify), names));
    const reader = new ShapeReader(names);
    const values: SignalValue[] = [];
    // The same names, escaped another way: JSON.parse reads the same, the fast path leaves them to it.
    const unicode = (name: string): string => `"${[...name].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
    assert.equal(reader.read(Buffer.from(spelled(unicode)), values), null);
    // Unescaped quotes and control characters are not JSON: never read.
    assert.equal(reader.read(Buffer.from(spelled((name) => `"${name}"`)), values), null);
  });

  it('reads text values as new strings, also when the frame is a slice of a larger buffer', function () {
    const text = frame(['true', 'false', '1', '"ascii text"', '"ü ✓"', '2']);
    const padded = Buffer.concat([Buffer.from('xx'), Buffer.from(text), Buffer.from('yy')]);
    const values: SignalValue[] = [];
    assert.equal(new ShapeReader(SHAPE).read(padded.subarray(2, padded.length - 2), values), 'data');
    assert.deepEqual(values, [true, false, 1, 'ascii text', 'ü ✓', 2]);
  });

  describe('in a server', function () {
    const resources = new Resources();
    afterEach(() => resources.closeAll());

    it('repeated frames of one shape give the same events as the general path: values, coercions, changes, ignored and rejected values', async function () {
      const names = Array.from({ length: 40 }, (_, i) => `S${i}`);
      const server = resources.add(
        new RealvirtualServer({
          port: 0,
          signals: [
            { name: 'S0', type: 'Int', direction: 'read' },
            { name: 'S1', type: 'Bool', direction: 'read' },
            { name: 'S2', type: 'Float', direction: 'write', value: 7 },
          ],
        }),
      );
      await server.listen();
      const problems: RealvirtualError[] = [];
      server.on('problem', (error) => problems.push(error));
      const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
      const send = async (values: (i: number) => unknown): Promise<DataEvent> => {
        const signals: Record<string, unknown> = {};
        names.forEach((name, i) => (signals[name] = values(i)));
        const received = nextEvent(server, 'data');
        client.send(`{"type":"data","signals":${JSON.stringify(signals)}}`);
        return (await received)[0];
      };
      const expected = (values: (i: number) => unknown): Record<string, unknown> => {
        const record: Record<string, unknown> = {};
        names.forEach((name, i) => {
          if (i !== 2) record[name] = values(i);
        });
        return record;
      };

      // Two frames of one shape make it the shape; the third and later are read by it.
      const tokens: unknown[] = [];
      for (let round = 0; round < 4; round++) {
        const event = await send((i) => (i === 0 ? 2.5 + round : i === 1 ? 'true' : i % 3 === 0 ? `t${round}` : i + round / 2));
        assert.deepEqual(
          Object.keys(event.values),
          names.filter((name) => name !== 'S2'),
          'S2 is ours: ignored',
        );
        assert.deepEqual(
          event.values,
          expected((i) => (i === 0 ? Math.round(2.5 + round) : i === 1 ? true : i % 3 === 0 ? `t${round}` : i + round / 2)),
          'S0 (Int) rounds 2.5 away from zero, S1 (Bool) converts "true"',
        );
        assert.deepEqual(
          event.changed,
          names.filter((name, i) => name !== 'S2' && (round === 0 || i === 0 || (i > 1 && (i % 3 === 0 || i > 2)))),
          `round ${round}`,
        );
        assert.deepEqual(event.batch.names, Object.keys(event.values));
        assert.deepEqual(event.batch.values, Object.values(event.values));
        tokens.push(event.batch.shape);
      }
      assert.equal(server.table.get('S2')?.value, 7, 'our S2 kept its value');
      const caches = [...(server as unknown as { peers: Map<string, object> }).peers.values()].map(
        (peer) => (server as unknown as { nameCaches: WeakMap<object, { reader: ShapeReader | null }> }).nameCaches.get(peer)?.reader,
      );
      assert.ok(caches[0] instanceof ShapeReader, 'the frames were read by their shape');
      assert.equal(tokens[0], null, 'a first list has no token');
      assert.ok(tokens[1] instanceof ShapeToken, 'the second batch of the same list has one');
      assert.equal(tokens[2], tokens[1], 'the same token for the same list, with S2 left out every time');
      assert.equal(tokens[3], tokens[1]);

      // Nothing changed: no changes. A value of the wrong type: rejected, the rest applies.
      const same = await send((i) => (i === 0 ? 6 : i === 1 ? true : i % 3 === 0 ? 't3' : i + 1.5));
      assert.deepEqual(same.changed, []);
      const wrong = await send((i) => (i === 1 ? 17 : i === 0 ? 6 : i % 3 === 0 ? 't3' : i + 1.5));
      assert.deepEqual(wrong.changed, []);
      assert.equal('S1' in wrong.values, false, 'the rejected value is left out');
      assert.equal(problems.length, 1);
      assert.equal(problems[0].code, 'ERR_TYPE_MISMATCH');
      // null: the general path reads the frame and reports it; the rest applies.
      const more = await send((i) => (i === 4 ? null : i === 0 ? 7 : i === 1 ? false : i % 3 === 0 ? 't3' : i + 1.5));
      assert.deepEqual(more.changed, ['S0', 'S1']);
      assert.equal('S4' in more.values, false);
      assert.equal(problems.length, 2);
      assert.equal(problems[1].code, 'ERR_INVALID_VALUE');
    });
  });
});
