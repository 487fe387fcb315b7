/**
 * A seeded generator of random and mutated protocol frames: valid messages, messages
 * with a field of the wrong type, bad values, byte-level mutations, random JSON, binary
 * frames, invalid UTF-8, deep nesting, huge strings, oversized frames and big messages.
 * The same seed gives the same frames.
 */
import assert from 'assert/strict';
import { MESSAGE_TYPES } from '../../engine';
import { Resources, within } from './events';
import { seededRandom } from './faults';
import { assertHealthy, clientTarget, serverTarget, Target } from './targets';

export interface FuzzFrame {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  /** The receiver must close the connection (invalid UTF-8, over maxPayload). */
  closes: boolean;
}

const NAMES = ['Flag', 'Level', 'Speed', 'Label', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'a.b', 'Ünïcödé', '😀', 'x'.repeat(300)];

export class FrameFuzzer {
  /** Frames left in the current run of same-shape frames. */
  private shapeRun = 0;

  constructor(
    private readonly random: () => number,
    private readonly maxPayload: number,
  ) {}

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private name(): string {
    return this.chance(0.7) ? this.pick(NAMES) : `F${this.int(200)}`;
  }

  private validValue(): boolean | number | string {
    switch (this.int(5)) {
      case 0:
        return this.chance(0.5);
      case 1:
        return this.int(2000) - 1000;
      case 2:
        return (this.random() - 0.5) * 1e6;
      case 3:
        return this.pick(['', 'true', 'False', '42', ' 1.5 ', 'abc', 'NaN', '0x10', 'Ünï']);
      default:
        return this.pick([2147483647, -2147483648, 2147483648, 1e308, -0, 0.5, 2.5]);
    }
  }

