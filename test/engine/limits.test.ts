/**
 * What one peer may make the engine hold or do, over real sockets: Text values, signal
 * names, peer names and the whole table are bounded (per signal, with a coded error; the
 * rest of the message applies), imports honour the same limits, a throwing listener costs
 * only its frame, and peer text cannot forge or flood the log. The memory bounds of large
 * frames run here with small twins (helpers/memory-bounds.ts); with the red-team sizes in
 * test/soak (npm run test:soak).
 */
import assert from 'assert/strict';
import { RealvirtualClient, RealvirtualServer, SignalError } from '../../engine';
import { systemClock } from '../../engine/clock';
import { LogBudget } from '../../engine/log-budget';
import { printable } from '../../engine/text';
import { MEMORY_BOUNDS } from '../helpers/counts';
import { RawClient, Resources, until, WAIT_MS } from '../helpers/events';
import { catchUncaught, heapAfterGc, RecordingLogger } from '../helpers/faults';
import { describeMemoryBounds, recount } from '../helpers/memory-bounds';
import { assertHealthy, serverTarget } from '../helpers/targets';

const MiB = 1024 * 1024;
/** A frame of many megabytes takes seconds to parse on a busy machine. */
const LONG_WAIT_MS = 60000;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

describeMemoryBounds(MEMORY_BOUNDS.quick);

