import assert from 'node:assert/strict';
import { ErrorCode, SignalError } from '../../engine/errors';
import { Direction, isDirection, newNameCache, realvirtualType, Signal, SignalDeclaration, SignalTable, SignalUpdate } from '../../engine/realvirtual/signals';
import { SignalValue, ValueType } from '../../engine/realvirtual/values';

function declared(table: SignalTable, declaration: SignalDeclaration): Signal {
  const result = table.declare(declaration);
  if (result instanceof SignalError) assert.fail(`declare failed: ${result.code}: ${result.message}`);
  return result;
}

function written(table: SignalTable, name: string, value: unknown): SignalUpdate {
  const result = table.write(name, value);
  if (result instanceof SignalError) assert.fail(`write failed: ${result.code}: ${result.message}`);
  return result;
}

function received(table: SignalTable, name: string, value: SignalValue): SignalUpdate {
  const result = table.receive(name, value);
  if (result === undefined) assert.fail(`receive of "${name}" was ignored`);
  if (result instanceof SignalError) assert.fail(`receive failed: ${result.code}: ${result.message}`);
  return result;
}

function failed(result: unknown, code: ErrorCode, name: string): SignalError {
  assert.ok(result instanceof SignalError, `expected ${code}, got ${JSON.stringify(result)}`);
  assert.equal(result.code, code);
  assert.equal(result.signal, name);
  assert.ok(result.message.includes(`"${name}"`), result.message);
  return result;
}

/** The fields of a signal that describe it (not the object identity, nor when it changed). */
function shape(signal: Signal | undefined): Omit<Signal, 'name' | 'changedAt'> & { name: string } {
  assert.ok(signal, 'signal missing');
  return { name: signal.name, valueType: signal.valueType, direction: signal.direction, rvType: signal.rvType, value: signal.value, declared: signal.declared };
}

function noPollution(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal({}.constructor, Object);
  assert.equal(typeof {}.hasOwnProperty, 'function');
  assert.equal(typeof {}.toString, 'function');
}