  /** Any JSON value, nested up to `depth`. */
  private jsonValue(depth: number): unknown {
    const kind = this.int(depth > 0 ? 8 : 6);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e21, -1e-7, 4294967296]);
      case 3:
        return this.pick(['', 'data', 'init', '__proto__', 'x'.repeat(this.int(100))]);
      case 4:
        return this.validValue();
      case 5:
        return this.pick([[], {}, [null], { a: 1 }]);
      case 6:
        return Array.from({ length: this.int(4) }, () => this.jsonValue(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--) Object.defineProperty(object, this.name(), { value: this.jsonValue(depth - 1), enumerable: true, writable: true, configurable: true });
        return object;
      }
    }
  }

  private signals(count: number, values: () => unknown): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) Object.defineProperty(record, this.name(), { value: values(), enumerable: true, writable: true, configurable: true });
    return record;
  }

  /** A valid message of a random type. */
  private message(): Record<string, unknown> {
    const type = this.pick(MESSAGE_TYPES);
    switch (type) {
      case 'init':
        return { type, version: 2, name: this.pick(['Twin', 'Fuzz', '', 'Ünï']) };
      case 'data':
      case 'snapshot':
        return { type, signals: this.signals(1 + this.int(5), () => this.validValue()) };
      case 'subscribe':
        return { type, version: 2, subscribe: Array.from({ length: this.int(4) }, () => this.name()) };
      case 'import_answer':
        return {
          type,
          version: 2,
          signals: this.signals(this.int(4), () => this.validValue()),
          signalTypes: this.signals(this.int(4), () => this.pick(['PLCInputBool', 'PLCOutputInt', 'Float', 'Text', 'Double', ''])),
        };
      case 'config_answer':
      case 'config_set':
        return { type, version: 2, config: this.signals(this.int(3), () => this.jsonValue(2)) };
      case 'config_result':
        return { type, version: 2, success: this.chance(0.5), message: 'ok' };
      default:
        return { type, version: 2 };
    }
  }

  /** Mutates the bytes of a text, keeping it valid UTF-8 (printable ASCII edits). */
  private mutateText(text: string): string {
    let result = text;
    for (let edits = 1 + this.int(4); edits > 0; edits--) {
      const at = this.int(result.length + 1);
      const char = String.fromCharCode(0x20 + this.int(95));
      switch (this.int(5)) {
        case 0:
          result = result.slice(0, at) + char + result.slice(at + 1);
          break;
        case 1:
          result = result.slice(0, at) + char + result.slice(at);
          break;
        case 2:
          result = result.slice(0, at) + result.slice(at + 1 + this.int(5));
          break;
        case 3:
          result = result.slice(0, at);
          break;
        default:
          result = result.slice(0, at) + result.slice(this.int(result.length + 1));
      }
    }
    return result;
  }

  /** A JSON token for one value of a same-shape frame: valid for the signal's type, or (`tricky`) odd or wrong. */
  private shapeToken(index: number, tricky: boolean): string {
    if (!tricky) return JSON.stringify(index % 4 === 0 ? this.chance(0.5) : index % 4 === 1 ? this.int(1000) : index % 4 === 2 ? this.random() * 100 : `t${this.int(50)}`);
    return this.pick(['1e400', '-0', '1E5', '0.1e-2', '00', '01', '-', '1.', '.5', '+1', 'NaN', 'null', '[]', '{}', '"esc\\"aped"', '"\\u0000"', '"ü"', '2147483648', '1.5', '"12"', 'true', '""']);
  }

  /** A data frame with the same 300 names in the same order as the previous ones (a peer's usual frame). */
  private sameShape(): string {
    // Most frames are valid (so that the receiver learns the shape); the others hide one to three odd values.
    const tricky = new Set<number>();
    if (this.chance(0.4)) for (let n = 1 + this.int(3); n > 0; n--) tricky.add(this.int(300));
    const parts: string[] = [];
    for (let i = 0; i < 300; i++) parts.push(`"S${i}":${this.shapeToken(i, tricky.has(i))}`);
    return `{"type":"${this.chance(0.9) ? 'data' : 'snapshot'}","signals":{${parts.join(',')}}}`;
  }

  next(): FuzzFrame {
    const roll = this.random();
    const text = (kind: string, value: unknown): FuzzFrame => ({ kind, data: JSON.stringify(value), binary: false, closes: false });
    // Runs of frames with one shape: the receiver's fast path for repeated shapes (engine/realvirtual/shape.ts).
    if (this.shapeRun > 0) {
      this.shapeRun--;
      if (this.chance(0.2)) return { kind: 'same-shape-mutated', data: this.mutateText(this.sameShape()), binary: false, closes: false };
      return { kind: 'same-shape', data: this.sameShape(), binary: false, closes: false };
    }
    if (roll < 0.02) {
      this.shapeRun = 5 + this.int(20);
      return { kind: 'same-shape', data: this.sameShape(), binary: false, closes: false };
    }
    if (roll < 0.15) return text('valid', this.message());
    if (roll < 0.4) {
      const message = this.message();
      const fields = Object.keys(message);
      const field = this.chance(0.2) ? this.pick(['type', 'version', 'signals', 'subscribe', 'config', 'name', '__proto__']) : this.pick(fields);
      if (this.chance(0.15)) delete message[field];
      else Object.defineProperty(message, field, { value: this.jsonValue(3), enumerable: true, writable: true, configurable: true });
      return text('wrong-field', message);
    }
    if (roll < 0.55) return text('bad-values', { type: this.pick(['data', 'snapshot', 'import_answer']), signals: this.signals(1 + this.int(6), () => this.jsonValue(2)) });
    if (roll < 0.75) return { kind: 'mutated-bytes', data: this.mutateText(JSON.stringify(this.message())), binary: false, closes: false };
    if (roll < 0.85) return text('random-json', this.jsonValue(5));
    if (roll < 0.9) return { kind: 'binary', data: Buffer.from(Array.from({ length: this.int(64) }, () => this.int(256))), binary: true, closes: false };
    if (roll < 0.93) {
      const depth = 1000 + this.int(50000);
      const nested = '['.repeat(depth) + ']'.repeat(depth);
      const where = this.int(3);
      const data = where === 0 ? nested : where === 1 ? `{"type":"data","signals":{"Deep":${nested}}}` : `{"type":"config_set","version":2,"config":{"Deep":${nested}}}`;
      return { kind: 'deep', data, binary: false, closes: false };
    }
    if (roll < 0.96) {
      const count = 1000 + this.int(4000);
      const record: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) record[`M${i}`] = this.chance(0.8) ? i : [i];
      return text('many-signals', { type: 'data', signals: record });
    }
    if (roll < 0.98) return text('huge-string', { type: 'data', signals: { Huge: 'h'.repeat(this.int(this.maxPayload / 2)) } });
    if (roll < 0.99) {
      const valid = Buffer.from(JSON.stringify(this.message()));
      const at = this.int(valid.length);
      return { kind: 'invalid-utf8', data: Buffer.concat([valid.subarray(0, at), Buffer.from([this.pick([0xff, 0xc0, 0xed, 0x80])]), valid.subarray(at)]), binary: false, closes: true };
    }
    return { kind: 'oversized', data: JSON.stringify({ type: 'data', signals: { Over: 'o'.repeat(this.maxPayload) } }), binary: false, closes: true };
  }
}