describe('engine: limits of what one peer may store or cost', function () {
  this.timeout(120000);
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  it('a known Text signal: a text over maxTextBytes is rejected on the fast path too, the previous value stays', async function () {
    const target = await serverTarget(resources, { maxTextBytes: 1000 });
    const server = target.endpoint as RealvirtualServer;
    target.peer().send({ type: 'data', signals: { Note: 'short' } });
    for (let i = 0; i < 3; i++) target.peer().send({ type: 'data', signals: { Note: 'é'.repeat(600), Level: i } });
    assert.equal(await target.settle(), 'open');
    assert.equal(server.values().Note, 'short');
    assert.equal(server.values().Level, 2);
    const error = target.problems.find((problem) => problem.code === 'ERR_VALUE_TOO_LARGE');
    assert.ok(error && /1200 bytes/.test(error.message), 'measured in UTF-8 bytes');
    assert.equal(server.table.bytes, recount(server));
  });

  it('maxTableBytes: new signals and growing texts beyond the budget get ERR_TABLE_FULL; the count stays exact through changes and removals', async function () {
    const target = await serverTarget(resources, { maxTableBytes: 2 * MiB });
    const server = target.endpoint as RealvirtualServer;
    for (let batch = 0; batch < 10; batch++) {
      const signals: Record<string, string> = {};
      for (let i = 0; i < 10; i++) signals[`T${batch}_${i}`] = String(batch).repeat(30000);
      target.peer().send({ type: 'data', signals });
    }
    assert.equal(await target.settle(), 'open');
    assert.ok(target.problems.some((problem) => problem.code === 'ERR_TABLE_FULL' && /maxTableBytes \(2097152/.test(problem.message)));
    assert.ok(server.table.bytes <= 2 * MiB, `${server.table.bytes} bytes accounted`);
    assert.equal(server.table.bytes, recount(server));
    // Shorter texts free room; removing signals gives it back.
    target.peer().send({ type: 'data', signals: { T0_0: 'a', T0_1: 'b' } });
    assert.equal(await target.settle(), 'open');
    assert.equal(server.table.bytes, recount(server));
    server.table.remove('T0_2');
    assert.equal(server.table.bytes, recount(server));
    assert.throws(
      () => server.write('Huge', 'h'.repeat(2 * MiB)),
      (error: SignalError) => error.code === 'ERR_VALUE_TOO_LARGE',
    );
    assertHealthy(target, 'table budget');
  });

  it('imports with declare honour maxSignals and the limits: three large catalogs stop at maxSignals, each extra signal rejected', async function () {
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0 }));
    await server.listen();
    const client = resources.add(new RealvirtualClient({ port: server.port, cycleMs: 0, heartbeatMs: 0, autoReconnect: false, maxSignals: 1000, maxNameLength: 50 }));
    await client.connect();
    const errors: SignalError[] = [];
    for (let part = 0; part < 3; part++) {
      for (let i = 0; i < 2000; i++) server.write(`Cat${part}_${i}`, i);
      const result = await client.requestImport();
      errors.push(...client.declareImported(result.signals));
      server.table.clear();
    }
    server.write(`${'L'.repeat(60)}`, 1);
    errors.push(...client.declareImported((await client.requestImport()).signals));
    assert.equal(client.table.size, 1000, 'imports stop at maxSignals');
    assert.equal(errors.filter((error) => error.code === 'ERR_TOO_MANY_SIGNALS').length, 5000);
    assert.ok(errors.some((error) => error.code === 'ERR_NAME_TOO_LONG'));
    // A user's declarations always fit.
    client.declare({ name: 'Mine', type: 'Int', direction: 'write' });
    assert.equal(client.table.size, 1001);
  });

  it('listeners that throw (data with a real RangeError, init, importAnswer, problem) cost only their frame, with one coded log line', async function () {
    const target = await serverTarget(resources);
    const server = target.endpoint as RealvirtualServer;
    const uncaught = catchUncaught();
    resources.add({ close: () => uncaught.stop() });
    const deep = (n: number): number => deep(n + 1) + 1;
    const throwing = (): void => {
      deep(0);
    };
    server.on('data', throwing);
    server.on('init', () => {
      throw new Error('init listener broke');
    });
    server.on('importAnswer', () => {
      throw new TypeError('importAnswer listener broke');
    });
    target.peer().send({ type: 'data', signals: { Level: 3 } });
    target.peer().send({ type: 'init', version: 2, name: 'Raw' });
    target.peer().send({ type: 'import_answer', signals: { A: 1 }, signalTypes: { A: 'PLCOutputInt' } });
    assert.equal(await target.settle(), 'open');
    server.off('data', throwing);
    assert.equal(server.values().Level, 3, 'the value was stored before the listener threw');
    assert.ok(target.problems.filter((problem) => problem.code === 'ERR_HANDLER_FAILED').length >= 3);
    assert.ok(target.problems.some((problem) => problem.code === 'ERR_HANDLER_FAILED' && /RangeError/.test(problem.message)));
    const logged = target.logger.visible.filter((line) => /handling a frame from .* failed/.test(line));
    assert.equal(logged.length, 1, 'logged once per peer and kind');
    // A problem listener that throws as well.
    server.on('problem', () => {
      throw new Error('problem listener broke');
    });
    target.peer().send('not json');
    target.peer().send({ type: 'data', signals: { Level: 4 } });
    await until(() => server.values().Level === 4, 'the next frame handled');
    assert.deepEqual(uncaught.errors, []);
    assert.deepEqual(target.uncaught(), []);
    await target.checkBystander();
  });

  it('a peer name or signal name with "\\n[error] FORGED" (and ESC, U+2028) never starts a log line of its own', async function () {
    const target = await serverTarget(resources);
    const forged = 'Raw\n[error] FORGED\r\u001b[31m\u2028[error] FORGED';
    target.peer().send({ type: 'init', version: 2, name: forged });
    target.peer().send({ type: 'data', signals: { [`Bad\n[error] FORGED`]: null, Level: 'x\n[error] FORGED', Flag: [1] } });
    target.peer().send('{"type":"data","signals":{"A":1}');
    assert.equal(await target.settle(), 'open');
    assert.ok(target.logger.lines.length > 0);
    const lines = target.logger.lines.flatMap((line) => `[${line.level}] ${line.text}`.split(/\r\n|\r|\n|\u2028|\u2029/));
    assert.ok(
      lines.every((line) => !line.startsWith('[error] FORGED')),
      lines.join('\n'),
    );
    assert.ok(
      target.logger.lines.every((line) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(line.text)),
      'no control character reaches a line',
    );
    assert.ok(
      target.logger.lines.some((line) => line.text.includes('Raw\\n[error] FORGED\\r\\u001b[31m\\u2028')),
      'the name appears escaped',
    );
  });

  it('200 connections × 25 bad frames write at most the budget of 20 lines a minute for the whole endpoint', async function () {
    const logger = new RecordingLogger();
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0, logger }));
    await server.listen();
    let problems = 0;
    server.on('problem', () => problems++);
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(`ws://127.0.0.1:${server.port}/`, {}, 10 * WAIT_MS)));
    for (const client of clients) resources.add(client);
    for (let frame = 0; frame < 25; frame++) {
      for (let c = 0; c < clients.length; c++) clients[c].send(frame % 2 === 0 ? `not json ${frame}` : { type: 'data', signals: { [`S${frame}`]: null } });
    }
    await until(
      () => problems >= 200 * 25,
      () => `every bad frame reported (${problems})`,
      10 * WAIT_MS,
    );
    console.log(`      ${problems} problems from 200 connections, ${logger.visible.length} log lines`);
    assert.ok(logger.visible.length <= 21, `${logger.visible.length} log lines`);
    assert.ok(logger.visible.length >= 20);
  });

  it('LogBudget: over budget it is quiet, then one summary line when the window ends or before the next line', function () {
    let now = 0;
    const summaries: number[] = [];
    const budget = new LogBudget(3, 1000, (count) => summaries.push(count), { ...systemClock, now: () => now });
    const verdicts = Array.from({ length: 10 }, () => budget.take());
    assert.deepEqual(verdicts, ['log', 'log', 'log', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet']);
    assert.deepEqual(summaries, []);
    now = 1500;
    assert.equal(budget.take(), 'log');
    assert.deepEqual(summaries, [7], 'the summary comes before the next logged line');
    budget.take();
    budget.take();
    budget.take();
    budget.flush();
    assert.deepEqual(summaries, [7, 1]);
    budget.take();
    budget.dispose();
    assert.deepEqual(summaries, [7, 1], 'nothing after dispose');
  });

  it('a subscribe of 200,000 names, some of 1 MiB: only names that could name a signal are kept, up to maxSignals; one coded report', async function () {
    const target = await serverTarget(resources, { maxPayload: 32 * MiB, maxSignals: 1000 });
    const peer = target.peer();
    const names = ['Speed', 'Label', 'N'.repeat(MiB), ...Array.from({ length: 200000 }, (_, i) => `Unknown${i}`)];
    const before = await heapAfterGc();
    peer.send({ type: 'subscribe', version: 2, subscribe: names });
    const snapshot = await peer.waitFor((frame) => frame.type === 'snapshot', 'the snapshot', LONG_WAIT_MS);
    assert.deepEqual(snapshot.signals, { Speed: 1.5, Label: 'ours' }, 'the names that exist are served');
    const reports = target.problems.filter((problem) => problem.code === 'ERR_INVALID_FIELD' && /subscribe/.test(problem.message));
    assert.equal(reports.length, 1);
    assert.match(reports[0].message, new RegExp(`${names.length - 999} of ${names.length} names left out`));
    const grown = (await heapAfterGc()) - before;
    console.log(`      subscribe of ${names.length} names (one of 1 MiB): heap ${mib(grown)} more while subscribed`);
    assert.ok(grown < 16 * MiB, `heap grew by ${mib(grown)}`);
    assertHealthy(target, 'a huge subscribe');
  });

  it('printable escapes every control character and clips long text', function () {
    assert.equal(printable('a\nb\rc\td\u001b[0m\u0085\u2028\u2029\u007f'), 'a\\nb\\rc\\td\\u001b[0m\\u0085\\u2028\\u2029\\u007f');
    assert.equal(printable('x'.repeat(1000), 10), `${'x'.repeat(10)}… (1000 characters)`);
    assert.equal(printable('plain name'), 'plain name');
  });
});