describe('engine/realvirtual/signals', () => {
  describe('helpers', () => {
    it('isDirection accepts only "write" and "read"', () => {
      assert.equal(isDirection('write'), true);
      assert.equal(isDirection('read'), true);
      for (const other of ['Write', 'input', 'output', '', null, undefined, 1]) assert.equal(isDirection(other), false, String(other));
    });

    it('realvirtualType: we write PLCOutput<T>, we read PLCInput<T>', () => {
      const types: ValueType[] = ['Bool', 'Int', 'Float', 'Text'];
      for (const type of types) {
        assert.equal(realvirtualType('write', type), `PLCOutput${type}`);
        assert.equal(realvirtualType('read', type), `PLCInput${type}`);
      }
    });
  });

  describe('declare', () => {
    it('adds a signal with its type, direction, realvirtual type and default value', () => {
      const table = new SignalTable();
      assert.deepEqual(shape(declared(table, { name: 'MotorOn', type: 'Bool', direction: 'write' })), {
        name: 'MotorOn',
        valueType: 'Bool',
        direction: 'write',
        rvType: 'PLCOutputBool',
        value: false,
        declared: true,
      });
      assert.deepEqual(shape(declared(table, { name: 'Counter', type: 'Int', direction: 'read' })), {
        name: 'Counter',
        valueType: 'Int',
        direction: 'read',
        rvType: 'PLCInputInt',
        value: 0,
        declared: true,
      });
      assert.equal(declared(table, { name: 'Speed', type: 'Float', direction: 'write' }).value, 0);
      assert.equal(declared(table, { name: 'Status', type: 'Text', direction: 'read' }).value, '');
      assert.equal(table.size, 4);
      assert.equal(table.has('Speed'), true);
      assert.equal(table.get('Speed')?.rvType, 'PLCOutputFloat');
      assert.equal(table.has('Nope'), false);
      assert.equal(table.get('Nope'), undefined);
    });

    it('coerces the initial value to the type', () => {
      const table = new SignalTable();
      assert.equal(declared(table, { name: 'B', type: 'Bool', direction: 'write', value: 'True' }).value, true);
      assert.equal(declared(table, { name: 'I', type: 'Int', direction: 'write', value: '2.5' }).value, 3);
      assert.equal(declared(table, { name: 'I2', type: 'Int', direction: 'write', value: -7.5 }).value, -8);
      assert.equal(declared(table, { name: 'F', type: 'Float', direction: 'read', value: ' 1e3 ' }).value, 1000);
      assert.equal(declared(table, { name: 'T', type: 'Text', direction: 'read', value: 'Running' }).value, 'Running');
    });

    it('treats an empty-text value as "no value" and uses the default', () => {
      const table = new SignalTable();
      assert.equal(declared(table, { name: 'I', type: 'Int', direction: 'write', value: '' }).value, 0);
      assert.equal(declared(table, { name: 'B', type: 'Bool', direction: 'write', value: '' }).value, false);
    });

    it('rejects an initial value that does not fit the type, leaving the table unchanged', () => {
      const table = new SignalTable();
      failed(table.declare({ name: 'B', type: 'Bool', direction: 'write', value: 1 }), 'ERR_TYPE_MISMATCH', 'B');
      failed(table.declare({ name: 'I', type: 'Int', direction: 'write', value: 'abc' }), 'ERR_TYPE_MISMATCH', 'I');
      failed(table.declare({ name: 'I', type: 'Int', direction: 'write', value: 2 ** 31 }), 'ERR_TYPE_MISMATCH', 'I');
      failed(table.declare({ name: 'T', type: 'Text', direction: 'write', value: 5 }), 'ERR_TYPE_MISMATCH', 'T');
      failed(table.declare({ name: 'F', type: 'Float', direction: 'write', value: null }), 'ERR_INVALID_VALUE', 'F');
      failed(table.declare({ name: 'F', type: 'Float', direction: 'write', value: NaN }), 'ERR_INVALID_VALUE', 'F');
      failed(table.declare({ name: 'F', type: 'Float', direction: 'write', value: { v: 1 } }), 'ERR_INVALID_VALUE', 'F');
      assert.equal(table.size, 0);

      declared(table, { name: 'X', type: 'Int', direction: 'write', value: 5 });
      failed(table.declare({ name: 'X', type: 'Bool', direction: 'read', value: 'nope' }), 'ERR_TYPE_MISMATCH', 'X');
      assert.deepEqual(shape(table.get('X')), { name: 'X', valueType: 'Int', direction: 'write', rvType: 'PLCOutputInt', value: 5, declared: true });
    });

    it('validates the type', () => {
      const table = new SignalTable();
      for (const type of ['bool', 'Integer', 'PLCInputBool', '', undefined, null, 3]) {
        const error = failed(table.declare({ name: 'S', type: type as ValueType, direction: 'write' }), 'ERR_INVALID_FIELD', 'S');
        assert.match(error.message, /type/);
      }
      assert.equal(table.size, 0);
    });

    it('validates the direction', () => {
      const table = new SignalTable();
      for (const direction of ['input', 'output', 'Write', '', undefined, null]) {
        const error = failed(table.declare({ name: 'S', type: 'Int', direction: direction as Direction }), 'ERR_INVALID_FIELD', 'S');
        assert.match(error.message, /direction/);
      }
      assert.equal(table.size, 0);
    });

    it('validates the name', () => {
      const table = new SignalTable();
      const result = table.declare({ name: 42 as unknown as string, type: 'Int', direction: 'write' });
      assert.ok(result instanceof SignalError);
      assert.equal(result.code, 'ERR_INVALID_FIELD');
      assert.equal(result.signal, '42');
      assert.equal(table.size, 0);
    });

    it('redeclaring replaces type and direction and keeps the value when it converts', () => {
      const table = new SignalTable();
      declared(table, { name: 'S', type: 'Int', direction: 'write', value: 5 });
      assert.deepEqual(shape(declared(table, { name: 'S', type: 'Float', direction: 'read' })), {
        name: 'S',
        valueType: 'Float',
        direction: 'read',
        rvType: 'PLCInputFloat',
        value: 5,
        declared: true,
      });
      assert.equal(table.size, 1);

      declared(table, { name: 'T', type: 'Text', direction: 'write', value: '2.5' });
      assert.equal(declared(table, { name: 'T', type: 'Int', direction: 'write' }).value, 3);
    });

    it('redeclaring falls back to the default when the old value does not convert', () => {
      const table = new SignalTable();
      declared(table, { name: 'S', type: 'Int', direction: 'write', value: 5 });
      assert.equal(declared(table, { name: 'S', type: 'Bool', direction: 'write' }).value, false);
      declared(table, { name: 'T', type: 'Float', direction: 'write', value: 1.5 });
      assert.equal(declared(table, { name: 'T', type: 'Text', direction: 'write' }).value, '');
    });

    it('redeclaring with a value uses the new value', () => {
      const table = new SignalTable();
      declared(table, { name: 'S', type: 'Int', direction: 'write', value: 5 });
      assert.equal(declared(table, { name: 'S', type: 'Int', direction: 'write', value: 9 }).value, 9);
    });

    it('declaring an inferred signal marks it declared', () => {
      const table = new SignalTable();
      written(table, 'S', 4);
      assert.equal(table.get('S')?.declared, false);
      const signal = declared(table, { name: 'S', type: 'Float', direction: 'read' });
      assert.equal(signal.declared, true);
      assert.equal(signal.value, 4);
    });
  });

  describe('write', () => {
    it('infers the type of an unknown signal: boolean → Bool, integer → Int, other number → Float, string → Text', () => {
      const table = new SignalTable();
      const cases: Array<[string, SignalValue, ValueType]> = [
        ['b', true, 'Bool'],
        ['i', 42, 'Int'],
        ['neg', -1, 'Int'],
        ['whole', 3.0, 'Int'],
        ['f', 150.5, 'Float'],
        ['t', 'Running', 'Text'],
        ['numericText', '42', 'Text'],
      ];
      for (const [name, value, type] of cases) {
        const update = written(table, name, value);
        assert.deepEqual(update.previous, undefined);
        assert.equal(update.changed, true);
        assert.deepEqual(shape(update.signal), { name, valueType: type, direction: 'write', rvType: `PLCOutput${type}`, value, declared: false });
        assert.equal(table.get(name), update.signal);
      }
    });

    it('infers Float for integers an Int signal could not hold, and keeps accepting them', () => {
      const table = new SignalTable();
      assert.equal(written(table, 'big', 2 ** 31).signal.valueType, 'Float');
      const again = written(table, 'big', 2 ** 31);
      assert.equal(again.signal.value, 2 ** 31);
      assert.equal(again.changed, false);
    });

    it('rejects values no signal can carry for a new signal, adding nothing', () => {
      const table = new SignalTable();
      for (const value of [null, undefined, {}, [], NaN, Infinity]) failed(table.write('x', value), 'ERR_INVALID_VALUE', 'x');
      assert.equal(table.size, 0);
    });

    it('coerces to the declared type', () => {
      const table = new SignalTable();
      declared(table, { name: 'I', type: 'Int', direction: 'write' });
      declared(table, { name: 'F', type: 'Float', direction: 'write' });
      declared(table, { name: 'B', type: 'Bool', direction: 'write' });
      assert.equal(written(table, 'I', 2.5).signal.value, 3);
      assert.equal(written(table, 'I', ' 7 ').signal.value, 7);
      assert.equal(written(table, 'F', 1).signal.value, 1);
      assert.equal(written(table, 'F', '-.5').signal.value, -0.5);
      assert.equal(written(table, 'B', 'True').signal.value, true);
      assert.equal(table.get('I')?.valueType, 'Int');
      assert.equal(table.get('F')?.valueType, 'Float');
    });

    it('coerces to the inferred type on later writes', () => {
      const table = new SignalTable();
      written(table, 'n', 1);
      assert.equal(written(table, 'n', '7').signal.value, 7);
      assert.equal(table.get('n')?.valueType, 'Int');
      written(table, 'f', 0.5);
      assert.equal(written(table, 'f', 2).signal.value, 2);
      assert.equal(table.get('f')?.valueType, 'Float');
    });

    it('widens an inferred Int to Float when a fraction arrives (JSON cannot tell 0.0 from 0)', () => {
      const table = new SignalTable();
      written(table, 'n', 0);
      const update = written(table, 'n', 1.6);
      assert.equal(update.signal.value, 1.6);
      assert.equal(update.signal.valueType, 'Float');
      assert.equal(update.signal.rvType, 'PLCOutputFloat');
      const received = table.receive('speed', 0);
      assert.ok(received && !(received instanceof SignalError));
      const widened = table.receive('speed', 2.5);
      assert.ok(widened && !(widened instanceof SignalError));
      assert.equal(widened.signal.value, 2.5);
      assert.equal(widened.signal.rvType, 'PLCInputFloat');
      assert.equal(widened.changed, true);
    });

    it('rounds a fraction written to a declared Int', () => {
      const table = new SignalTable();
      declared(table, { name: 'I', type: 'Int', direction: 'write', value: 0 });
      assert.equal(written(table, 'I', 1.6).signal.value, 2);
      assert.equal(table.get('I')?.valueType, 'Int');
    });

    it('rejects a value that does not fit, keeping the old value', () => {
      const table = new SignalTable();
      declared(table, { name: 'I', type: 'Int', direction: 'write', value: 4 });
      failed(table.write('I', 'abc'), 'ERR_TYPE_MISMATCH', 'I');
      failed(table.write('I', true), 'ERR_TYPE_MISMATCH', 'I');
      failed(table.write('I', 1e12), 'ERR_TYPE_MISMATCH', 'I');
      failed(table.write('I', null), 'ERR_INVALID_VALUE', 'I');
      failed(table.write('I', NaN), 'ERR_INVALID_VALUE', 'I');
      assert.equal(table.get('I')?.value, 4);
    });

    it('reports the previous value and whether it changed', () => {
      const table = new SignalTable();
      declared(table, { name: 'I', type: 'Int', direction: 'write', value: 1 });
      const first = written(table, 'I', 2);
      assert.equal(first.previous, 1);
      assert.equal(first.changed, true);
      const same = written(table, 'I', 2.2);
      assert.equal(same.previous, 2);
      assert.equal(same.changed, false);
      const viaText = written(table, 'I', '2');
      assert.equal(viaText.changed, false);
    });

    it('writing a declared read signal → ERR_DIRECTION, value and direction unchanged', () => {
      const table = new SignalTable();
      declared(table, { name: 'Sensor1', type: 'Bool', direction: 'read', value: false });
      const error = failed(table.write('Sensor1', true), 'ERR_DIRECTION', 'Sensor1');
      assert.match(error.message, /read/);
      assert.match(error.message, /PLCInputBool/);
      assert.deepEqual(shape(table.get('Sensor1')), { name: 'Sensor1', valueType: 'Bool', direction: 'read', rvType: 'PLCInputBool', value: false, declared: true });
    });

    it('writing an inferred read signal flips it to write', () => {
      const table = new SignalTable();
      received(table, 'Speed', 1.5);
      assert.equal(table.get('Speed')?.direction, 'read');
      const update = written(table, 'Speed', 2);
      assert.deepEqual(shape(update.signal), { name: 'Speed', valueType: 'Float', direction: 'write', rvType: 'PLCOutputFloat', value: 2, declared: false });
      assert.equal(update.previous, 1.5);
      // Now ours: the peer no longer overwrites it.
      assert.equal(table.receive('Speed', 3.5), undefined);
      assert.equal(table.get('Speed')?.value, 2);
    });

    it('a rejected write does not flip an inferred read signal', () => {
      const table = new SignalTable();
      received(table, 'Counter', 5);
      failed(table.write('Counter', 'abc'), 'ERR_TYPE_MISMATCH', 'Counter');
      assert.deepEqual(shape(table.get('Counter')), { name: 'Counter', valueType: 'Int', direction: 'read', rvType: 'PLCInputInt', value: 5, declared: false });
      assert.equal(received(table, 'Counter', 6).signal.value, 6);
    });
  });

  describe('receive', () => {
    it('infers a read signal from its first value', () => {
      const table = new SignalTable();
      const cases: Array<[string, SignalValue, ValueType]> = [
        ['b', false, 'Bool'],
        ['i', 42, 'Int'],
        ['f', 0.25, 'Float'],
        ['t', '', 'Text'],
      ];
      for (const [name, value, type] of cases) {
        const update = received(table, name, value);
        assert.equal(update.previous, undefined);
        assert.equal(update.changed, true);
        assert.deepEqual(shape(update.signal), { name, valueType: type, direction: 'read', rvType: `PLCInput${type}`, value, declared: false });
      }
    });

    it('returns undefined for signals we write, declared or inferred, keeping our value', () => {
      const table = new SignalTable();
      declared(table, { name: 'MotorOn', type: 'Bool', direction: 'write', value: true });
      written(table, 'Speed', 10);
      assert.equal(table.receive('MotorOn', false), undefined);
      assert.equal(table.receive('MotorOn', 'not even a bool'), undefined);
      assert.equal(table.receive('Speed', 99), undefined);
      assert.equal(table.get('MotorOn')?.value, true);
      assert.equal(table.get('Speed')?.value, 10);
      assert.equal(table.get('Speed')?.direction, 'write');
    });

    it('coerces to the declared type of a read signal', () => {
      const table = new SignalTable();
      declared(table, { name: 'Counter', type: 'Int', direction: 'read' });
      const update = received(table, 'Counter', 41.5);
      assert.equal(update.signal.value, 42);
      assert.equal(update.previous, 0);
      assert.equal(update.changed, true);
      assert.equal(received(table, 'Counter', '42').changed, false);
    });

    it('rejects a value that does not fit, keeping the old value', () => {
      const table = new SignalTable();
      declared(table, { name: 'Sensor1', type: 'Bool', direction: 'read', value: true });
      const result = table.receive('Sensor1', 1);
      failed(result, 'ERR_TYPE_MISMATCH', 'Sensor1');
      assert.equal(table.get('Sensor1')?.value, true);
    });
  });

  describe('values', () => {
    function sample(): SignalTable {
      const table = new SignalTable();
      declared(table, { name: 'w1', type: 'Int', direction: 'write', value: 1 });
      written(table, 'w2', 'two');
      declared(table, { name: 'r1', type: 'Bool', direction: 'read', value: true });
      received(table, 'r2', 2.5);
      return table;
    }

    it('returns the values of one direction', () => {
      const table = sample();
      assert.deepEqual(table.values('write'), { w1: 1, w2: 'two' });
      assert.deepEqual(table.values('read'), { r1: true, r2: 2.5 });
    });

    it('limits to a set of names, skipping unknown names and the other direction', () => {
      const table = sample();
      assert.deepEqual(table.values('write', new Set(['w2', 'r1', 'missing'])), { w2: 'two' });
      assert.deepEqual(table.values('read', new Set(['r1', 'w1'])), { r1: true });
      assert.deepEqual(table.values('read', new Set<string>()), {});
    });

    it('treats a null filter as no filter', () => {
      assert.deepEqual(sample().values('write', null), { w1: 1, w2: 'two' });
    });

    it('returns a fresh record each time', () => {
      const table = sample();
      const first = table.values('write');
      first.w1 = 100;
      assert.equal(table.values('write').w1, 1);
      assert.equal(table.get('w1')?.value, 1);
    });

    it('is empty for an empty table', () => {
      assert.deepEqual(new SignalTable().values('write'), {});
    });
  });

  describe('catalog', () => {
    it("lists every signal with PLCOutput<T> for ours and PLCInput<T> for the peer's", () => {
      const table = new SignalTable();
      declared(table, { name: 'MotorOn', type: 'Bool', direction: 'write', value: true });
      declared(table, { name: 'Counter', type: 'Int', direction: 'read', value: 3 });
      written(table, 'Speed', 1.5);
      received(table, 'Status', 'Idle');
      assert.deepEqual(table.catalog(), {
        signals: { MotorOn: true, Counter: 3, Speed: 1.5, Status: 'Idle' },
        signalTypes: { MotorOn: 'PLCOutputBool', Counter: 'PLCInputInt', Speed: 'PLCOutputFloat', Status: 'PLCInputText' },
      });
    });

    it('follows a direction flip', () => {
      const table = new SignalTable();
      received(table, 'x', 1);
      assert.equal(table.catalog().signalTypes.x, 'PLCInputInt');
      written(table, 'x', 2);
      assert.deepEqual(table.catalog(), { signals: { x: 2 }, signalTypes: { x: 'PLCOutputInt' } });
    });

    it('is empty for an empty table', () => {
      assert.deepEqual(new SignalTable().catalog(), { signals: {}, signalTypes: {} });
    });
  });

  describe('remove, clear and iteration', () => {
    it('removes one signal or all of them', () => {
      const table = new SignalTable();
      written(table, 'a', 1);
      written(table, 'b', 2);
      assert.deepEqual(
        [...table].map((signal) => signal.name),
        ['a', 'b'],
      );
      assert.equal(table.remove('a'), true);
      assert.equal(table.remove('a'), false);
      assert.equal(table.has('a'), false);
      assert.equal(table.size, 1);
      table.clear();
      assert.equal(table.size, 0);
      assert.deepEqual([...table], []);
    });
  });

  describe('change marks (changeSequence, changedAt, layoutVersion)', () => {
    /** The names whose changedAt is above `since`. */
    function changedSince(table: SignalTable, since: number): string[] {
      return [...table].filter((signal) => signal.changedAt > since).map((signal) => signal.name);
    }

    it('every stored change of a value moves the sequence and marks its signal; equal values mark nothing', () => {
      const table = new SignalTable();
      declared(table, { name: 'Out', type: 'Float', direction: 'write', value: 1 });
      declared(table, { name: 'Text', type: 'Text', direction: 'write', value: 'a' });
      declared(table, { name: 'In', type: 'Int', direction: 'read', value: 1 });
      declared(table, { name: 'Label', type: 'Text', direction: 'read', value: 'x' });
      let since = table.changeSequence;
      const steps: Array<[string, () => unknown, string[]]> = [
        ['writeExact, new value', () => table.writeExact('Out', 2), ['Out']],
        ['writeExact, equal value', () => table.writeExact('Out', 2), []],
        ['writeExact, new text', () => table.writeExact('Text', 'b'), ['Text']],
        ['writeExact, equal text', () => table.writeExact('Text', 'b'), []],
        ['write, coerced', () => table.write('Out', '3'), ['Out']],
        ['write, equal', () => table.write('Out', 3), []],
        ['receiveExact, new value', () => table.receiveExact('In', 5), ['In']],
        ['receiveExact, equal value', () => table.receiveExact('In', 5), []],
        ['receiveExact with a name cache', () => table.receiveExact('In', 6, newNameCache(), 0), ['In']],
        ['receiveExact, new text', () => table.receiveExact('Label', 'y'), ['Label']],
        ['receive, new value', () => table.receive('In', 7), ['In']],
        ['receive, equal value', () => table.receive('In', 7), []],
        ['receive of a signal we write (ignored)', () => table.receive('Out', 9), []],
        ['receive of a wrong type (refused)', () => table.receive('In', 'seven'), []],
      ];
      for (const [what, step, expected] of steps) {
        step();
        assert.deepEqual(changedSince(table, since), expected, what);
        assert.equal(table.changeSequence > since, expected.length > 0, `${what}: the sequence moves only with a change`);
        since = table.changeSequence;
      }
    });

    it('a retyped inferred signal is a change; adding, replacing and removing signals move the layout version', () => {
      const table = new SignalTable();
      const layout0 = table.layoutVersion;
      received(table, 'Speed', 1);
      assert.ok(table.layoutVersion > layout0, 'a new signal from a peer');
      let since = table.changeSequence;
      const layout1 = table.layoutVersion;
      received(table, 'Speed', 1.5);
      assert.deepEqual(changedSince(table, since), ['Speed']);
      since = table.changeSequence;
      written(table, 'Speed', 1.5);
      assert.deepEqual(changedSince(table, since), ['Speed'], 'the direction changed: read → write');
      assert.equal(table.layoutVersion, layout1, 'values and types change no layout');
      since = table.changeSequence;
      const replaced = declared(table, { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 });
      assert.ok(table.layoutVersion > layout1, 'a declaration replaces the signal object');
      assert.ok(replaced.changedAt > since, 'a replaced signal is marked');
      const layout2 = table.layoutVersion;
      assert.equal(table.remove('Nope'), false);
      assert.equal(table.layoutVersion, layout2, 'removing nothing changes nothing');
      table.remove('Speed');
      assert.ok(table.layoutVersion > layout2);
      const layout3 = table.layoutVersion;
      table.clear();
      assert.equal(table.layoutVersion, layout3, 'clearing an empty table changes nothing');
      written(table, 'A', 1);
      const layout4 = table.layoutVersion;
      table.clear();
      assert.ok(table.layoutVersion > layout4);
    });
  });

  describe('awkward names', () => {
    const NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', ''];

    it('stores and returns them like any other name', () => {
      const table = new SignalTable();
      NAMES.forEach((name, index) => {
        const update = written(table, name, index + 1);
        assert.equal(update.previous, undefined, name);
        assert.equal(update.signal.name, name);
      });
      assert.equal(table.size, NAMES.length);
      NAMES.forEach((name, index) => {
        assert.equal(table.has(name), true, name);
        assert.equal(table.get(name)?.value, index + 1, name);
        assert.equal(written(table, name, index + 10).previous, index + 1, name);
      });
      assert.equal(table.get('prototype'), undefined);
      noPollution();
    });

    it('returns them as own keys of values() and catalog() without touching prototypes', () => {
      const table = new SignalTable();
      for (const name of NAMES) written(table, name, name.length);
      declared(table, { name: 'polluted', type: 'Bool', direction: 'read', value: true });

      const values = table.values('write');
      assert.deepEqual(Object.keys(values), NAMES);
      for (const name of NAMES) {
        assert.ok(Object.prototype.hasOwnProperty.call(values, name), name);
        assert.equal(Object.getOwnPropertyDescriptor(values, name)?.value, name.length, name);
      }
      assert.equal(Object.getPrototypeOf(values), Object.prototype);
      assert.equal(JSON.stringify(values), JSON.stringify(Object.fromEntries(NAMES.map((name) => [name, name.length]))));

      const only = table.values('write', new Set(['__proto__', 'toString']));
      assert.deepEqual(Object.keys(only), ['__proto__', 'toString']);
      assert.equal(Object.getPrototypeOf(only), Object.prototype);

      const { signals, signalTypes } = table.catalog();
      assert.deepEqual(Object.keys(signals), [...NAMES, 'polluted']);
      assert.deepEqual(Object.keys(signalTypes), [...NAMES, 'polluted']);
      assert.equal(Object.getOwnPropertyDescriptor(signals, '__proto__')?.value, '__proto__'.length);
      assert.equal(Object.getOwnPropertyDescriptor(signalTypes, '__proto__')?.value, 'PLCOutputInt');
      assert.equal(Object.getOwnPropertyDescriptor(signalTypes, 'constructor')?.value, 'PLCOutputInt');
      assert.equal(Object.getPrototypeOf(signals), Object.prototype);
      assert.equal(Object.getPrototypeOf(signalTypes), Object.prototype);
      noPollution();
    });

    it('receives and declares them too', () => {
      const table = new SignalTable();
      declared(table, { name: 'constructor', type: 'Text', direction: 'read', value: 'c' });
      assert.equal(received(table, '__proto__', true).signal.direction, 'read');
      assert.equal(received(table, 'constructor', 'd').previous, 'c');
      assert.deepEqual(Object.keys(table.values('read')), ['constructor', '__proto__']);
      noPollution();
    });
  });
});
