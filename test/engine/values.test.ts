import assert from 'node:assert/strict';
import { ErrorCode, RealvirtualError, SignalError } from '../../engine/errors';
import { checkSignalValue, coerceValue, defaultValue, inferValueType, INT_MAX, INT_MIN, isSignalValue, isValueType, SignalValue, ValueType, VALUE_TYPES } from '../../engine/realvirtual/values';

/** Asserts that coercion succeeded and returns the value. */
function coerced(name: string, value: unknown, type: ValueType): SignalValue {
  const result = coerceValue(name, value, type);
  if (result instanceof SignalError) assert.fail(`expected ${JSON.stringify(value)} to coerce to ${type}, got ${result.code}: ${result.message}`);
  return result;
}

/** Asserts that coercion failed with a SignalError of the given code naming the signal. */
function rejected(name: string, value: unknown, type: ValueType, code: ErrorCode): SignalError {
  const result = coerceValue(name, value, type);
  assert.ok(result instanceof SignalError, `expected ${String(value)} to be rejected for ${type}, got ${String(result)}`);
  assert.ok(result instanceof RealvirtualError);
  assert.ok(result instanceof Error);
  assert.equal(result.code, code);
  assert.equal(result.signal, name);
  assert.ok(result.message.includes(`"${name}"`), `message should name the signal: ${result.message}`);
  assert.equal(result.name, 'SignalError');
  return result;
}