/** Kinds every fuzz run must have tried. */
export const FUZZ_KINDS = [
  'same-shape',
  'same-shape-mutated',
  'valid',
  'wrong-field',
  'bad-values',
  'mutated-bytes',
  'random-json',
  'binary',
  'deep',
  'many-signals',
  'huge-string',
  'invalid-utf8',
  'oversized',
];

/** maxPayload of the fuzzed endpoints: small, so that huge and oversized frames stay cheap. */
export const FUZZ_MAX_PAYLOAD = 256 * 1024;
const BATCH = 250;

/**
 * Sends `frames` fuzz frames of `seed` to the endpoint of `target`. After every batch and
 * at the end: no exception escaped, the table is valid, our writes are untouched and the
 * bystander still gets fresh values. Connections the endpoint closes are reopened.
 */
export async function runFuzz(target: Target, seed: number, frames: number): Promise<Record<string, number>> {
  const fuzzer = new FrameFuzzer(seededRandom(seed), FUZZ_MAX_PAYLOAD);
  const kinds: Record<string, number> = {};
  for (let i = 1; i <= frames; i++) {
    const frame = fuzzer.next();
    kinds[frame.kind] = (kinds[frame.kind] ?? 0) + 1;
    const where = `seed ${seed}, frame ${i} (${frame.kind})`;
    const peer = target.peer();
    peer.ws.send(frame.data, { binary: frame.binary });
    if (frame.closes) {
      assert.equal(await target.settle(), 'closed', `${where}: the connection must be closed`);
      await within(peer.closed, `${where}: the close`);
      await target.reopen();
    } else if (i % BATCH === 0) {
      assert.equal(await target.settle(), 'open', `${where}: the connection must stay open`);
    }
    if (i % BATCH === 0) {
      assertHealthy(target, where);
      await target.checkBystander();
    }
  }
  assert.equal(await target.settle(), 'open');
  assertHealthy(target, `seed ${seed}, after ${frames} frames`);
  await target.checkBystander();
  return kinds;
}

/** The mocha tests of one fuzz run at each side. */
export function describeFuzz(frames: number, seed: number): void {
  describe(`fuzz: ${frames} seeded random and mutated frames at each side (seed ${seed}; RV_FUZZ_SEED=<n> to change)`, function () {
    this.timeout(180000);
    const resources = new Resources();
    afterEach(() => resources.closeAll());

    for (const role of ['server', 'client'] as const) {
      it(`at the ${role}: never throws, keeps a valid table, the bystander is unaffected`, async function () {
        const target = role === 'server' ? await serverTarget(resources, { maxPayload: FUZZ_MAX_PAYLOAD }) : await clientTarget(resources, { maxPayload: FUZZ_MAX_PAYLOAD });
        const kinds = await runFuzz(target, seed, frames);
        for (const kind of FUZZ_KINDS) assert.ok((kinds[kind] ?? 0) > 0, `no "${kind}" frame was generated: ${JSON.stringify(kinds)}`);
        assert.ok(target.problems.length > frames / 10, `only ${target.problems.length} problems were reported`);
        const longest = Math.max(...target.logger.lines.map((line) => line.text.length));
        assert.ok(longest < 1000, `a log line of ${longest} characters`);
      });
    }
  });
}
