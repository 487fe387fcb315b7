/**
 * RealvirtualServer over real sockets on 127.0.0.1, checked against raw `ws`
 * clients (and hand-made TCP peers), so that what is asserted is what goes over
 * the wire.
 */
import assert from 'assert/strict';
import http from 'http';
import net, { AddressInfo } from 'net';
import WebSocket from 'ws';
import { PeerInfo, RealvirtualError, RealvirtualServer, ServerOptions } from '../../engine';
import { collectEvents, delay, Frame, nextEvent, RawClient, Resources, silentClient, until, WAIT_MS, within } from '../helpers/events';
import { FakeClock } from '../helpers/fake-clock';

describe('RealvirtualServer over real sockets (raw ws clients)', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  async function startServer(options: ServerOptions = {}): Promise<RealvirtualServer> {
    const server = resources.add(new RealvirtualServer({ port: 0, host: '127.0.0.1', ...options }));
    await server.listen();
    return server;
  }

  /** Connects a raw client and waits until the server has accepted it (and its init, if a name is given). */
  async function connectRaw(server: RealvirtualServer, name?: string, path = '/'): Promise<RawClient> {
    const connected = nextEvent(server, 'connect');
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}${path}`));
    await connected;
    if (name !== undefined) {
      const initialised = nextEvent(server, 'init', (peer) => peer.name === name);
      client.init(name);
      await initialised;
    }
    return client;
  }

  /** Subscribes and waits for the snapshot that answers it. */
  async function subscribe(client: RawClient, names: string[]): Promise<Frame> {
    const from = client.mark();
    client.send({ type: 'subscribe', version: 2, subscribe: names });
    return client.waitFor((f) => f.type === 'snapshot', `the snapshot answering subscribe ${JSON.stringify(names)}`, WAIT_MS, from);
  }

  const isData = (frame: Frame): boolean => frame.type === 'data';

  describe('init and peers', function () {
    it('init sets the peer name; a repeated init only updates the name', async function () {
      const server = await startServer({
        signals: [
          { name: 'A', type: 'Int', direction: 'write', value: 1 },
          { name: 'B', type: 'Int', direction: 'write', value: 2 },
        ],
      });
      const connects: PeerInfo[] = [];
      server.on('connect', (peer) => connects.push(peer));
      const client = await connectRaw(server);
      await client.waitFor(isData, 'the full state of a late joiner');

      const first = nextEvent(server, 'init');
      client.init('First');
      const [peer1] = await first;
      assert.equal(peer1.name, 'First');
      assert.match(peer1.id, /^client-\d+$/);
      assert.deepEqual(server.clients, [{ id: peer1.id, name: 'First' }]);

      await subscribe(client, ['A']);
      const from = client.mark();
      const second = nextEvent(server, 'init');
      client.init('Second');
      const [peer2] = await second;
      assert.deepEqual(peer2, { id: peer1.id, name: 'Second' }, 'same peer, new name');
      assert.deepEqual(server.clients, [{ id: peer1.id, name: 'Second' }]);
      assert.equal(connects.length, 1, 'a repeated init is not a new connection');
      assert.equal(server.status.clients, 1);

      // The subscription survives the second init, and no full state is sent again.
      server.writeMany({ B: 20, A: 10 });
      const frame = await client.waitFor(isData, 'the change of A', WAIT_MS, from);
      assert.deepEqual(frame, { type: 'data', signals: { A: 10 } });
      assert.deepEqual(client.frames.slice(from), [frame]);
    });

    it('connect and disconnect events carry id and name; status.clients counts clients', async function () {
      const server = await startServer();
      const statuses: number[] = [];
      server.on('status', (status) => statuses.push(status.clients));
      const connects: PeerInfo[] = [];
      server.on('connect', (peer) => connects.push(peer));

      const c1 = await connectRaw(server);
      const c2 = await connectRaw(server);
      assert.equal(connects.length, 2);
      for (const peer of connects) {
        assert.match(peer.id, /^client-\d+$/);
        assert.match(peer.name, /^127\.0\.0\.1:\d+$/, 'before init a peer is named by its address');
      }
      assert.notEqual(connects[0].id, connects[1].id);
      assert.equal(server.status.clients, 2);
      assert.equal(server.status.state, 'listening');
      assert.deepEqual(statuses.slice(-2), [1, 2]);

      const initialised = nextEvent(server, 'init');
      c1.init('Leaving');
      await initialised;
      const disconnected = nextEvent(server, 'disconnect');
      c1.ws.close(1000, 'bye');
      const [peer, reason] = await disconnected;
      assert.deepEqual(peer, { id: connects[0].id, name: 'Leaving' });
      assert.match(reason, /1000/);
      assert.match(reason, /bye/);
      assert.equal(server.status.clients, 1);
      assert.equal(statuses[statuses.length - 1], 1);
      assert.deepEqual(server.clients, [connects[1]]);
      assert.ok(c2.open);
    });

    it('accepts messages of a protocol version above 2', async function () {
      const server = await startServer();
      const problems: RealvirtualError[] = [];
      server.on('problem', (error) => problems.push(error));
      const client = await connectRaw(server);

      const initialised = nextEvent(server, 'init');
      client.send({ type: 'init', version: 3, name: 'Future' });
      assert.equal((await initialised)[0].name, 'Future');

      const received = nextEvent(server, 'data');
      client.send({ type: 'data', version: 7, signals: { V: 1 }, extra: 'a field v2 does not know' });
      const [event] = await received;
      assert.deepEqual(event.values, { V: 1 });

      // A message type from the future is ignored; the session goes on.
      client.send({ type: 'telemetry', version: 3, anything: true });
      const from = client.mark();
      client.send({ type: 'import_request', version: 3 });
      const answer = await client.waitFor((f) => f.type === 'import_answer', 'the import_answer', WAIT_MS, from);
      assert.equal(answer.version, 2, 'we answer in the version we speak');
      assert.deepEqual(problems, []);
      assert.ok(client.open);
    });
  });

  describe("a new client's full state waits for its subscribe", function () {
    const plant = (): ServerOptions['signals'] => [
      { name: 'Sensor1', type: 'Bool', direction: 'write', value: true },
      { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 12.5 },
      { name: 'Counter', type: 'Int', direction: 'write', value: 3 },
    ];
    const hasValues = (frame: Frame): boolean => frame.type === 'data' || frame.type === 'snapshot';

    it('init, import_request, subscribe 200 ms after the answer: the first values are the snapshot, Counter never comes, values written meanwhile are in it', async function () {
      // A wide wait so that a loaded machine cannot stretch the 200 ms past it (the default is 500 ms).
      const server = await startServer({ cycleMs: 5, subscribeWaitMs: WAIT_MS, signals: plant() });
      const client = await connectRaw(server, 'WebViewer');
      client.send({ type: 'import_request', version: 2 });
      const answer = await client.waitFor((f) => f.type === 'import_answer', 'the import_answer');
      assert.deepEqual(Object.keys(answer.signalTypes as object).sort(), ['Counter', 'DriveSpeed', 'Sensor1']);
      server.writeMany({ DriveSpeed: 50, Counter: 4 }); // while the client reads the catalog
      await delay(200);

      const snapshot = await subscribe(client, ['Sensor1', 'DriveSpeed']);
      assert.deepEqual(snapshot.signals, { Sensor1: true, DriveSpeed: 50 });
      const from = client.mark();
      server.writeMany({ Counter: 5, DriveSpeed: 60 });
      await client.waitFor((f) => isData(f) && f.signals?.DriveSpeed === 60, 'the change of DriveSpeed', WAIT_MS, from);

      const withValues = client.frames.filter(hasValues);
      assert.equal(withValues[0], snapshot, `the first frame with values must be the snapshot: ${JSON.stringify(client.frames)}`);
      for (const frame of withValues) assert.ok(!('Counter' in frame.signals!), `Counter was sent, which the client did not subscribe to: ${JSON.stringify(frame)}`);
      assert.deepEqual(
        client.frames.map((f) => f.type),
        ['import_answer', 'snapshot', 'data'],
      );
    });

    it('a client that only sends init gets every signal, values written meanwhile included', async function () {
      const server = await startServer({ cycleMs: 5, signals: plant() });
      const client = await connectRaw(server, 'InitOnly');
      server.write('Counter', 7);
      const full = await client.waitFor(isData, 'the full state after the wait');
      assert.deepEqual(full.signals, { Sensor1: true, DriveSpeed: 12.5, Counter: 7 });
      assert.deepEqual(client.frames, [full], 'nothing came before the full state');

      // A later init (realvirtual's keep-alive) holds nothing: changes go out with the next cycle.
      client.init('InitOnly');
      const from = client.mark();
      server.write('Counter', 8);
      assert.deepEqual((await client.waitFor(isData, 'the change of Counter', WAIT_MS, from)).signals, { Counter: 8 });
    });

    it('subscribeWaitMs 0 sends the full state at once, before any message; bad values are refused', async function () {
      const server = await startServer({ cycleMs: 5, subscribeWaitMs: 0, signals: plant() });
      const client = await connectRaw(server);
      assert.deepEqual((await client.waitFor(isData, 'the full state')).signals, { Sensor1: true, DriveSpeed: 12.5, Counter: 3 });
      for (const subscribeWaitMs of [-1, Number.NaN, 60001]) {
        assert.throws(
          () => new RealvirtualServer({ subscribeWaitMs }),
          (error: RealvirtualError) => error.code === 'ERR_INVALID_OPTION' && /subscribeWaitMs/.test(error.message),
        );
      }
    });
  });

  describe('subscribe and the cyclic exchange', function () {
    it('answers a subscribe at once with a snapshot of exactly the subscribed write signals', async function () {
      // With a one-minute cycle nothing but the subscribe handler can send the snapshot in time.
      const server = await startServer({
        cycleMs: 60000,
        signals: [
          { name: 'A', type: 'Bool', direction: 'write', value: true },
          { name: 'B', type: 'Int', direction: 'write', value: 7 },
          { name: 'C', type: 'Text', direction: 'write', value: 'x' },
          { name: 'R', type: 'Float', direction: 'read' },
        ],
      });
      const client = await connectRaw(server, 'Sub');
      const subscribed = nextEvent(server, 'subscribe');
      const snapshot = await subscribe(client, ['A', 'C', 'R', 'Missing']);
      assert.deepEqual(snapshot, { type: 'snapshot', signals: { A: true, C: 'x' } });
      const [peer, names] = await subscribed;
      assert.equal(peer.name, 'Sub');
      assert.deepEqual(names, ['A', 'C', 'R', 'Missing']);

      // From now on only subscribed signals are sent.
      server.setCycleMs(10);
      const from = client.mark();
      server.writeMany({ B: 8, A: false });
      const frame = await client.waitFor(isData, 'the change of A', WAIT_MS, from);
      assert.deepEqual(frame.signals, { A: false });

      // A new subscribe replaces the old one and is answered with its own snapshot.
      const again = await subscribe(client, ['B']);
      assert.deepEqual(again.signals, { B: 8 });
    });

    it('sends a late joiner the full write state soon after connecting, then only changes', async function () {
      const server = await startServer({
        cycleMs: 10,
        signals: [
          { name: 'A', type: 'Int', direction: 'write', value: 1 },
          { name: 'B', type: 'Text', direction: 'write', value: 'x' },
          { name: 'R', type: 'Int', direction: 'read' },
        ],
      });
      server.write('C', 2.5); // inferred before anyone is connected
      const first = await connectRaw(server);
      const full = await first.waitFor(isData, 'the full write state');
      assert.deepEqual(full, { type: 'data', signals: { A: 1, B: 'x', C: 2.5 } });

      let from = first.mark();
      server.write('A', 2);
      assert.deepEqual((await first.waitFor(isData, 'the change of A', WAIT_MS, from)).signals, { A: 2 });

      from = first.mark();
      server.write('A', 2); // unchanged: nothing to send
      server.write('B', 'y');
      assert.deepEqual((await first.waitFor(isData, 'the change of B', WAIT_MS, from)).signals, { B: 'y' });

      // A second late joiner gets the full current state; the first one gets nothing for it.
      const fromFirst = first.mark();
      const second = await connectRaw(server);
      assert.deepEqual((await second.waitFor(isData, 'the full state of the second client')).signals, { A: 2, B: 'y', C: 2.5 });
      const fromSecond = second.mark();
      server.write('C', 3.5);
      await second.waitFor(isData, 'the change of C', WAIT_MS, fromSecond);
      const firstGot = await first.waitFor(isData, 'the change of C', WAIT_MS, fromFirst);
      assert.deepEqual(firstGot.signals, { C: 3.5 });
      assert.deepEqual(first.frames.slice(fromFirst), [firstGot], 'the first client got only the change');
    });

    it('with onlyChanged=false sends every write signal each cycle', async function () {
      const server = await startServer({
        cycleMs: 15,
        onlyChanged: false,
        signals: [
          { name: 'A', type: 'Int', direction: 'write', value: 1 },
          { name: 'B', type: 'Bool', direction: 'write', value: true },
          { name: 'R', type: 'Int', direction: 'read' },
        ],
      });
      const client = await connectRaw(server);
      const frames = await client.waitForCount('data', 4);
      for (const frame of frames.slice(0, 4)) assert.deepEqual(frame.signals, { A: 1, B: true });

      const from = client.mark();
      server.write('A', 5);
      await client.waitFor((f) => isData(f) && f.signals?.A === 5, 'a frame with the new A', WAIT_MS, from);
      const later = await client.waitForCount('data', 3, WAIT_MS, client.mark());
      for (const frame of later) assert.deepEqual(frame.signals, { A: 5, B: true }, 'every cycle carries every write signal');
    });

    it('with cycleMs 0 flushes each write batch as one frame immediately', async function () {
      const server = await startServer({
        cycleMs: 0,
        signals: ['A', 'B', 'C'].map((name) => ({ name, type: 'Int' as const, direction: 'write' as const })),
      });
      const client = await connectRaw(server);
      await client.waitFor(isData, 'the full state');
      const from = client.mark();
      const before = { ...server.stats };

      server.writeMany({ A: 1, B: 2, C: 3 });
      // The flush is synchronous: no timer is involved.
      assert.equal(server.stats.frames, before.frames + 1);
      assert.equal(server.stats.cycles, before.cycles + 1);
      server.write('A', 4);
      assert.equal(server.stats.frames, before.frames + 2);
      server.writeMany([
        ['B', 5],
        ['C', 6],
      ]);
      assert.equal(server.stats.frames, before.frames + 3);

      const frames = await client.waitForCount('data', 3, WAIT_MS, from);
      assert.deepEqual(
        frames.map((f) => f.signals),
        [{ A: 1, B: 2, C: 3 }, { A: 4 }, { B: 5, C: 6 }],
      );
    });

    it('never sends an empty data frame', async function () {
      const server = await startServer({
        cycleMs: 5,
        onlyChanged: false,
        signals: [
          { name: 'A', type: 'Int', direction: 'write', value: 1 },
          { name: 'R', type: 'Int', direction: 'read' },
        ],
      });
      const nothing = await connectRaw(server, 'Nothing');
      const snapshot = await subscribe(nothing, ['R', 'Unknown']); // no write signal among them
      assert.deepEqual(snapshot.signals, {});
      const afterSnapshot = nothing.mark();
      const other = await connectRaw(server, 'Other');
      await subscribe(other, ['A']);

      // Many cycles go by (onlyChanged=false sends each one), with changes and without.
      let from = other.mark();
      await other.waitForCount('data', 5, WAIT_MS, from);
      server.write('A', 2);
      server.write('Extra', 'e');
      from = other.mark();
      await other.waitForCount('data', 5, WAIT_MS, from);

      assert.deepEqual(nothing.ofType('data', afterSnapshot), [], 'a client subscribed to no write signal gets no data frame');
      for (const client of [nothing, other]) {
        for (const frame of client.ofType('data')) {
          assert.ok(frame.signals && Object.keys(frame.signals).length > 0, `empty data frame: ${JSON.stringify(frame)}`);
        }
      }
    });

    it('fan-out: one cycle encodes one frame per distinct subscription, never per client', async function () {
      const server = await startServer({
        cycleMs: 20,
        signals: ['A', 'B', 'C'].map((name) => ({ name, type: 'Int' as const, direction: 'write' as const })),
      });
      // Six clients, two distinct subscriptions (the order of names does not matter).
      const subscriptions = [
        ['A', 'B'],
        ['B', 'A'],
        ['A', 'B'],
        ['B', 'C'],
        ['C', 'B'],
        ['B', 'C'],
      ];
      const clients: RawClient[] = [];
      for (const names of subscriptions) {
        const client = await connectRaw(server);
        await subscribe(client, names);
        clients.push(client);
      }
      // A first round settles anything pending from the connects.
      let marks = clients.map((c) => c.mark());
      server.writeMany({ A: 1, B: 1, C: 1 });
      await Promise.all(clients.map((c, i) => c.waitFor(isData, `round 1 at client ${i}`, WAIT_MS, marks[i])));

      marks = clients.map((c) => c.mark());
      const before = { ...server.stats };
      server.writeMany({ A: 2, B: 2, C: 2 });
      const frames = await Promise.all(clients.map((c, i) => c.waitFor(isData, `round 2 at client ${i}`, WAIT_MS, marks[i])));
      assert.equal(server.stats.cycles - before.cycles, 1, 'the batch went out in one cycle');
      assert.equal(server.stats.encodes - before.encodes, 2, 'one encode per distinct subscription');
      assert.equal(server.stats.frames - before.frames, 6, 'one frame per client');
      assert.ok(server.stats.bytes > before.bytes);
      for (let i = 0; i < 6; i++) assert.deepEqual(frames[i].signals, i < 3 ? { A: 2, B: 2 } : { B: 2, C: 2 });

      // A change only one subscription wants is encoded once and sent to its three clients.
      marks = clients.map((c) => c.mark());
      const before3 = { ...server.stats };
      server.write('A', 3);
      await Promise.all(clients.slice(0, 3).map((c, i) => c.waitFor(isData, `round 3 at client ${i}`, WAIT_MS, marks[i])));
      await until(() => server.stats.cycles > before3.cycles, 'the cycle ran');
      assert.equal(server.stats.encodes - before3.encodes, 1);
      assert.equal(server.stats.frames - before3.frames, 3);
    });

    it('preserveTransitions: every value written within one cycle arrives, in order, in successive frames', async function () {
      const server = await startServer({
        cycleMs: 20,
        preserveTransitions: true,
        signals: [
          { name: 'X', type: 'Bool', direction: 'write', value: false },
          { name: 'N', type: 'Int', direction: 'write', value: 0 },
        ],
      });
      const client = await connectRaw(server);
      assert.deepEqual((await client.waitFor(isData, 'the full state')).signals, { X: false, N: 0 });
      const from = client.mark();
      server.write('X', true);
      server.write('N', 1);
      server.write('X', false);
      server.write('N', 2);
      server.write('X', true);
      server.write('X', false);
      const frames = await client.waitForCount('data', 4, WAIT_MS, from);
      assert.deepEqual(
        frames.map((f) => f.signals),
        [{ X: true, N: 1 }, { X: false, N: 2 }, { X: true }, { X: false }],
      );
      // Nothing more follows the transitions: the next frame is the next write.
      server.write('N', 3);
      await client.waitForCount('data', 5, WAIT_MS, from);
      assert.deepEqual(client.ofType('data', from)[4].signals, { N: 3 });
      assert.equal(client.ofType('data', from).length, 5);
    });

    it('without preserveTransitions only the last value of a cycle is sent', async function () {
      const server = await startServer({
        cycleMs: 20,
        signals: [
          { name: 'X', type: 'Bool', direction: 'write', value: false },
          { name: 'N', type: 'Int', direction: 'write', value: 0 },
        ],
      });
      const client = await connectRaw(server);
      await client.waitFor(isData, 'the full state');
      const from = client.mark();
      for (const value of [true, false, true, false]) server.write('X', value);
      for (const value of [1, 2, 3, 4]) server.write('N', value);
      await client.waitFor(isData, 'the cycle', WAIT_MS, from);
      server.write('N', 5);
      await client.waitForCount('data', 2, WAIT_MS, from);
      // X ended where it started, so it is not sent at all; N only with its last value.
      assert.deepEqual(
        client.ofType('data', from).map((f) => f.signals),
        [{ N: 4 }, { N: 5 }],
      );
    });

    it('preserveTransitions with cycleMs 0 sends the transitions of one batch at once', async function () {
      const server = await startServer({
        cycleMs: 0,
        preserveTransitions: true,
        signals: [{ name: 'X', type: 'Bool', direction: 'write', value: false }],
      });
      const client = await connectRaw(server);
      await client.waitFor(isData, 'the full state');
      const from = client.mark();
      const before = server.stats.frames;
      const result = server.writeMany([
        ['X', true],
        ['X', false],
        ['X', true],
        ['X', false],
      ]);
      assert.deepEqual(result.errors, []);
      assert.equal(server.stats.frames - before, 4, 'four frames, sent synchronously');
      const frames = await client.waitForCount('data', 4, WAIT_MS, from);
      assert.deepEqual(
        frames.map((f) => f.signals?.X),
        [true, false, true, false],
      );
    });
  });

  describe('values from clients', function () {
    it("emits values a client sends as 'data' with the peer and does not relay them to other clients", async function () {
      const server = await startServer({
        cycleMs: 10,
        signals: [
          { name: 'Out', type: 'Int', direction: 'write', value: 0 },
          { name: 'In', type: 'Int', direction: 'read' },
        ],
      });
      server.write('Mine', 'ours'); // a write signal by inference, not declared
      const problems: RealvirtualError[] = [];
      server.on('problem', (error) => problems.push(error));
      const sender = await connectRaw(server, 'Sender');
      const watcher = await connectRaw(server, 'Watcher');
      await sender.waitFor(isData, 'the full state at the sender');
      await watcher.waitFor(isData, 'the full state at the watcher');
      const senderFrom = sender.mark();
      const watcherFrom = watcher.mark();

      const received = nextEvent(server, 'data');
      sender.send({ type: 'data', signals: { In: 5, Free: 'hello', Out: 99, Mine: 'theirs' } });
      const [event] = await received;
      assert.equal(event.type, 'data');
      assert.deepEqual(event.peer, { id: server.clients.find((c) => c.name === 'Sender')?.id, name: 'Sender' });
      assert.deepEqual(event.values, { In: 5, Free: 'hello' }, 'values for signals we write are ignored');
      assert.deepEqual([...event.changed].sort(), ['Free', 'In']);
      assert.deepEqual(server.values(), { In: 5, Free: 'hello' });
      assert.deepEqual(server.values('write'), { Out: 0, Mine: 'ours' }, 'our values stay authoritative');
      assert.deepEqual(problems, [], 'ignoring them is not a problem');

      // The next frame either client gets is our own next write, without the received values.
      server.write('Out', 1);
      const watcherFrame = await watcher.waitFor(isData, 'the change of Out at the watcher', WAIT_MS, watcherFrom);
      const senderFrame = await sender.waitFor(isData, 'the change of Out at the sender', WAIT_MS, senderFrom);
      assert.deepEqual(watcher.frames.slice(watcherFrom), [{ type: 'data', signals: { Out: 1 } }]);
      assert.deepEqual(senderFrame.signals, { Out: 1 });
      assert.deepEqual(watcherFrame.signals, { Out: 1 });
    });
  });

  describe('import and configuration', function () {
    it('answers import_request with signals and signalTypes (PLCOutput for our writes, PLCInput for our reads)', async function () {
      const server = await startServer({
        signals: [
          { name: 'Run', type: 'Bool', direction: 'write', value: true },
          { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 },
          { name: 'Count', type: 'Int', direction: 'read' },
          { name: 'Label', type: 'Text', direction: 'read', value: 'l' },
        ],
      });
      server.write('Inferred', 'x');
      const client = await connectRaw(server);
      const received = nextEvent(server, 'data');
      client.send({ type: 'data', signals: { Got: 3 } });
      await received;

      const from = client.mark();
      client.send({ type: 'import_request', version: 2 });
      const answer = await client.waitFor((f) => f.type === 'import_answer', 'the import_answer', WAIT_MS, from);
      assert.deepEqual(answer, {
        type: 'import_answer',
        version: 2,
        signals: { Run: true, Speed: 1.5, Count: 0, Label: 'l', Inferred: 'x', Got: 3 },
        signalTypes: {
          Run: 'PLCOutputBool',
          Speed: 'PLCOutputFloat',
          Count: 'PLCInputInt',
          Label: 'PLCInputText',
          Inferred: 'PLCOutputText',
          Got: 'PLCInputInt',
        },
      });
    });

    it('answers config_get with its configuration and publishIntervalMs = cycleMs', async function () {
      const browsePaths = [{ prefix: 'plc/app/Application/sym', direction: 'input', recursive: true }];
      const server = await startServer({ cycleMs: 25, config: { loggingLevel: 'Information', browsePaths, publishIntervalMs: 999 } });
      const client = await connectRaw(server);
      client.send({ type: 'config_get', version: 2 });
      const answer = await client.waitFor((f) => f.type === 'config_answer', 'the config_answer');
      assert.deepEqual(answer, {
        type: 'config_answer',
        version: 2,
        config: { loggingLevel: 'Information', browsePaths, publishIntervalMs: 25 },
      });
    });

    it('config_set merges, applies publishIntervalMs live and is answered by config_result', async function () {
      const server = await startServer({ cycleMs: 25, config: { a: 1, keep: 'yes' } });
      const client = await connectRaw(server, 'Tool');

      const configSet = nextEvent(server, 'configSet');
      let from = client.mark();
      client.send({ type: 'config_set', version: 2, config: { publishIntervalMs: 40, a: 2, b: [1] } });
      const result = await client.waitFor((f) => f.type === 'config_result', 'the config_result', WAIT_MS, from);
      assert.equal(result.version, 2);
      assert.equal(result.success, true);
      assert.equal(typeof result.message, 'string');
      assert.equal(server.cycleMs, 40, 'publishIntervalMs changed the cycle live');
      const [peer, merged, outcome] = await configSet;
      assert.equal(peer.name, 'Tool');
      assert.deepEqual(merged, { a: 2, keep: 'yes', b: [1], publishIntervalMs: 40 });
      assert.equal(outcome.success, true);

      from = client.mark();
      client.send({ type: 'config_get', version: 2 });
      const answer = await client.waitFor((f) => f.type === 'config_answer', 'the config_answer', WAIT_MS, from);
      assert.deepEqual(answer.config, { a: 2, keep: 'yes', b: [1], publishIntervalMs: 40 });

      // An invalid interval is refused as a whole.
      from = client.mark();
      client.send({ type: 'config_set', version: 2, config: { publishIntervalMs: -1, a: 3 } });
      const refused = await client.waitFor((f) => f.type === 'config_result', 'the refusing config_result', WAIT_MS, from);
      assert.equal(refused.success, false);
      assert.match(String(refused.message), /publishIntervalMs/);
      assert.equal(server.cycleMs, 40);
      assert.deepEqual(server.config, { a: 2, keep: 'yes', b: [1], publishIntervalMs: 40 });

      // A "__proto__" key is kept as plain data and pollutes nothing.
      from = client.mark();
      client.send('{"type":"config_set","version":2,"config":{"__proto__":{"polluted":true}}}');
      await client.waitFor((f) => f.type === 'config_result' && f.success === true, 'the config_result', WAIT_MS, from);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.ok(Object.prototype.hasOwnProperty.call(server.config, '__proto__'));
      assert.equal(Object.getPrototypeOf(server.config), Object.prototype);
    });

    it('sends back the result of a custom onConfigSet handler', async function () {
      const calls: Array<[unknown, PeerInfo]> = [];
      const server = await startServer({
        cycleMs: 25,
        onConfigSet: async (config, peer) => {
          calls.push([config, peer]);
          if (config.fail) throw new Error('the device is busy');
          return { success: false, message: 'read-only device' };
        },
      });
      const client = await connectRaw(server, 'Tool');
      let from = client.mark();
      client.send({ type: 'config_set', version: 2, config: { publishIntervalMs: 99 } });
      const result = await client.waitFor((f) => f.type === 'config_result', 'the config_result', WAIT_MS, from);
      assert.deepEqual(result, { type: 'config_result', version: 2, success: false, message: 'read-only device' });
      assert.equal(server.cycleMs, 25, 'the handler decided: nothing was applied');
      assert.deepEqual(calls[0][0], { publishIntervalMs: 99 });
      assert.equal(calls[0][1].name, 'Tool');

      from = client.mark();
      client.send({ type: 'config_set', version: 2, config: { fail: true } });
      const failed = await client.waitFor((f) => f.type === 'config_result', 'the config_result of a throwing handler', WAIT_MS, from);
      assert.deepEqual(failed, { type: 'config_result', version: 2, success: false, message: 'the device is busy' });
    });
  });

  describe('bad input', function () {
    it("reports each bad frame as a 'problem' with its code and keeps the connection", async function () {
      const server = await startServer({
        signals: [
          { name: 'Flag', type: 'Bool', direction: 'read' },
          { name: 'Level', type: 'Int', direction: 'read' },
        ],
      });
      const client = await connectRaw(server, 'Bad');
      const id = server.clients[0].id;

      const cases: Array<[string, string | Buffer, string]> = [
        ['a binary frame', Buffer.from('{"type":"init","name":"bin"}'), 'ERR_BINARY_FRAME'],
        ['text that is not JSON', 'not json {', 'ERR_INVALID_JSON'],
        ['a JSON array', '[1,2,3]', 'ERR_NOT_AN_OBJECT'],
        ['JSON null', 'null', 'ERR_NOT_AN_OBJECT'],
        ['a JSON string', '"data"', 'ERR_NOT_AN_OBJECT'],
        ['no type', '{"signals":{}}', 'ERR_MISSING_TYPE'],
        ['a numeric type', '{"type":5}', 'ERR_MISSING_TYPE'],
        ['signals as an array', '{"type":"data","signals":[1]}', 'ERR_INVALID_FIELD'],
        ['no signals', '{"type":"snapshot"}', 'ERR_INVALID_FIELD'],
        ['a numeric name', '{"type":"init","version":2,"name":7}', 'ERR_INVALID_FIELD'],
        ['subscribe as a string', '{"type":"subscribe","version":2,"subscribe":"A"}', 'ERR_INVALID_FIELD'],
        ['subscribe with a number', '{"type":"subscribe","version":2,"subscribe":["A",1]}', 'ERR_INVALID_FIELD'],
        ['version as text', '{"type":"data","version":"2","signals":{}}', 'ERR_INVALID_FIELD'],
        ['config as an array', '{"type":"config_set","version":2,"config":[]}', 'ERR_INVALID_FIELD'],
      ];
      for (const [what, frame, code] of cases) {
        const problem = nextEvent(server, 'problem');
        client.send(frame);
        const [error, peer] = await problem.catch((e: Error) => {
          throw new Error(`${what}: ${e.message}`);
        });
        assert.equal(error.code, code, `${what}: ${error.message}`);
        assert.ok(error instanceof RealvirtualError);
        assert.equal(peer?.id, id, what);
      }
      assert.equal(server.clients[0].name, 'Bad', 'the bad init changed nothing');

      // Bad values are rejected one by one; the good ones of the same message apply.
      const problems = collectEvents(server, 'problem', 4);
      const received = nextEvent(server, 'data');
      client.send({ type: 'data', signals: { Good1: 1, Null: null, Obj: { a: 1 }, Arr: [1], Flag: 'maybe', Level: '12', Good2: 'ok' } });
      const reported = (await problems).map(([error]) => [error.code, (error as RealvirtualError & { signal?: string }).signal]);
      assert.deepEqual(reported.sort(), [
        ['ERR_INVALID_VALUE', 'Arr'],
        ['ERR_INVALID_VALUE', 'Null'],
        ['ERR_INVALID_VALUE', 'Obj'],
        ['ERR_TYPE_MISMATCH', 'Flag'],
      ]);
      const [event] = await received;
      assert.deepEqual(event.values, { Good1: 1, Level: 12, Good2: 'ok' });
      assert.deepEqual(server.values(), { Flag: false, Level: 12, Good1: 1, Good2: 'ok' });

      // Prototype names with object (or null) values are rejected and pollute nothing...
      const protoProblems = collectEvents(server, 'problem', 3);
      const protoData = nextEvent(server, 'data');
      client.send('{"type":"data","signals":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":null,"Fine":true}}');
      const protoCodes = (await protoProblems).map(([error]) => [error.code, (error as RealvirtualError & { signal?: string }).signal]);
      assert.deepEqual(protoCodes.sort(), [
        ['ERR_INVALID_VALUE', '__proto__'],
        ['ERR_INVALID_VALUE', 'constructor'],
        ['ERR_INVALID_VALUE', 'toString'],
      ]);
      assert.deepEqual((await protoData)[0].values, { Fine: true });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.getPrototypeOf(server.values()), Object.prototype);

      // ...while valid values under those names are ordinary own signals.
      const named = nextEvent(server, 'data');
      client.send('{"type":"data","signals":{"__proto__":5,"constructor":"c"}}');
      const [namedEvent] = await named;
      assert.deepEqual(Object.keys(namedEvent.values).sort(), ['__proto__', 'constructor']);
      const values = server.values();
      assert.ok(Object.prototype.hasOwnProperty.call(values, '__proto__'));
      assert.equal(Object.getOwnPropertyDescriptor(values, '__proto__')?.value, 5);
      assert.equal(values.constructor, 'c');
      assert.equal(Object.getPrototypeOf(values), Object.prototype);

      // The connection is still open and works.
      assert.ok(client.open);
      assert.equal(server.status.clients, 1);
      const last = nextEvent(server, 'data');
      client.send({ type: 'data', signals: { Flag: true } });
      assert.deepEqual((await last)[0].values, { Flag: true });
    });

    it('closes a connection whose frame exceeds maxPayload with code 1009', async function () {
      const server = await startServer({ maxPayload: 1024 });
      const client = await connectRaw(server, 'Big');
      const small = nextEvent(server, 'data');
      client.send({ type: 'data', signals: { T: 'x'.repeat(900) } });
      await small;

      const problem = nextEvent(server, 'problem');
      const disconnected = nextEvent(server, 'disconnect');
      client.send({ type: 'data', signals: { T: 'x'.repeat(4000) } });
      const { code } = await within(client.closed, 'the oversized frame closing the connection');
      assert.equal(code, 1009);
      const [error] = await problem;
      assert.equal(error.code, 'ERR_PAYLOAD_TOO_LARGE');
      const [peer] = await disconnected;
      assert.equal(peer.name, 'Big');
      assert.equal(server.status.clients, 0);
    });
  });

  describe('HTTP, paths and closing', function () {
    it('accepts upgrades only on its path (404 elsewhere)', async function () {
      const server = await startServer({ path: 'rv/ws' });
      assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/rv\/ws$/);
      const refused = await RawClient.connect(`ws://127.0.0.1:${server.port}/other`).then(
        (client) => {
          resources.add(client);
          return null;
        },
        (error: Error) => error,
      );
      assert.ok(refused, 'an upgrade on another path must fail');
      assert.match(refused.message, /404/);
      const root = await RawClient.connect(`ws://127.0.0.1:${server.port}/`).then(
        () => null,
        (error: Error) => error,
      );
      assert.match(String(root?.message), /404/);
      assert.equal(server.status.clients, 0);

      await connectRaw(server, 'Routed', '/rv/ws?token=1');
      assert.deepEqual(
        server.clients.map((c) => c.name),
        ['Routed'],
      );
    });

    it('answers a plain HTTP GET with 426', async function () {
      const server = await startServer();
      const { status, body } = await within(
        new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${server.port}/`, (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (body += chunk));
              res.on('end', () => resolve({ status: res.statusCode, body }));
            })
            .on('error', reject);
        }),
        'the HTTP answer',
      );
      assert.equal(status, 426);
      assert.match(body, /WebSocket/);
    });

    it('close() resolves, closes clients with 1001 and frees the port', async function () {
      const server = new RealvirtualServer({ port: 0 });
      await server.listen();
      const port = server.port;
      const client = await connectRaw(server, 'Closing');
      const disconnected = nextEvent(server, 'disconnect');
      await within(server.close(), 'server.close()');
      assert.equal((await within(client.closed, 'the client seeing the close')).code, 1001);
      assert.equal((await disconnected)[0].name, 'Closing');
      assert.equal(server.status.state, 'closed');
      assert.equal(server.status.clients, 0);
      await assert.rejects(server.listen(), (error: RealvirtualError) => error.code === 'ERR_CLOSED');

      const again = resources.add(new RealvirtualServer({ port }));
      await again.listen();
      assert.equal(again.port, port);
      await connectRaw(again, 'Again');
    });

    it('listen() on a port in use rejects with ERR_LISTEN', async function () {
      const server = await startServer();
      const second = resources.add(new RealvirtualServer({ port: server.port }));
      await assert.rejects(second.listen(), (error: RealvirtualError) => {
        assert.equal(error.code, 'ERR_LISTEN');
        assert.match(error.message, /EADDRINUSE/);
        return true;
      });
      assert.equal(second.status.state, 'failed');
    });

    it('listenRetries: a port another socket holds is retried (reconnecting, ERR_LISTEN) and listened on once it is free', async function () {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      let blocking = true;
      resources.add({ close: () => (blocking ? new Promise<void>((resolve) => blocker.close(() => resolve())) : undefined) });
      const port = (blocker.address() as AddressInfo).port;
      const server = resources.add(new RealvirtualServer({ port, host: '127.0.0.1', listenRetries: -1, listenRetryIntervalMs: 20, maxListenRetryIntervalMs: 50 }));
      const retrying = nextEvent(server, 'status', (status) => status.state === 'reconnecting');
      const listening = server.listen();
      const [status] = await retrying;
      assert.equal(status.error?.code, 'ERR_LISTEN');
      assert.match(String(status.error?.message), /EADDRINUSE/);
      assert.equal(typeof status.retryInMs, 'number');

      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      blocking = false;
      await within(listening, 'the server to listen once the port is free');
      assert.equal(server.status.state, 'listening');
      assert.equal(server.port, port);
      await connectRaw(server, 'After');
      assert.deepEqual(
        server.clients.map((client) => client.name),
        ['After'],
      );
    });

    it('listenRetries 2: a port that stays busy ends in ERR_GAVE_UP (its cause the ERR_LISTEN) after three attempts', async function () {
      const first = await startServer();
      const second = resources.add(new RealvirtualServer({ port: first.port, host: '127.0.0.1', listenRetries: 2, listenRetryIntervalMs: 10 }));
      const attempts: string[] = [];
      second.on('status', (status) => attempts.push(status.state));
      await assert.rejects(second.listen(), (error: RealvirtualError) => {
        assert.equal(error.code, 'ERR_GAVE_UP');
        assert.match(error.message, /^gave up after 2 listen retries: cannot listen on .*EADDRINUSE/);
        assert.equal(((error as { cause?: RealvirtualError }).cause as RealvirtualError).code, 'ERR_LISTEN');
        return true;
      });
      assert.deepEqual(attempts, ['connecting', 'reconnecting', 'failed']);
      assert.equal(first.status.state, 'listening');
    });

    it('TLS settings that cannot be used: listen() rejects with ERR_LISTEN saying so, and the status is failed', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, tls: { cert: 'not a certificate', key: 'not a key' } }));
      await assert.rejects(server.listen(), (error: RealvirtualError) => {
        assert.equal(error.code, 'ERR_LISTEN');
        assert.match(error.message, /the TLS certificate or key cannot be used/);
        return true;
      });
      assert.equal(server.status.state, 'failed');
    });

    it('close() resolves even when a client ignores the closing handshake', async function () {
      const server = new RealvirtualServer({ port: 0 });
      resources.add(server);
      await server.listen();
      const connected = nextEvent(server, 'connect');
      const socket = await silentClient(server.port);
      resources.add({ close: () => socket.destroy() });
      await connected;
      const socketClosed = nextEvent(socket, 'close');
      await within(server.close(), 'server.close() with a client that never answers');
      await socketClosed;
      assert.equal(server.status.state, 'closed');
    });

    it('heartbeat on a fake clock: each client pinged every heartbeatMs; one silent for a whole period is dropped (ERR_HEARTBEAT_TIMEOUT), one that answers stays', async function () {
      const clock = new FakeClock();
      const server = await startServer({ heartbeatMs: 1000, clock });
      const answering = await connectRaw(server, 'Answering');
      const connected = nextEvent(server, 'connect');
      const socket = await silentClient(server.port);
      resources.add({ close: () => socket.destroy() });
      const [silent] = await connected;
      const sockets = (server as unknown as { sockets: Map<{ name: string }, WebSocket> }).sockets;
      const serverSide = [...sockets].find(([peer]) => peer.name === 'Answering')![1];
      const problems: RealvirtualError[] = [];
      server.on('problem', (error) => problems.push(error));

      const ponged = nextEvent(serverSide, 'pong');
      clock.advance(1000);
      await ponged;
      assert.equal(problems.length, 0, 'nobody is dropped at the first ping');
      const dropped = nextEvent(server, 'disconnect', (peer) => peer.id === silent.id);
      clock.advance(1000);
      await dropped;
      assert.deepEqual(
        problems.map((error) => error.code),
        ['ERR_HEARTBEAT_TIMEOUT'],
      );
      assert.match(problems[0].message, /answered no ping for 1000 ms: connection dropped/);
      assert.ok(answering.open, 'a client that answers pings stays');
      assert.deepEqual(
        server.clients.map((c) => c.name),
        ['Answering'],
      );
    });

    it('drops a client that answers no ping, and keeps one that does (heartbeat)', async function () {
      const server = await startServer({ heartbeatMs: 50 });
      const answering = await connectRaw(server, 'Answering');
      const connected = nextEvent(server, 'connect');
      const socket = await silentClient(server.port);
      resources.add({ close: () => socket.destroy() });
      const [silent] = await connected;
      const problem = nextEvent(server, 'problem', (error) => error.code === 'ERR_HEARTBEAT_TIMEOUT');
      const dropped = nextEvent(server, 'disconnect', (peer) => peer.id === silent.id);
      const [error, peer] = await problem;
      assert.match(error.message, /ping/);
      assert.equal(peer?.id, silent.id);
      await dropped;
      assert.ok(answering.open, 'a client that answers pings stays');
      assert.deepEqual(
        server.clients.map((c) => c.name),
        ['Answering'],
      );
    });
  });
});
