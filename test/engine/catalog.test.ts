import assert from 'node:assert/strict';
import { ProtocolError, SignalError } from '../../engine/errors';
import { DirectionRules, importCatalog, ImportedSignal, splitList, toDeclarations } from '../../engine/realvirtual/catalog';
import { ImportAnswerMessage, parseMessage, ParsedMessage } from '../../engine/realvirtual/messages';
import { SignalTable } from '../../engine/realvirtual/signals';
import { REFERENCE } from '../helpers/reference-examples';

type Answer = Pick<ImportAnswerMessage, 'signals' | 'signalTypes'>;

/** Imports a catalog that must be accepted entirely; returns the signals by name. */
function imported(answer: Answer, rules?: DirectionRules): Map<string, ImportedSignal> {
  const result = importCatalog(answer, rules);
  assert.deepEqual(result.rejected, []);
  return new Map(result.signals.map((signal) => [signal.name, signal]));
}

function one(answer: Answer, name: string, rules?: DirectionRules): ImportedSignal {
  const signal = imported(answer, rules).get(name);
  assert.ok(signal, `"${name}" was not imported`);
  return signal;
}

describe('engine/realvirtual/catalog', () => {
  describe('importCatalog: direction inversion of prefixed types', () => {
    it('follows the Direction Mapping Guide: remote PLCOutputFloat "Speed" → our PLCInputFloat (we read)', () => {
      assert.deepEqual(one({ signals: { Speed: 0.0 }, signalTypes: { Speed: 'PLCOutputFloat' } }, 'Speed'), {
        name: 'Speed',
        remoteType: 'PLCOutputFloat',
        localType: 'PLCInputFloat',
        valueType: 'Float',
        direction: 'read',
        value: 0,
      });
    });

    it('follows the Direction Mapping Guide: remote PLCInputBool "Enable" → our PLCOutputBool (we write)', () => {
      assert.deepEqual(one({ signals: { Enable: false }, signalTypes: { Enable: 'PLCInputBool' } }, 'Enable'), {
        name: 'Enable',
        remoteType: 'PLCInputBool',
        localType: 'PLCOutputBool',
        valueType: 'Bool',
        direction: 'write',
        value: false,
      });
    });

    it('inverts all eight prefixed types', () => {
      const types = ['Bool', 'Int', 'Float', 'Text'] as const;
      for (const type of types) {
        const input = one({ signals: {}, signalTypes: { s: `PLCInput${type}` } }, 's');
        assert.equal(input.direction, 'write');
        assert.equal(input.localType, `PLCOutput${type}`);
        assert.equal(input.valueType, type);
        const output = one({ signals: {}, signalTypes: { s: `PLCOutput${type}` } }, 's');
        assert.equal(output.direction, 'read');
        assert.equal(output.localType, `PLCInput${type}`);
        assert.equal(output.valueType, type);
      }
    });

    it('imports the reference import_answer example', () => {
      const result = parseMessage(REFERENCE.import_answer);
      assert.ok(!(result instanceof ProtocolError) && result.kind === 'message');
      const message = (result as ParsedMessage).message as ImportAnswerMessage;
      const { signals, rejected } = importCatalog(message);
      assert.deepEqual(rejected, []);
      assert.deepEqual(signals, [
        { name: 'Sensor1', remoteType: 'PLCInputBool', localType: 'PLCOutputBool', valueType: 'Bool', direction: 'write', value: true },
        { name: 'DriveSpeed', remoteType: 'PLCInputFloat', localType: 'PLCOutputFloat', valueType: 'Float', direction: 'write', value: 0 },
        { name: 'Counter', remoteType: 'PLCOutputInt', localType: 'PLCInputInt', valueType: 'Int', direction: 'read', value: 0 },
      ]);
    });

    it('ignores direction rules for prefixed types', () => {
      const rules: DirectionRules = { inputPatterns: ['Speed'], outputPatterns: ['Enable'], defaultDirection: 'write' };
      assert.equal(one({ signals: {}, signalTypes: { Speed: 'PLCInputFloat' } }, 'Speed', rules).direction, 'write');
      assert.equal(one({ signals: {}, signalTypes: { Enable: 'PLCOutputBool' } }, 'Enable', rules).direction, 'read');
    });
  });

  describe('importCatalog: neutral types', () => {
    it('"Value": "Float" with no rules is read by default', () => {
      assert.deepEqual(one({ signals: { Value: 1.5 }, signalTypes: { Value: 'Float' } }, 'Value'), {
        name: 'Value',
        remoteType: 'Float',
        localType: 'PLCInputFloat',
        valueType: 'Float',
        direction: 'read',
        value: 1.5,
      });
    });

    it('uses the default direction when no pattern matches', () => {
      const signal = one({ signals: {}, signalTypes: { Value: 'Float' } }, 'Value', { inputPatterns: ['Sensor'], outputPatterns: ['Drive'], defaultDirection: 'write' });
      assert.equal(signal.direction, 'write');
      assert.equal(signal.localType, 'PLCOutputFloat');
    });

    it('inputPatterns (name substrings) → read', () => {
      const signal = one({ signals: {}, signalTypes: { Unity_Sensor1: 'Bool' } }, 'Unity_Sensor1', { inputPatterns: ['Unity'], defaultDirection: 'write' });
      assert.equal(signal.direction, 'read');
      assert.equal(signal.localType, 'PLCInputBool');
    });

    it('outputPatterns (name substrings) → write', () => {
      const signal = one({ signals: {}, signalTypes: { PLC_DriveSpeed: 'Int' } }, 'PLC_DriveSpeed', { outputPatterns: ['Drive'] });
      assert.equal(signal.direction, 'write');
      assert.equal(signal.localType, 'PLCOutputInt');
    });

    it('checks inputPatterns before outputPatterns', () => {
      const rules: DirectionRules = { inputPatterns: ['Unity'], outputPatterns: ['Speed'], defaultDirection: 'write' };
      const signals = imported({ signals: {}, signalTypes: { UnitySpeed: 'Float', PlcSpeed: 'Float', Other: 'Float' } }, rules);
      assert.equal(signals.get('UnitySpeed')?.direction, 'read');
      assert.equal(signals.get('PlcSpeed')?.direction, 'write');
      assert.equal(signals.get('Other')?.direction, 'write');
    });

    it('matches patterns case-sensitively, anywhere in the name', () => {
      const rules: DirectionRules = { outputPatterns: ['Out'], defaultDirection: 'read' };
      const signals = imported({ signals: {}, signalTypes: { MotorOut: 'Bool', OutMotor: 'Bool', Mid_Out_x: 'Bool', motorout: 'Bool' } }, rules);
      assert.equal(signals.get('MotorOut')?.direction, 'write');
      assert.equal(signals.get('OutMotor')?.direction, 'write');
      assert.equal(signals.get('Mid_Out_x')?.direction, 'write');
      assert.equal(signals.get('motorout')?.direction, 'read');
    });

    it('accepts all four neutral types', () => {
      const signals = imported({ signals: { b: true, i: 2, f: 2.5, t: 'x' }, signalTypes: { b: 'Bool', i: 'Int', f: 'Float', t: 'Text' } });
      assert.deepEqual(
        [...signals.values()].map((s) => [s.name, s.valueType, s.remoteType, s.localType, s.value]),
        [
          ['b', 'Bool', 'Bool', 'PLCInputBool', true],
          ['i', 'Int', 'Int', 'PLCInputInt', 2],
          ['f', 'Float', 'Float', 'PLCInputFloat', 2.5],
          ['t', 'Text', 'Text', 'PLCInputText', 'x'],
        ],
      );
    });
  });

  describe('importCatalog: values', () => {
    it('coerces values to the type', () => {
      const signals = imported({
        signals: { i: 2.5, f: 3, b: 'True', n: ' 7 ', neg: -0.4 },
        signalTypes: { i: 'PLCOutputInt', f: 'PLCOutputFloat', b: 'PLCInputBool', n: 'Int', neg: 'Int' },
      });
      assert.equal(signals.get('i')?.value, 3);
      assert.equal(signals.get('f')?.value, 3);
      assert.equal(signals.get('b')?.value, true);
      assert.equal(signals.get('n')?.value, 7);
      assert.ok(Object.is(signals.get('neg')?.value, 0));
    });

    it("gives a signal without a value its type's default", () => {
      const signals = imported({ signals: {}, signalTypes: { b: 'PLCInputBool', i: 'PLCOutputInt', f: 'Float', t: 'PLCOutputText' } });
      assert.equal(signals.get('b')?.value, false);
      assert.equal(signals.get('i')?.value, 0);
      assert.equal(signals.get('f')?.value, 0);
      assert.equal(signals.get('t')?.value, '');
    });

    it('rejects a value that does not fit, importing the signal with the default value', () => {
      const { signals, rejected } = importCatalog({ signals: { b: 1, i: 'abc', ok: 5 }, signalTypes: { b: 'PLCInputBool', i: 'PLCOutputInt', ok: 'Int' } });
      assert.deepEqual(
        rejected.map((error) => [error.code, error.signal]),
        [
          ['ERR_TYPE_MISMATCH', 'b'],
          ['ERR_TYPE_MISMATCH', 'i'],
        ],
      );
      for (const error of rejected) {
        assert.ok(error instanceof SignalError);
        assert.ok(error.message.includes(`"${error.signal}"`));
      }
      assert.deepEqual(
        signals.map((s) => [s.name, s.valueType, s.value]),
        [
          ['b', 'Bool', false],
          ['i', 'Int', 0],
          ['ok', 'Int', 5],
        ],
      );
    });
  });

  describe('importCatalog: unknown types and partial entries', () => {
    it('infers the type of an unknown type string from the value', () => {
      const signals = imported({ signals: { a: true, b: 3, c: 1.5, d: 'x' }, signalTypes: { a: 'Boolean', b: 'PLCInputInteger', c: 'double', d: 'plcinputtext' } });
      assert.deepEqual(
        [...signals.values()].map((s) => [s.name, s.valueType, s.remoteType, s.direction]),
        [
          ['a', 'Bool', 'Boolean', 'read'],
          ['b', 'Int', 'PLCInputInteger', 'read'],
          ['c', 'Float', 'double', 'read'],
          ['d', 'Text', 'plcinputtext', 'read'],
        ],
      );
    });

    it('gives an inferred type its direction from the rules', () => {
      const signal = one({ signals: { DriveCmd: 1 }, signalTypes: { DriveCmd: 'Weird' } }, 'DriveCmd', { outputPatterns: ['Cmd'] });
      assert.equal(signal.direction, 'write');
      assert.equal(signal.localType, 'PLCOutputInt');
    });

    it('rejects an unknown type without a value with ERR_INVALID_FIELD, importing the others', () => {
      const { signals, rejected } = importCatalog({ signals: { ok: true }, signalTypes: { ok: 'PLCOutputBool', weird: 'Mystery', empty: '' } });
      assert.deepEqual(
        signals.map((s) => s.name),
        ['ok'],
      );
      assert.deepEqual(
        rejected.map((error) => [error.code, error.signal]),
        [
          ['ERR_INVALID_FIELD', 'weird'],
          ['ERR_INVALID_FIELD', 'empty'],
        ],
      );
      assert.ok(rejected[0].message.includes('"weird"'));
      assert.ok(rejected[0].message.includes('Mystery'));
    });

    it('imports a signal present only in "signals" with a type inferred from its value', () => {
      const signals = imported({ signals: { Counter: 42, Speed: 1.5, On: true, Status: 'ok' }, signalTypes: {} });
      assert.deepEqual(
        [...signals.values()].map((s) => [s.name, s.valueType, s.remoteType, s.localType, s.value]),
        [
          ['Counter', 'Int', 'Int', 'PLCInputInt', 42],
          ['Speed', 'Float', 'Float', 'PLCInputFloat', 1.5],
          ['On', 'Bool', 'Bool', 'PLCInputBool', true],
          ['Status', 'Text', 'Text', 'PLCInputText', 'ok'],
        ],
      );
    });

    it('imports a signal present only in "signalTypes" with the default value', () => {
      assert.deepEqual(one({ signals: {}, signalTypes: { Enable: 'PLCInputBool' } }, 'Enable'), {
        name: 'Enable',
        remoteType: 'PLCInputBool',
        localType: 'PLCOutputBool',
        valueType: 'Bool',
        direction: 'write',
        value: false,
      });
    });

    it('lists each name once: signalTypes order first, then names only in signals', () => {
      const { signals } = importCatalog({ signals: { c: 1, a: true, d: 'x' }, signalTypes: { a: 'PLCInputBool', b: 'PLCOutputInt' } });
      assert.deepEqual(
        signals.map((s) => s.name),
        ['a', 'b', 'c', 'd'],
      );
    });

    it('handles "__proto__", "constructor" and "toString" as ordinary names', () => {
      const result = parseMessage('{"type":"import_answer","signals":{"__proto__":true,"constructor":2,"toString":"t"},"signalTypes":{"__proto__":"PLCInputBool","constructor":"PLCOutputInt"}}');
      assert.ok(!(result instanceof ProtocolError) && result.kind === 'message');
      const answer = (result as ParsedMessage).message as ImportAnswerMessage;
      const signals = imported(answer);
      assert.deepEqual(signals.get('__proto__'), { name: '__proto__', remoteType: 'PLCInputBool', localType: 'PLCOutputBool', valueType: 'Bool', direction: 'write', value: true });
      assert.deepEqual(signals.get('constructor'), { name: 'constructor', remoteType: 'PLCOutputInt', localType: 'PLCInputInt', valueType: 'Int', direction: 'read', value: 2 });
      assert.deepEqual(signals.get('toString'), { name: 'toString', remoteType: 'Text', localType: 'PLCInputText', valueType: 'Text', direction: 'read', value: 't' });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('does not take inherited properties for signals or types', () => {
      // "toString" only in signals: its type must not be read from Object.prototype.toString.
      const signals = imported({ signals: { toString: 1 }, signalTypes: {} });
      assert.equal(signals.get('toString')?.remoteType, 'Int');
      // "valueOf" only in signalTypes: its value must not be Object.prototype.valueOf.
      assert.equal(one({ signals: {}, signalTypes: { valueOf: 'PLCInputInt' } }, 'valueOf').value, 0);
    });

    it('imports nothing from an empty catalog', () => {
      assert.deepEqual(importCatalog({ signals: {}, signalTypes: {} }), { signals: [], rejected: [] });
    });
  });

  describe('toDeclarations', () => {
    it('turns imported signals into declarations a SignalTable accepts', () => {
      const { signals } = importCatalog({ signals: { Speed: 2.5, Enable: true }, signalTypes: { Speed: 'PLCOutputFloat', Enable: 'PLCInputBool' } });
      const declarations = toDeclarations(signals);
      assert.deepEqual(declarations, [
        { name: 'Speed', type: 'Float', direction: 'read', value: 2.5 },
        { name: 'Enable', type: 'Bool', direction: 'write', value: true },
      ]);
      const table = new SignalTable();
      for (const declaration of declarations) assert.ok(!(table.declare(declaration) instanceof SignalError));
      assert.deepEqual(table.catalog(), { signals: { Speed: 2.5, Enable: true }, signalTypes: { Speed: 'PLCInputFloat', Enable: 'PLCOutputBool' } });
    });
  });

  describe('splitList', () => {
    it('splits on commas, trims and drops empty parts', () => {
      assert.deepEqual(splitList('a, b,,c'), ['a', 'b', 'c']);
      assert.deepEqual(splitList('  Unity ,PLC_ '), ['Unity', 'PLC_']);
      assert.deepEqual(splitList('single'), ['single']);
      assert.deepEqual(splitList('with space inside, x'), ['with space inside', 'x']);
    });

    it('gives an empty list for nothing', () => {
      assert.deepEqual(splitList(undefined), []);
      assert.deepEqual(splitList(null), []);
      assert.deepEqual(splitList(''), []);
      assert.deepEqual(splitList(' , ,, '), []);
    });

    it('accepts an array, trimming and dropping empty entries', () => {
      assert.deepEqual(splitList([' a ', '', 'b', '   ']), ['a', 'b']);
      assert.deepEqual(splitList([]), []);
    });

    it('feeds direction rules', () => {
      const rules: DirectionRules = { inputPatterns: splitList('Unity, Sensor'), outputPatterns: splitList('Drive'), defaultDirection: 'write' };
      const signals = imported({ signals: {}, signalTypes: { SensorA: 'Bool', DriveB: 'Float', C: 'Int' } }, rules);
      assert.deepEqual(
        [...signals.values()].map((s) => [s.name, s.direction]),
        [
          ['SensorA', 'read'],
          ['DriveB', 'write'],
          ['C', 'write'],
        ],
      );
    });
  });
});
