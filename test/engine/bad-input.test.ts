/**
 * Bad input, table-driven, at the server and at the client alike: every frame of the
 * table in helpers/bad-frames.ts is sent over a real socket to an endpoint with declared
 * signals while a bystander looks on. After each one no exception escaped, the signal
 * table holds only valid values, our own write signals are untouched, nothing is
 * polluted and the bystander carries on; problems are reported with their codes and the
 * log stays short.
 */
import assert from 'assert/strict';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { CASES } from '../helpers/bad-frames';
import { delay, nextEvent, Resources, until, within } from '../helpers/events';
import { rawWebSocket, RecordingLogger, ScriptedServer, wsFrame } from '../helpers/faults';
import { assertHealthy, clientTarget, serverTarget, Target } from '../helpers/targets';

async function runTable(target: Target): Promise<void> {
  for (const test of CASES) {
    const label = `${target.role}: ${test.what}`;
    const frame = typeof test.frame === 'function' ? test.frame() : test.frame;
    const logBefore = target.logger.visible.length;
    const problemsBefore = target.problems.length;
    const peer = target.peer();
    peer.ws.send(frame, { binary: test.binary === true });
    const state = await target.settle();
    if (test.closeCode !== undefined) {
      assert.equal(state, 'closed', `${label}: the connection must be closed`);
      assert.equal((await within(peer.closed, `${label}: the close`)).code, test.closeCode, `${label}: close code`);
      await target.reopen();
    } else {
      assert.equal(state, 'open', `${label}: the connection must stay open`);
    }
    const reported = new Set(target.problems.slice(problemsBefore).map((problem) => problem.code));
    for (const code of test.codes ?? []) assert.ok(reported.has(code), `${label}: ${code} not reported (got ${[...reported].join(', ') || 'nothing'})`);
    if (!test.codes) assert.deepEqual([...reported], [], `${label}: no problem expected`);
    // Per peer the log gets at most 20 lines a minute plus one notice, however many problems there were.
    assert.ok(target.logger.visible.length - logBefore <= 21, `${label}: ${target.logger.visible.length - logBefore} log lines`);
    if (test.after) await test.after(target.endpoint, target);
    assertHealthy(target, label);
    await target.checkBystander();
  }
}

describe('bad input (table): the process never throws, the table stays valid, others are unaffected', function () {
  this.timeout(60000);
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  it(`at the server: ${CASES.length} kinds of bad frames from a client`, async function () {
    await runTable(await serverTarget(resources, { maxSignals: 300000 }));
  });

  it(`at the client: ${CASES.length} kinds of bad frames from a server`, async function () {
    await runTable(await clientTarget(resources, { maxSignals: 300000 }));
  });

  it('maxSignals bounds the table: a peer that sends ever new names gets ERR_TOO_MANY_SIGNALS, declared signals still work', async function () {
    const target = await serverTarget(resources, { maxSignals: 1000 });
    const peer = target.peer();
    for (let batch = 0; batch < 5; batch++) {
      peer.send({ type: 'data', signals: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`New${batch}_${i}`, i])) });
    }
    peer.send({ type: 'data', signals: { Level: 7 } });
    assert.equal(await target.settle(), 'open');
    assert.equal(target.endpoint.table.size, 1000, 'the table is full: maxSignals');
    assert.equal(target.endpoint.values().Level, 7);
    assert.ok(target.problems.some((problem) => problem.code === 'ERR_TOO_MANY_SIGNALS' && /maxSignals \(1000\)/.test(problem.message)));
    assert.ok(target.logger.visible.length <= 21, `${target.logger.visible.length} log lines`);
    assertHealthy(target, 'maxSignals');
  });

  it('frames that break WebSocket framing from a client (unmasked, reserved opcode, RSV1, long control frame) close only that connection with 1002', async function () {
    const target = await serverTarget(resources);
    const server = target.endpoint as RealvirtualServer;
    const broken: Array<[string, Buffer]> = [
      ['an unmasked frame', wsFrame(1, '{"type":"data","signals":{"U":1}}', { mask: false })],
      ['a reserved opcode', wsFrame(3, 'x', { mask: true })],
      ['RSV1 without an extension', wsFrame(1, '{"type":"init"}', { mask: true, rsv1: true })],
      ['a ping of 200 bytes', wsFrame(9, Buffer.alloc(200), { mask: true })],
      ['a fragmented close frame', wsFrame(8, Buffer.from([3, 232]), { mask: true, fin: false })],
    ];
    for (const [what, frame] of broken) {
      const socket = await rawWebSocket(server.port);
      resources.add({ close: () => socket.destroy() });
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(frame);
      await within(closed, `${what}: the server closing the connection`);
      const answer = Buffer.concat(received);
      assert.equal(answer[0], 0x88, `${what}: a close frame`);
      assert.equal(answer.readUInt16BE(2), 1002, `${what}: close code 1002`);
      assertHealthy(target, what);
      await target.checkBystander();
    }
    assert.equal(server.values().U, undefined);
  });

  it('frames that break WebSocket framing from a server (masked, reserved opcode) close that connection with 1002, and the client reconnects', async function () {
    const logger = new RecordingLogger();
    const scripted = resources.add(
      await ScriptedServer.start((socket, index) => {
        if (index === 0) socket.write(wsFrame(1, '{"type":"snapshot","signals":{"M":1}}', { mask: true }));
        else if (index === 1) socket.write(wsFrame(3, 'x'));
        else socket.write(wsFrame(1, '{"type":"snapshot","signals":{"Good":true}}'));
      }),
    );
    const client = resources.add(new RealvirtualClient({ port: scripted.port, heartbeatMs: 0, reconnectIntervalMs: 5, maxReconnectIntervalMs: 20, reconnectJitter: 0, logger }));
    await client.connect();
    await until(() => client.values().Good === true, 'the third connection to deliver its snapshot');
    assert.equal(client.values().M, undefined);
    assert.equal(scripted.connections, 3);
    await delay(10);
    assert.ok(logger.visible.length <= 3, `log: ${JSON.stringify(logger.visible)}`);
    const retried = nextEvent(client, 'status', (s) => s.state === 'connected', 100).catch(() => 'no change');
    assert.equal(await retried, 'no change', 'connected for good');
  });
});
