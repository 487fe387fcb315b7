/**
 * What one peer's large frames may make the engine hold, over real sockets: Text values,
 * signal names, peer names and rejected values are bounded per signal with a coded error,
 * the rest of the message applies, and one frame of many rejected values builds at most
 * MAX_REJECTED_LISTED + 1 errors. The same tests run with the red-team sizes in
 * test/soak (they prove the bounds; memory figures are printed, the asserted bounds are
 * generous) and with small twins in npm test (the same code paths).
 */
import assert from 'assert/strict';
import { RealvirtualServer, SignalError } from '../../engine';
import { MAX_REJECTED_LISTED } from '../../engine/realvirtual/messages';
import { signalBytes } from '../../engine/realvirtual/signals';
import { MemoryBoundSizes } from './counts';
import { RawClient, Resources, until } from './events';
import { heapAfterGc, RecordingLogger } from './faults';
import { assertHealthy, serverTarget } from './targets';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Frames of many megabytes take seconds to parse on a busy machine. */
const LONG_WAIT_MS = 60000;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** A size as the test titles give it: whole MiB or KiB. */
export function sizeName(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

/** Resident set size, for the printed before/after figures (RSS is not asserted: the allocator keeps freed pages). */
function rss(): number {
  return process.memoryUsage().rss;
}

/** The table's bytes counted from scratch: what the incremental count must equal. */
export function recount(server: RealvirtualServer): number {
  let sum = 0;
  for (const signal of server.table) sum += signalBytes(signal.name, signal.value);
  return sum;
}

export function describeMemoryBounds(sizes: MemoryBoundSizes): void {
  describe('engine: memory bounds of what one peer sends', function () {
    this.timeout(120000);
    const resources = new Resources();
    afterEach(() => resources.closeAll());

    const { texts, names, initNames, rejected } = sizes;

    it(`${texts.count} new Text signals of ${sizeName(texts.bytes)} each: each rejected with ERR_VALUE_TOO_LARGE, the table and the heap stay small`, async function () {
      const target = await serverTarget(resources, { maxPayload: 32 * MiB });
      const server = target.endpoint as RealvirtualServer;
      const before = await heapAfterGc();
      const rssBefore = rss();
      const big = 'x'.repeat(texts.bytes);
      const last = texts.count - 1;
      for (let i = 0; i < texts.count; i++) target.peer().send(`{"type":"data","signals":{"Big${i}":"${big}","Small${i}":${i}}}`);
      await until(() => target.problems.length >= texts.count, 'every large text reported', LONG_WAIT_MS);
      assert.equal(await target.settle(), 'open');
      const grown = (await heapAfterGc()) - before;
      console.log(`      after ${texts.count} × ${sizeName(texts.bytes)} texts: heap ${mib(grown)}, RSS ${mib(rss() - rssBefore)} more (the table accounts ${mib(server.table.bytes)})`);
      assert.equal(target.problems.filter((problem) => problem.code === 'ERR_VALUE_TOO_LARGE').length, texts.count);
      assert.ok(target.problems.some((problem) => problem instanceof SignalError && problem.signal === 'Big0' && /maxTextBytes \(65536\)/.test(problem.message)));
      assert.equal(server.table.has('Big0'), false);
      assert.equal(server.values()[`Small${last}`], last, 'the rest of each message applies');
      assert.ok(grown < 100 * MiB, `heap grew by ${mib(grown)}`);
      assert.equal(server.table.bytes, recount(server));
      assertHealthy(target, 'large texts');
    });

    it(`${names.count} new names of ${sizeName(names.bytes)} each: ERR_NAME_TOO_LONG, nothing kept after the client left`, async function () {
      const target = await serverTarget(resources, { maxPayload: 32 * MiB });
      const server = target.endpoint as RealvirtualServer;
      const sizeBefore = server.table.size;
      const before = await heapAfterGc();
      const rssBefore = rss();
      const long = 'n'.repeat(names.bytes);
      for (let i = 0; i < names.count; i++) target.peer().send(`{"type":"data","signals":{"${long}${i}":1}}`);
      await until(() => target.problems.length >= names.count, 'every long name reported', LONG_WAIT_MS);
      assert.equal(await target.settle(), 'open');
      assert.equal(target.problems.filter((problem) => problem.code === 'ERR_NAME_TOO_LONG').length, names.count);
      // The errors name the signal in full (a listener may keep them): this test does not.
      target.problems.length = 0;
      assert.equal(server.table.size, sizeBefore + 0, 'no long name entered the table');
      await target.peer().close();
      await until(() => !server.clients.some((client) => client.name === 'Raw'), 'the raw client gone');
      const grown = (await heapAfterGc()) - before;
      console.log(`      after ${names.count} × ${sizeName(names.bytes)} names, client gone: heap ${mib(grown)}, RSS ${mib(rss() - rssBefore)} more`);
      assert.ok(grown < 50 * MiB, `heap grew by ${mib(grown)}`);
      assert.ok(
        target.logger.visible.every((line) => line.length < 1000),
        'log lines stay short',
      );
    });

    it(`${initNames.count} open clients whose init names are ${sizeName(initNames.bytes)} each: names clipped to maxClientName (a flat copy), reported once each`, async function () {
      const logger = new RecordingLogger();
      const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0, maxPayload: 32 * MiB, logger }));
      await server.listen();
      const problems: string[] = [];
      server.on('problem', (error) => problems.push(error.code));
      const before = await heapAfterGc();
      const rssBefore = rss();
      const clients: RawClient[] = [];
      for (let i = 0; i < initNames.count; i++) {
        const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
        client.send(`{"type":"init","version":2,"name":"${i}${'c'.repeat(initNames.bytes)}"}`);
        client.send(`{"type":"init","version":2,"name":"${i}${'c'.repeat(initNames.bytes)}"}`);
        clients.push(client);
      }
      await until(() => server.clients.filter((client) => client.name.length === 256).length === initNames.count, 'every name clipped', LONG_WAIT_MS);
      const grown = (await heapAfterGc()) - before;
      console.log(`      with ${initNames.count} clients named by ${sizeName(initNames.bytes)} inits: heap ${mib(grown)}, RSS ${mib(rss() - rssBefore)} more`);
      assert.ok(grown < 100 * MiB, `heap grew by ${mib(grown)}`);
      assert.equal(problems.filter((code) => code === 'ERR_NAME_TOO_LONG').length, initNames.count, 'once per client, not per init');
      assert.equal(clients.filter((client) => client.open).length, initNames.count, 'no client was dropped');
    });

    it(`Text values of ${sizeName(sizes.shapedTextBytes)} on the fast frame reader: limits apply, equal texts keep the stored copy, changed ones are copied (no frame kept alive)`, async function () {
      const target = await serverTarget(resources, { maxPayload: 32 * MiB });
      const server = target.endpoint as RealvirtualServer;
      const signalNames = Array.from({ length: 256 }, (_, i) => `Text${i}`);
      const text = (i: number, round: number): string => (i < round ? String(i % 10) : 'v').repeat(sizes.shapedTextBytes);
      // Frame r: the texts before r changed to their digit, the others "v"; one more changes per frame.
      const frame = (round: number): string => `{"type":"data","signals":{${signalNames.map((name, i) => `"${name}":"${text(i, round)}"`).join(',')}}}`;
      for (let round = 0; round < 3; round++) target.peer().send(frame(0));
      assert.equal(await target.settle(), 'open');
      const before = await heapAfterGc();
      const rssBefore = rss();
      for (let round = 1; round <= 20; round++) target.peer().send(frame(round));
      await until(() => (server.values().Text19 as string)[0] === '9', 'the last frame applied', LONG_WAIT_MS);
      // A frame of another shape: a stored slice would now keep the last frame alive.
      target.peer().send({ type: 'data', signals: { Level: 1 } });
      assert.equal(await target.settle(), 'open');
      const grown = (await heapAfterGc()) - before;
      console.log(`      after 20 shaped frames of ${mib(frame(20).length)}: heap ${mib(grown)}, RSS ${mib(rss() - rssBefore)} more (the table accounts ${mib(server.table.bytes)})`);
      for (const i of [0, 9, 19, 20, 255]) assert.equal(server.values()[`Text${i}`], text(i, 20), `Text${i}`);
      assert.equal(server.table.bytes, recount(server));
      // Over maxTextBytes on the fast path: rejected with its code, the stored text stays.
      const over = `{"type":"data","signals":{${signalNames.map((name, i) => `"${name}":"${i === 0 ? 'o'.repeat(70 * 1024) : text(i, 20)}"`).join(',')}}}`;
      target.peer().send(over);
      await until(() => target.problems.some((problem) => problem.code === 'ERR_VALUE_TOO_LARGE'), 'ERR_VALUE_TOO_LARGE');
      assert.equal((server.values().Text0 as string)[0], '0');
    });

    it(`one data frame of ${rejected.nulls.toLocaleString('en-US')} null values and an import answer of ${rejected.importTypes.toLocaleString('en-US')} non-string types build at most ${MAX_REJECTED_LISTED + 1} errors each`, async function () {
      const target = await serverTarget(resources, { maxPayload: 64 * MiB });
      const server = target.endpoint as RealvirtualServer;
      target.peer().send(`{"type":"data","signals":{${Array.from({ length: rejected.nulls }, (_, i) => `"N${i}":null`).join(',')}}}`);
      await until(() => target.problems.length >= MAX_REJECTED_LISTED + 1, 'the rejected nulls reported', LONG_WAIT_MS);
      assert.equal(await target.settle(), 'open');
      assert.ok(target.problems.length <= MAX_REJECTED_LISTED + 1, `${target.problems.length} problems`);
      let rejectedCount = -1;
      server.once('importAnswer', (result) => (rejectedCount = result.rejected.length));
      const from = target.problems.length;
      target.peer().send(`{"type":"import_answer","signals":{},"signalTypes":{${Array.from({ length: rejected.importTypes }, (_, i) => `"T${i}":1`).join(',')}}}`);
      await until(() => rejectedCount >= 0, 'the import answer handled', LONG_WAIT_MS);
      assert.equal(await target.settle(), 'open');
      assert.ok(target.problems.length - from <= MAX_REJECTED_LISTED + 1, `${target.problems.length - from} problems`);
      assert.ok(
        target.problems.slice(from).some((problem) => problem.message.includes(`${rejected.importTypes - MAX_REJECTED_LISTED} more signals`)),
        'the rest is counted',
      );
      assert.ok(rejectedCount >= 0 && rejectedCount <= MAX_REJECTED_LISTED + 1);
      // Values the table rejects (not the parser) are counted beyond the bound, too.
      const full = await serverTarget(resources, { maxSignals: 10, maxPayload: 64 * MiB });
      const fullFrom = full.problems.length;
      full.peer().send({ type: 'data', signals: Object.fromEntries(Array.from({ length: rejected.beyondMaxSignals }, (_, i) => [`New${i}`, i])) });
      await until(() => full.problems.length > fullFrom + MAX_REJECTED_LISTED, 'the rejected values reported', LONG_WAIT_MS);
      assert.equal(await full.settle(), 'open');
      const reported = full.problems.slice(fullFrom);
      assert.ok(reported.length <= MAX_REJECTED_LISTED + 1, `${reported.length} problems`);
      assert.ok(reported.some((problem) => /more values were rejected/.test(problem.message)));
      assertHealthy(target, 'many rejected values');
    });
  });
}