describe('engine/realvirtual/values', () => {
  describe('constants and small helpers', () => {
    it('lists exactly the four realvirtual value types', () => {
      assert.deepEqual([...VALUE_TYPES], ['Bool', 'Int', 'Float', 'Text']);
    });

    it('uses the C# int range', () => {
      assert.equal(INT_MIN, -(2 ** 31));
      assert.equal(INT_MAX, 2 ** 31 - 1);
    });

    it('isValueType accepts only the four exact names', () => {
      for (const type of VALUE_TYPES) assert.equal(isValueType(type), true);
      for (const other of ['bool', 'INT', 'float', 'String', 'PLCInputBool', '', null, undefined, 1, {}]) {
        assert.equal(isValueType(other), false, String(other));
      }
    });

    it('defaultValue gives false, 0, 0 and ""', () => {
      assert.equal(defaultValue('Bool'), false);
      assert.equal(defaultValue('Int'), 0);
      assert.equal(defaultValue('Float'), 0);
      assert.equal(defaultValue('Text'), '');
    });
  });

  describe('isSignalValue', () => {
    it('accepts booleans, finite numbers and strings', () => {
      for (const value of [true, false, 0, -0, 1, -1.5, 1e300, Number.MAX_VALUE, Number.MIN_VALUE, '', 'text', '42']) {
        assert.equal(isSignalValue(value), true, String(value));
      }
    });

    it('rejects NaN, infinities, null, undefined, objects, arrays, functions, symbols and bigints', () => {
      const values: unknown[] = [NaN, Infinity, -Infinity, null, undefined, {}, [], [1], { a: 1 }, () => 1, Symbol('s'), BigInt(1), new Date(0), new String('boxed')];
      for (const value of values) assert.equal(isSignalValue(value), false, typeof value);
    });
  });

  describe('inferValueType', () => {
    it('booleans are Bool', () => {
      assert.equal(inferValueType(true), 'Bool');
      assert.equal(inferValueType(false), 'Bool');
    });

    it('integers within the int32 range are Int', () => {
      for (const value of [0, -0, 1, -1, 42, 1.0, INT_MAX, INT_MIN]) assert.equal(inferValueType(value), 'Int', String(value));
    });

    it('non-integer numbers are Float', () => {
      for (const value of [0.5, -0.5, 3.14, 1e-9, -100.5]) assert.equal(inferValueType(value), 'Float', String(value));
    });

    it('integers outside the int32 range are Float (an Int signal could not hold them)', () => {
      for (const value of [INT_MAX + 1, INT_MIN - 1, 2 ** 53, 1e21, -1e300]) {
        assert.equal(inferValueType(value), 'Float', String(value));
        // The inferred type must accept the value it was inferred from.
        assert.equal(coerced('big', value, inferValueType(value)), value);
      }
    });

    it('strings are Text, even numeric or boolean-looking ones', () => {
      for (const value of ['', 'Running', '42', 'true', '1.5']) assert.equal(inferValueType(value), 'Text', value);
    });
  });

  describe('checkSignalValue', () => {
    it('returns undefined for valid values', () => {
      for (const value of [true, false, 0, 1.5, -7, '', 'x']) assert.equal(checkSignalValue('S', value), undefined);
    });

    it('rejects null, undefined, objects and arrays with ERR_INVALID_VALUE naming the signal', () => {
      const cases: Array<[unknown, string]> = [
        [null, 'null'],
        [undefined, 'undefined'],
        [{}, 'an object'],
        [{ a: 1 }, 'an object'],
        [[], 'an array'],
        [[1, 2], 'an array'],
      ];
      for (const [value, description] of cases) {
        const error = checkSignalValue('Motor.Speed', value);
        assert.ok(error instanceof SignalError, description);
        assert.equal(error.code, 'ERR_INVALID_VALUE');
        assert.equal(error.signal, 'Motor.Speed');
        assert.ok(error.message.includes('"Motor.Speed"'), error.message);
        assert.ok(error.message.includes(description), error.message);
      }
    });

    it('rejects NaN and infinities as non-finite numbers', () => {
      for (const value of [NaN, Infinity, -Infinity]) {
        const error = checkSignalValue('F', value);
        assert.ok(error instanceof SignalError);
        assert.equal(error.code, 'ERR_INVALID_VALUE');
        assert.equal(error.signal, 'F');
        assert.match(error.message, /not a finite number/);
        assert.ok(error.message.includes(String(value)), error.message);
      }
    });
  });

  describe('coerceValue to Bool', () => {
    it('keeps booleans', () => {
      assert.equal(coerced('B', true, 'Bool'), true);
      assert.equal(coerced('B', false, 'Bool'), false);
    });

    it('accepts "true", "True", "false" and "False"', () => {
      assert.equal(coerced('B', 'true', 'Bool'), true);
      assert.equal(coerced('B', 'True', 'Bool'), true);
      assert.equal(coerced('B', 'false', 'Bool'), false);
      assert.equal(coerced('B', 'False', 'Bool'), false);
    });

    it('rejects other spellings and numbers with ERR_TYPE_MISMATCH', () => {
      for (const value of ['TRUE', 'FALSE', 'tRue', ' true', 'true ', '1', '0', 'yes', 'on', '', 1, 0, 0.5, -1]) {
        const error = rejected('Sensor1', value, 'Bool', 'ERR_TYPE_MISMATCH');
        assert.match(error.message, /is Bool/);
      }
    });

    it('mentions the accepted spellings in the message', () => {
      const error = rejected('Sensor1', 'TRUE', 'Bool', 'ERR_TYPE_MISMATCH');
      assert.ok(error.message.includes('"True"'), error.message);
      assert.ok(error.message.includes('the text "TRUE"'), error.message);
    });
  });

  describe('coerceValue to Int', () => {
    it('keeps integers', () => {
      for (const value of [0, 1, -1, 42, INT_MAX, INT_MIN]) assert.equal(coerced('I', value, 'Int'), value);
    });

    it('rounds Float to the nearest integer', () => {
      assert.equal(coerced('I', 1.4, 'Int'), 1);
      assert.equal(coerced('I', 1.6, 'Int'), 2);
      assert.equal(coerced('I', -1.4, 'Int'), -1);
      assert.equal(coerced('I', -1.6, 'Int'), -2);
      assert.equal(coerced('I', 150.5, 'Int'), 151);
      assert.equal(coerced('I', 1.0, 'Int'), 1);
    });

    it('rounds halves away from zero (not towards +Infinity like Math.round)', () => {
      assert.equal(coerced('I', 0.5, 'Int'), 1);
      assert.equal(coerced('I', 2.5, 'Int'), 3);
      assert.equal(coerced('I', -0.5, 'Int'), -1);
      assert.equal(coerced('I', -2.5, 'Int'), -3);
      assert.equal(coerced('I', -100.5, 'Int'), -101);
    });

    it('normalises -0 to 0', () => {
      for (const value of [-0, -0.4, -0.0001, '-0', '-0.2']) {
        const result = coerced('I', value, 'Int');
        assert.ok(Object.is(result, 0), `${String(value)} gave ${Object.is(result, -0) ? '-0' : String(result)}`);
      }
    });

    it('accepts values that round into the int32 range', () => {
      assert.equal(coerced('I', INT_MAX + 0.4, 'Int'), INT_MAX);
      assert.equal(coerced('I', INT_MIN - 0.4, 'Int'), INT_MIN);
    });

    it('rejects values outside the int32 range with ERR_TYPE_MISMATCH', () => {
      for (const value of [INT_MAX + 1, INT_MIN - 1, INT_MAX + 0.5, INT_MIN - 0.5, 1e12, -1e12, Number.MAX_VALUE, '2147483648', '1e10']) {
        const error = rejected('Counter', value, 'Int', 'ERR_TYPE_MISMATCH');
        assert.match(error.message, /32-bit range/);
      }
    });

    it('converts numeric text', () => {
      assert.equal(coerced('I', '42', 'Int'), 42);
      assert.equal(coerced('I', ' 42 ', 'Int'), 42);
      assert.equal(coerced('I', '\t-7\n', 'Int'), -7);
      assert.equal(coerced('I', '+5', 'Int'), 5);
      assert.equal(coerced('I', '1e3', 'Int'), 1000);
      assert.equal(coerced('I', '2.5', 'Int'), 3);
      assert.equal(coerced('I', '-.5', 'Int'), -1);
      assert.equal(coerced('I', '5.', 'Int'), 5);
      assert.equal(coerced('I', '007', 'Int'), 7);
    });

    it('rejects text that is not a decimal number with ERR_TYPE_MISMATCH', () => {
      for (const value of ['', ' ', '0x10', '0b1', '0o7', 'NaN', 'Infinity', '-Infinity', '12abc', 'abc', '1,5', '1 2', '.', '-', 'e5', '1e', '1_000', 'true']) {
        const error = rejected('Counter', value, 'Int', 'ERR_TYPE_MISMATCH');
        assert.match(error.message, /is Int/);
      }
    });

    it('rejects booleans with ERR_TYPE_MISMATCH', () => {
      rejected('Counter', true, 'Int', 'ERR_TYPE_MISMATCH');
      rejected('Counter', false, 'Int', 'ERR_TYPE_MISMATCH');
    });

    it('rejects numeric text too large to be finite', () => {
      const error = rejected('Counter', '1e999', 'Int', 'ERR_TYPE_MISMATCH');
      assert.match(error.message, /not a finite number/);
    });
  });

  describe('coerceValue to Float', () => {
    it('keeps numbers, integers included', () => {
      for (const value of [0, 1, -1, 3.14, -100.5, 1e-300, 1e300, INT_MAX + 1]) assert.equal(coerced('F', value, 'Float'), value);
    });

    it('converts numeric text', () => {
      assert.equal(coerced('F', ' 42 ', 'Float'), 42);
      assert.equal(coerced('F', '1e3', 'Float'), 1000);
      assert.equal(coerced('F', '-.5', 'Float'), -0.5);
      assert.equal(coerced('F', '3.14', 'Float'), 3.14);
      assert.equal(coerced('F', '1.5E-3', 'Float'), 0.0015);
      assert.equal(coerced('F', '+2.', 'Float'), 2);
    });

    it('rejects text that is not a decimal number with ERR_TYPE_MISMATCH', () => {
      for (const value of ['', '0x10', 'NaN', 'Infinity', '12abc', '1e999', 'false']) {
        const error = rejected('DriveSpeed', value, 'Float', 'ERR_TYPE_MISMATCH');
        assert.match(error.message, /is Float/);
      }
    });

    it('rejects booleans with ERR_TYPE_MISMATCH', () => {
      rejected('DriveSpeed', true, 'Float', 'ERR_TYPE_MISMATCH');
    });
  });

  describe('coerceValue to Text', () => {
    it('keeps strings unchanged', () => {
      for (const value of ['', 'Running', ' 42 ', 'true']) assert.equal(coerced('T', value, 'Text'), value);
    });

    it('rejects numbers and booleans with ERR_TYPE_MISMATCH', () => {
      for (const value of [0, 42, 1.5, true, false]) {
        const error = rejected('Status', value, 'Text', 'ERR_TYPE_MISMATCH');
        assert.match(error.message, /is Text/);
      }
    });
  });

  describe('coerceValue with values no signal can carry', () => {
    it('rejects NaN and infinities for every type with ERR_INVALID_VALUE', () => {
      for (const type of VALUE_TYPES) {
        for (const value of [NaN, Infinity, -Infinity]) {
          const error = rejected('X', value, type, 'ERR_INVALID_VALUE');
          assert.match(error.message, /not a finite number/);
        }
      }
    });

    it('rejects null, undefined, objects and arrays for every type with ERR_INVALID_VALUE', () => {
      for (const type of VALUE_TYPES) {
        for (const value of [null, undefined, {}, { value: 1 }, [], [true], ['1']]) {
          rejected('X', value, type, 'ERR_INVALID_VALUE');
        }
      }
    });

    it('gives the same code as checkSignalValue for the same value', () => {
      for (const value of [null, {}, [], NaN, Infinity]) {
        const checked = checkSignalValue('X', value);
        const result = coerceValue('X', value, 'Int');
        assert.ok(checked instanceof SignalError && result instanceof SignalError);
        assert.equal(result.code, checked.code);
      }
    });

    it('names unusual signal names in the message', () => {
      for (const name of ['__proto__', 'constructor', '', 'a "quoted" name']) {
        rejected(name, null, 'Int', 'ERR_INVALID_VALUE');
        rejected(name, 'x', 'Int', 'ERR_TYPE_MISMATCH');
      }
    });

    it('shortens long text in the message', () => {
      const error = rejected('T', 'x'.repeat(500), 'Int', 'ERR_TYPE_MISMATCH');
      assert.ok(error.message.length < 200, error.message);
      assert.ok(error.message.includes('…'), error.message);
    });
  });
});
