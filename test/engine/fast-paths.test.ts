/**
 * The fast paths the benchmarks asked for must not change a result: receiving and
 * writing a value already of its signal's type, and encoding a cycle's signals from
 * two lists instead of an object.
 */
import assert from 'node:assert/strict';
import { SignalError } from '../../engine/errors';
import { encodeSignalList, encodeSignals, SignalRecord } from '../../engine/realvirtual/messages';
import { newNameCache, SignalTable, UNCHANGED } from '../../engine/realvirtual/signals';
import { coerceValue, isExactValue, SignalValue, VALUE_TYPES } from '../../engine/realvirtual/values';

const VALUES: unknown[] = [
  true,
  false,
  0,
  -0,
  1,
  -1,
  2.5,
  -2.5,
  1e-7,
  2147483647,
  2147483648,
  -2147483648,
  -2147483649,
  1e21,
  0.1 + 0.2,
  Number.MAX_SAFE_INTEGER,
  NaN,
  Infinity,
  -Infinity,
  '',
  'text',
  '42',
  ' 1.5 ',
  'true',
  'False',
  'ü ✓',
  null,
  undefined,
  {},
  [],
  [1],
];

describe('engine: fast paths', function () {
  it('isExactValue(v, T) means coerceValue returns v itself', function () {
    for (const type of VALUE_TYPES) {
      for (const value of VALUES) {
        if (!isExactValue(value, type)) continue;
        const coerced = coerceValue('S', value, type);
        assert.ok(!(coerced instanceof SignalError) && Object.is(coerced, value), `${type} ${String(value)}`);
      }
    }
    assert.equal(isExactValue(-0, 'Int'), false, 'an Int -0 becomes 0');
    assert.equal(isExactValue(2.5, 'Int'), false);
    assert.equal(isExactValue(2147483648, 'Int'), false);
    assert.equal(isExactValue(1, 'Float'), true);
    assert.equal(isExactValue('1', 'Float'), false);
  });

  /** Two tables with the same signals: one updated through the fast path where it applies, one always the general way. */
  function tables(): [SignalTable, SignalTable] {
    const make = (): SignalTable => {
      const table = new SignalTable();
      for (const type of VALUE_TYPES) {
        table.declare({ name: `read${type}`, type, direction: 'read' });
        table.declare({ name: `write${type}`, type, direction: 'write' });
      }
      table.receive('inferredRead', 1);
      table.write('inferredWrite', 'x');
      return table;
    };
    return [make(), make()];
  }

  function snapshot(table: SignalTable): unknown[] {
    return [...table].map((signal) => ({ ...signal }));
  }

  it('receiveExact applies what receive applies, or leaves the value to it', function () {
    const [fast, slow] = tables();
    const cache = newNameCache();
    const names = [...slow].map((signal) => signal.name).concat('unknown');
    let taken = 0;
    for (let round = 0; round < 3; round++) {
      for (const value of VALUES) {
        names.forEach((name, index) => {
          const expected = slow.receive(name, value as SignalValue);
          const exact = fast.receiveExact(name, value, round === 0 ? undefined : cache, index);
          if (exact === undefined) {
            fast.receive(name, value as SignalValue);
          } else {
            taken++;
            assert.ok(expected !== undefined && !(expected instanceof SignalError), `${name} ${String(value)}: the fast path took what receive rejects or ignores`);
            assert.equal(exact, expected.changed, `${name} ${String(value)}: changed`);
          }
          assert.deepEqual(snapshot(fast), snapshot(slow), `${name} ${String(value)}`);
        });
      }
    }
    assert.ok(taken > 50, `the fast path was taken (${taken})`);
  });

  it('a redeclared signal is not found through a stale cache', function () {
    const table = new SignalTable();
    table.declare({ name: 'A', type: 'Int', direction: 'read' });
    const cache = newNameCache();
    assert.equal(table.receiveExact('A', 1, cache, 0), true);
    table.declare({ name: 'A', type: 'Text', direction: 'read' });
    assert.equal(table.receiveExact('A', 2, cache, 0), undefined, 'A is Text now: 2 goes the general way');
    assert.equal(table.receiveExact('A', 'two', cache, 0), true);
    assert.equal(table.get('A')?.value, 'two');
  });

  it('writeExact applies what write applies, or leaves the value to it', function () {
    const [fast, slow] = tables();
    const cache = newNameCache();
    const names = [...slow].map((signal) => signal.name).concat('unknown');
    let taken = 0;
    for (let round = 0; round < 3; round++) {
      for (const value of VALUES) {
        names.forEach((name, index) => {
          const before = slow.get(name)?.value;
          const expected = slow.write(name, value);
          const previous = fast.writeExact(name, value, round === 0 ? undefined : cache, index);
          if (previous === undefined) {
            fast.write(name, value);
          } else {
            taken++;
            assert.ok(!(expected instanceof SignalError), `${name} ${String(value)}: the fast path took what write rejects`);
            assert.equal(previous === UNCHANGED, !expected.changed, `${name} ${String(value)}: changed`);
            if (previous !== UNCHANGED) assert.ok(Object.is(previous, before), 'returns the value it replaced');
          }
          assert.deepEqual(snapshot(fast), snapshot(slow), `${name} ${String(value)}`);
        });
      }
    }
    assert.ok(taken > 60, `the fast path was taken (${taken})`);
  });

  it('writeExact by position: a removed or redeclared signal, or another name at the position, is not taken from a stale cache', function () {
    const table = new SignalTable();
    table.declare({ name: 'A', type: 'Int', direction: 'write' });
    table.declare({ name: 'B', type: 'Float', direction: 'write' });
    const cache = newNameCache();
    assert.equal(table.writeExact('A', 1, cache, 0), 0);
    assert.equal(table.writeExact('B', 1.5, cache, 0), 0, 'another name at position 0');
    assert.equal(table.writeExact('A', 2, cache, 0), 1);
    table.declare({ name: 'A', type: 'Text', direction: 'write' });
    assert.equal(table.writeExact('A', 3, cache, 0), undefined, 'A is Text now: 3 goes the general way');
    const redeclared = table.get('A')?.value;
    assert.equal(table.writeExact('A', 'three', cache, 0), redeclared);
    assert.equal(table.get('A')?.value, 'three');
    table.remove('B');
    assert.equal(table.writeExact('B', 2.5, cache, 0), undefined, 'B is gone: write() declares it again');
    assert.equal(table.get('B'), undefined);
    table.declare({ name: 'A', type: 'Int', direction: 'read' });
    assert.equal(table.writeExact('A', 4, cache, 0), undefined, 'a signal we read is not written');
  });

  it('encodeSignalList gives the JSON of encodeSignals', function () {
    const cases: Array<[string, SignalValue]>[] = [
      [],
      [['A', 1]],
      [
        ['Speed', 1.5],
        ['On', true],
        ['Off', false],
        ['Count', -0],
        ['Big', 1e21],
        ['Small', 5e-324],
        ['Label', 'text'],
      ],
      [
        ['quote"name', 'va"lue'],
        ['back\\slash', 'a\\b'],
        ['new\nline', 'tab\t'],
        ['ü ✓ 𝄞', 'ü ✓ 𝄞'],
        ['\u2028', '\u2029'],
      ],
      [
        ['lone \ud800 high', 'lone \udc00 low'],
        ['__proto__', 'p'],
        ['constructor', 2],
        ['', ''],
      ],
    ];
    for (const list of cases) {
      const names = list.map(([name]) => name);
      const values = list.map(([, value]) => value);
      const record: SignalRecord = {};
      for (const [name, value] of list) Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
      for (const type of ['data', 'snapshot'] as const) {
        const text = encodeSignalList(type, names, values);
        assert.deepEqual(JSON.parse(text), JSON.parse(encodeSignals(type, record)), text);
        assert.equal(Buffer.from(text).toString('utf8'), text, 'well-formed: lone surrogates are escaped');
      }
    }
  });
});
