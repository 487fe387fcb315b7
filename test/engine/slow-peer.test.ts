/**
 * Slow peers: a client that stops reading (its socket paused) while the server writes a
 * big, changing value every cycle. The server's queue for it stays bounded (it is skipped
 * and conflated: later it gets only the latest value of each signal), it is dropped with
 * a clear reason after slowPeerTimeoutMs, and the other clients keep their cycle rate.
 */
import assert from 'assert/strict';
import WebSocket from 'ws';
import { RealvirtualClient, RealvirtualServer, ServerOptions } from '../../engine';
import { nextEvent, RawClient, Resources, until } from '../helpers/events';

const KiB = 1024;

describe('slow peers', function () {
  this.timeout(30000);
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  async function start(options: ServerOptions): Promise<RealvirtualServer> {
    // Blobs of 128 KiB fill socket buffers fast: above the default maxTextBytes (64 KiB).
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, heartbeatMs: 0, maxTextBytes: 256 * KiB, ...options }));
    await server.listen();
    return server;
  }

  /** The server's socket to the client named `name`, and its unsent bytes. */
  function socketOf(server: RealvirtualServer, name: string): WebSocket | undefined {
    for (const [peer, socket] of (server as any).sockets as Map<{ name: string }, WebSocket>) if (peer.name === name) return socket;
    return undefined;
  }

  async function rawClient(server: RealvirtualServer, name: string): Promise<RawClient> {
    const introduced = nextEvent(server, 'init', (peer) => peer.name === name);
    const raw = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    raw.init(name);
    await introduced;
    return raw;
  }

  /** Writes Tick (small) and Blob (128 KiB, different each time) every 5 ms until stopped. */
  function writeContinuously(server: RealvirtualServer): { stop(): void; ticks(): number } {
    let tick = 0;
    const blob = 'b'.repeat(128 * KiB);
    const timer = setInterval(() => {
      tick++;
      server.writeMany({ Tick: tick, Blob: `${tick}:${blob}` });
    }, 5);
    resources.add({ close: () => clearInterval(timer) });
    return { stop: () => clearInterval(timer), ticks: () => tick };
  }

  it('a client that stops reading: bounded queue, dropped with a clear reason after slowPeerTimeoutMs; another client keeps its cycle rate', async function () {
    const cycleMs = 20;
    const slowPeerBytes = 256 * KiB;
    const slowPeerTimeoutMs = 1500;
    const server = await start({ cycleMs, slowPeerBytes, slowPeerTimeoutMs });
    const problems: string[] = [];
    server.on('problem', (error) => problems.push(`${error.code}: ${error.message}`));
    const fast = resources.add(new RealvirtualClient({ port: server.port, clientName: 'Fast', subscribe: ['Tick'], heartbeatMs: 0, autoReconnect: false }));
    const fastTicks: number[] = [];
    fast.on('data', (event) => {
      if (typeof event.values.Tick === 'number') fastTicks.push(Date.now());
    });
    await fast.connect();
    const slow = await rawClient(server, 'Slow');
    const writer = writeContinuously(server);
    await slow.waitFor((frame) => frame.type === 'data' && typeof frame.signals?.Blob === 'string', 'the slow client to get data at first');

    slow.ws.pause(); // it stops reading: the server's sends pile up in its socket
    const pausedAt = Date.now();
    const cyclesAtPause = server.stats.cycles;
    let peak = 0;
    const sampler = setInterval(() => {
      const socket = socketOf(server, 'Slow');
      if (socket) peak = Math.max(peak, socket.bufferedAmount);
    }, 2);
    resources.add({ close: () => clearInterval(sampler) });
    const [peer, reason] = await nextEvent(server, 'disconnect', (info) => info.name === 'Slow', 20000);
    const droppedAt = Date.now();
    const cyclesRun = server.stats.cycles - cyclesAtPause;
    clearInterval(sampler);
    writer.stop();

    assert.equal(peer.name, 'Slow');
    assert.match(reason, /read nothing for \d+ ms while over slowPeerBytes \(262144 bytes unsent\): disconnected/);
    assert.ok(
      problems.some((p) => p.startsWith('ERR_SLOW_PEER: peer Slow read nothing')),
      `problems: ${problems}`,
    );
    // Bounded: the threshold plus the one frame that crossed it (128 KiB and a little framing).
    assert.ok(peak > slowPeerBytes, `the queue never passed the threshold (peak ${peak}): the test did not make the peer slow`);
    assert.ok(peak <= slowPeerBytes + 130 * KiB, `the queue grew to ${peak} bytes (threshold ${slowPeerBytes})`);
    // Dropped no earlier than the timeout allows (it was over the threshold that long), and it is gone.
    assert.ok(droppedAt - pausedAt >= slowPeerTimeoutMs, `dropped after ${droppedAt - pausedAt} ms`);
    assert.deepEqual(
      server.clients.map((c) => c.name),
      ['Fast'],
    );
    assert.equal(server.status.clients, 1);
    // Its socket is released too (after the close handshake's grace time: the peer reads nothing).
    await until(() => socketOf(server, 'Slow') === undefined, "the server to release the slow client's socket");

    // The fast client kept its cycle rate while the slow one was stuck: an update in at least half of
    // the cycles the server ran (counted, not derived from the time: a busy machine runs fewer).
    const during = fastTicks.filter((at) => at >= pausedAt && at <= droppedAt).length;
    assert.ok(cyclesRun >= 10, `the server ran ${cyclesRun} cycles while the client was stuck`);
    assert.ok(during >= cyclesRun / 2, `the fast client got ${during} updates in ${droppedAt - pausedAt} ms (${cyclesRun} cycles of ${cycleMs} ms)`);
    await until(() => fast.values().Tick === writer.ticks(), 'the fast client to hold the last Tick');
  });

  it('a slow client that reads again gets only the latest value of each signal, not every missed one', async function () {
    const server = await start({ cycleMs: 20, slowPeerBytes: 256 * KiB, slowPeerTimeoutMs: 0 });
    const slow = await rawClient(server, 'Slow');
    const writer = writeContinuously(server);
    await slow.waitFor((frame) => frame.type === 'data', 'the first data');
    slow.ws.pause();
    await until(() => (socketOf(server, 'Slow')?.bufferedAmount ?? 0) > 256 * KiB, 'the server to see the client as slow', 15000);
    // From here on the server skips it: at most the cycle in progress still goes out (Tick grows by 4 a cycle).
    const tickWhenSlow = writer.ticks() + 8;
    const cyclesBefore = server.stats.cycles;
    await until(() => server.stats.cycles >= cyclesBefore + 25 && writer.ticks() > tickWhenSlow + 50, '25 cycles and 50 values while the client is stuck');
    writer.stop();
    const last = writer.ticks();
    slow.ws.resume();
    const final = await slow.waitFor((frame) => frame.type === 'data' && frame.signals?.Tick === last, `the latest Tick (${last})`, 15000);
    assert.ok(String(final.signals?.Blob).startsWith(`${last}:`), 'with the latest Blob');
    // It read what was queued before it fell behind, then the latest state: none of the values in between.
    const ticks = slow.ofType('data').map((frame) => frame.signals?.Tick as number);
    const between = ticks.filter((tick) => tick > tickWhenSlow && tick < last);
    assert.deepEqual(between, [], `values written while it was stuck were queued for it`);
    assert.equal(ticks.filter((tick) => tick === last).length, 1, 'the latest value once');
    assert.equal(server.status.clients, 1, 'never dropped (slowPeerTimeoutMs 0)');
  });

  it('a client that keeps asking (import_request) but never reads is dropped once its unsent answers pass slowPeerBytes + maxPayload', async function () {
    const slowPeerBytes = 64 * KiB;
    const maxPayload = 64 * KiB;
    const server = await start({ slowPeerBytes, maxPayload, slowPeerTimeoutMs: 0, signals: [{ name: 'Catalog', type: 'Text', direction: 'write', value: 'c'.repeat(32 * KiB) }] });
    const greedy = await rawClient(server, 'Greedy');
    greedy.ws.pause();
    const dropped = nextEvent(server, 'disconnect', (info) => info.name === 'Greedy', 20000);
    let peak = 0;
    let sent = 0;
    const asking = setInterval(() => {
      const socket = socketOf(server, 'Greedy');
      if (socket) peak = Math.max(peak, socket.bufferedAmount);
      for (let i = 0; i < 50 && greedy.open && sent < 20000; i++, sent++) greedy.send({ type: 'import_request', version: 2 });
    }, 2);
    resources.add({ close: () => clearInterval(asking) });
    const [, reason] = await dropped;
    clearInterval(asking);
    assert.match(reason, /has more than 131072 bytes unsent \(slowPeerBytes \+ maxPayload\): it is not reading: disconnected/);
    assert.ok(peak <= slowPeerBytes + maxPayload + 40 * KiB, `the queue grew to ${peak} bytes`);
    assert.equal(server.status.clients, 0);
  });
});
