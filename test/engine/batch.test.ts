/**
 * The record of a shape's batch (ShapeToken.record): up to a thousand names or so it starts
 * as a copy of a template, beyond that it is built name by name. Either way it must be the
 * record the names and values make: same keys in the same order, same values, an ordinary
 * object (a "__proto__" signal is an own property, not the prototype), a new one each time.
 */
import assert from 'node:assert/strict';
import { ShapeToken } from '../../engine';
import { SignalValue } from '../../engine/realvirtual/values';

/** Names that objects treat specially, among ordinary ones. */
const SPECIAL = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '10', '2', '', 'Ünïcode ✓', 'a.b[0]'];

function namesOf(count: number): string[] {
  const names = Array.from({ length: count - SPECIAL.length }, (_, i) => `Line1_Signal${i}`);
  SPECIAL.forEach((name, k) => names.splice(Math.floor((k * names.length) / SPECIAL.length), 0, name));
  return names;
}

function valuesOf(names: readonly string[], round: number): SignalValue[] {
  return names.map((_, i) => (i % 4 === 0 ? (i + round) % 2 === 0 : i % 4 === 1 ? i + round : i % 4 === 2 ? i + round / 10 + 0.5 : `v${round}`));
}

/** What the names and values make, each name defined as an own property. */
function expected(names: readonly string[], values: readonly SignalValue[]): Record<string, SignalValue> {
  const record: Record<string, SignalValue> = {};
  names.forEach((name, i) => Object.defineProperty(record, name, { value: values[i], enumerable: true, writable: true, configurable: true }));
  return record;
}

function assertSame(actual: Record<string, SignalValue>, wanted: Record<string, SignalValue>, what: string): void {
  assert.equal(Object.getPrototypeOf(actual), Object.prototype, `${what}: an ordinary object`);
  assert.deepEqual(Object.keys(actual), Object.keys(wanted), `${what}: keys and their order`);
  for (const key of Object.keys(wanted)) assert.ok(Object.is(actual[key], wanted[key]), `${what}: ${key}`);
  assert.equal(JSON.stringify(actual), JSON.stringify(wanted), what);
  assert.ok(Object.prototype.hasOwnProperty.call(actual, '__proto__'), `${what}: "__proto__" is an own property`);
}

describe('engine: the record of a batch with a shape token', function () {
  // 1020 names and fewer: copies of the template; more: built name by name.
  for (const count of [300, 1020, 1021, 3000]) {
    it(`${count} names: the record the names and values make, a new object each time, none changed by the others`, function () {
      const names = namesOf(count);
      const token = new ShapeToken(names);
      const records: Array<Record<string, SignalValue>> = [];
      for (let round = 0; round < 3; round++) {
        const values = valuesOf(names, round);
        const record = token.record(values);
        assertSame(record, expected(names, values), `round ${round}`);
        records.push(record);
      }
      assert.notEqual(records[1], records[0]);
      // A flow changes a payload: neither the next record nor an earlier one sees it.
      records[1].Line1_Signal7 = 'changed';
      Reflect.deleteProperty(records[1], 'constructor');
      records[1].extra = 1;
      const values = valuesOf(names, 5);
      assertSame(token.record(values), expected(names, values), 'after a change to an earlier record');
      assertSame(records[0], expected(names, valuesOf(names, 0)), 'the first record');
    });
  }
});
