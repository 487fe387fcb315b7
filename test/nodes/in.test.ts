/**
 * realvirtual-in: its signal filter, its three outputs, msg.rv, and (client mode) the
 * subscription it asks for on the wire; peers are raw ws sockets, our engine and the
 * reference Python client and server.
 */
import assert from 'assert/strict';
import { Frame, RawClient, RawServer, Resources } from '../helpers/events';
import { parsePythonLiteral, usePythonPeers } from '../interop/python';
import { connection, FlowNode, freePort, helperNode, Inbox, load, Msg, node, TAB, runtimeResources, user, waitForStatus } from './harness';

/** Loads a server-mode flow on a free port and waits until it listens. */
async function serverFlow(nodes: FlowNode[], props: Record<string, unknown> = {}): Promise<number> {
  const port = await freePort();
  await load([TAB, connection({ port, cycleMs: 0, ...props }), ...nodes]);
  await waitForStatus(node(nodes.find((n) => n.type === 'realvirtual-in')!.id), (status) => status.fill === 'green', 'green (listening)');
  return port;
}

/** A raw ws client of our server that sent `init` with `name` (frames of one socket are handled in order). */
async function rawClient(resources: Resources, port: number, name: string): Promise<RawClient> {
  const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
  client.init(name);
  return client;
}

const data = (signals: Record<string, unknown>) => ({ type: 'data', version: 2, signals });

describe('nodes: realvirtual-in', function () {
  const resources = runtimeResources();

  describe('server mode (a raw ws client sends)', function () {
    it('"changes": one msg of the changed signals, topic "realvirtual", msg.rv naming the client by its init name; unchanged values are not reported again', async function () {
      const port = await serverFlow([user('in', 'in', {}, ['h']), helperNode('h')]);
      const inbox = new Inbox('h');
      const client = await rawClient(resources, port, 'RawTwin');
      client.send(data({ A: 1, B: true }));
      const [first] = await inbox.next(1);
      assert.equal(first.topic, 'realvirtual');
      assert.deepEqual(first.payload, { A: 1, B: true });
      assert.equal(first.rv.type, 'data');
      assert.equal(first.rv.peer.name, 'RawTwin');
      assert.match(first.rv.peer.id, /^client-\d+$/);
      assert.deepEqual(Object.keys(first.rv).sort(), ['peer', 'type']);
      assert.deepEqual(Object.keys(first.rv.peer).sort(), ['id', 'name']);

      client.send(data({ A: 1, B: false }));
      const [second] = await inbox.next(1, 1);
      assert.deepEqual(second.payload, { B: false }, 'A did not change, so it is not reported');

      // Nothing changed: no message. The next change is the next message.
      client.send(data({ A: 1, B: false }));
      client.send(data({ C: 'x' }));
      const [third] = await inbox.next(1, 2);
      assert.deepEqual(third.payload, { C: 'x' });
      assert.equal(inbox.messages.length, 3);
    });

    it('"state": every data message emits all known received signals (of its filter)', async function () {
      const port = await serverFlow([user('in', 'all', { output: 'state' }, ['h-all']), user('in', 'onlyA', { output: 'state', signals: 'A' }, ['h-a']), helperNode('h-all'), helperNode('h-a')]);
      const all = new Inbox('h-all');
      const onlyA = new Inbox('h-a');
      const one = await rawClient(resources, port, 'One');
      const two = await rawClient(resources, port, 'Two');

      one.send(data({ A: 1 }));
      assert.deepEqual((await all.next(1, 0))[0].payload, { A: 1 });
      two.send(data({ B: 2 }));
      const [afterB] = await all.next(1, 1);
      assert.deepEqual(afterB.payload, { A: 1, B: 2 }, 'the state holds what every client sent');
      assert.equal(afterB.rv.peer.name, 'Two');
      assert.equal(afterB.topic, 'realvirtual');
      // An unchanged value still emits the whole state.
      one.send(data({ A: 1 }));
      const [again] = await all.next(1, 2);
      assert.deepEqual(again.payload, { A: 1, B: 2 });
      assert.equal(again.rv.peer.name, 'One');
      assert.equal(again.rv.type, 'data');

      // The filtered node emitted only for messages holding A, and only A.
      const filtered = await onlyA.next(2);
      assert.deepEqual(
        filtered.map((msg) => msg.payload),
        [{ A: 1 }, { A: 1 }],
      );
      assert.equal(onlyA.messages.length, 2, 'the message holding only B emitted nothing on the node filtering A');
    });

    it('"signal": one msg per changed signal, topic = name, payload = value, each with msg.rv', async function () {
      const port = await serverFlow([user('in', 'in', { output: 'signal' }, ['h']), helperNode('h')]);
      const inbox = new Inbox('h');
      const client = await rawClient(resources, port, 'Twin');
      client.send(data({ A: 1, B: true, C: 'text' }));
      const first = await inbox.next(3);
      assert.deepEqual(
        first.map((msg) => [msg.topic, msg.payload]),
        [
          ['A', 1],
          ['B', true],
          ['C', 'text'],
        ],
      );
      for (const msg of first) {
        assert.equal(msg.rv.type, 'data');
        assert.equal(msg.rv.peer.name, 'Twin');
      }
      assert.notEqual(first[0].rv, first[1].rv, 'each msg has its own rv object');
      client.send(data({ A: 1, B: false, C: 'text' }));
      const [onlyB] = await inbox.next(1, 3);
      assert.deepEqual([onlyB.topic, onlyB.payload], ['B', false]);
      client.send(data({ D: 2.5 }));
      const [d] = await inbox.next(1, 4);
      assert.deepEqual([d.topic, d.payload], ['D', 2.5]);
      assert.equal(inbox.messages.length, 5);
    });

    it('the signals filter (comma-separated) lets only the named signals through; empty lets all through', async function () {
      const port = await serverFlow([user('in', 'some', { signals: ' A, C ,' }, ['h-some']), user('in', 'all', { signals: '' }, ['h-all']), helperNode('h-some'), helperNode('h-all')]);
      const some = new Inbox('h-some');
      const all = new Inbox('h-all');
      const client = await rawClient(resources, port, 'Twin');
      client.send(data({ B: 1 }));
      client.send(data({ A: 2, B: 3, C: 4 }));
      const [filtered] = await some.next(1);
      assert.deepEqual(filtered.payload, { A: 2, C: 4 });
      const everything = await all.next(2);
      assert.deepEqual(
        everything.map((msg) => msg.payload),
        [{ B: 1 }, { A: 2, B: 3, C: 4 }],
      );
      assert.equal(some.messages.length, 1, 'the message holding only B emitted nothing');
    });
  });

  describe('client mode (a raw ws server sends)', function () {
    it('the first snapshot reports all its signals, msg.rv.peer is {id: "server", name: "<host>:<port>"}, later data only what changed', async function () {
      const raw = resources.add(await RawServer.start());
      await load([TAB, connection({ mode: 'client', port: raw.port }), user('in', 'in', {}, ['h']), helperNode('h')]);
      const inbox = new Inbox('h');
      const server = await raw.connection(0);
      await server.waitFor((frame) => frame.type === 'init', 'init');
      server.send({ type: 'snapshot', version: 2, signals: { A: 1, B: 2 } });
      const [snapshot] = await inbox.next(1);
      assert.deepEqual(snapshot.payload, { A: 1, B: 2 });
      assert.deepEqual(snapshot.rv, { type: 'snapshot', peer: { id: 'server', name: `127.0.0.1:${raw.port}` } });
      assert.equal(snapshot.topic, 'realvirtual');
      server.send(data({ A: 1, B: 3 }));
      const [change] = await inbox.next(1, 1);
      assert.deepEqual(change.payload, { B: 3 });
      assert.deepEqual(change.rv, { type: 'data', peer: { id: 'server', name: `127.0.0.1:${raw.port}` } });
    });

    it("subscribes to the union of every in node's filter, once", async function () {
      const raw = resources.add(await RawServer.start());
      await load([
        TAB,
        connection({ mode: 'client', port: raw.port, cycleMs: 0 }),
        user('in', 'in1', { signals: 'B, A' }, ['h1']),
        user('in', 'in2', { signals: 'C,B' }, ['h2']),
        user('out', 'out'),
        helperNode('h1'),
        helperNode('h2'),
      ]);
      const server = await raw.connection(0);
      const subscribe = await server.waitFor((frame) => frame.type === 'subscribe', 'subscribe');
      assert.deepEqual(subscribe.subscribe, ['A', 'B', 'C']);
      assert.equal(server.frames[0].type, 'init', 'init comes first');
      // A later frame (our write) shows no second subscribe was sent before it.
      node('out').receive({ payload: { X: 1 } });
      await server.waitFor((frame) => frame.type === 'data', 'data');
      assert.equal(server.ofType('subscribe').length, 1, `frames: ${JSON.stringify(server.frames)}`);
      // Each in node gets its own signals of what the server sends.
      const in1 = new Inbox('h1');
      const in2 = new Inbox('h2');
      server.send({ type: 'snapshot', signals: { A: 1, B: 2, C: 3 } });
      assert.deepEqual((await in1.next(1))[0].payload, { A: 1, B: 2 });
      assert.deepEqual((await in2.next(1))[0].payload, { B: 2, C: 3 });
      assert.equal(raw.connections.length, 1);
    });

    it('sends no subscribe when any in node wants all signals', async function () {
      const raw = resources.add(await RawServer.start());
      await load([
        TAB,
        connection({ mode: 'client', port: raw.port, cycleMs: 0 }),
        user('in', 'some', { signals: 'A' }, ['h-some']),
        user('in', 'all', { signals: '' }, ['h-all']),
        user('out', 'out'),
        helperNode('h-some'),
        helperNode('h-all'),
      ]);
      const server = await raw.connection(0);
      await server.waitFor((frame) => frame.type === 'init', 'init');
      node('out').receive({ payload: { X: 1 } });
      await server.waitFor((frame) => frame.type === 'data', 'our data');
      assert.deepEqual(
        server.frames.map((frame: Frame) => frame.type),
        ['init', 'data'],
        'no subscribe before our data',
      );
      const some = new Inbox('h-some');
      const all = new Inbox('h-all');
      server.send(data({ A: 1, Z: 2 }));
      assert.deepEqual((await all.next(1))[0].payload, { A: 1, Z: 2 });
      assert.deepEqual((await some.next(1))[0].payload, { A: 1 });
    });
  });

  describe('with the reference Python peers', function () {
    const startPython = usePythonPeers();

    it('server mode + reference client: realvirtual-in emits its MyOutput/SetSpeed from "PythonClient", it gets our catalog and our writes', async function () {
      this.timeout(30000);
      const port = await serverFlow([user('in', 'in', {}, ['h']), user('out', 'out'), helperNode('h')], {
        signals: [
          { name: 'Sensor1', type: 'Bool', direction: 'write', value: true },
          { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 12.5 },
        ],
      });
      const inbox = new Inbox('h');
      const py = startPython('client', port);
      const [msg] = await inbox.next(1, 0, 8000).catch((error: Error) => {
        throw new Error(`${error.message}\npython client output:\n${py.transcript()}`);
      });
      assert.deepEqual(msg.payload, { MyOutput: true, SetSpeed: 100.5 });
      assert.equal(msg.rv.type, 'data');
      assert.equal(msg.rv.peer.name, 'PythonClient');
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.text === '1 client', '"1 client"');

      const available = await py.waitForLine(/^Available signals: /, 8000);
      assert.deepEqual(parsePythonLiteral(available.text.slice('Available signals: '.length)), ['Sensor1', 'DriveSpeed']);
      node('out').receive({ topic: 'DriveSpeed', payload: 42.25 });
      const update = await py.waitForLine(/^Received: .*'DriveSpeed': 42\.25/, 8000);
      assert.deepEqual(parsePythonLiteral(update.text.slice('Received: '.length)), { DriveSpeed: 42.25 });
      // Its data repeats unchanged values: "changes" reported them once.
      assert.ok(
        inbox.messages.every((m: Msg) => m === msg),
        `more messages than the first: ${inbox.describe()}`,
      );
    });

    it("client mode + reference server: realvirtual-in emits the PLC_* snapshot of its subscription and the server's data answers", async function () {
      this.timeout(30000);
      const port = await freePort();
      const py = startPython('server', port);
      await py.waitForLine(/^WebSocket server running on /, 8000);
      await load([
        TAB,
        connection({ mode: 'client', port, cycleMs: 0 }),
        user('in', 'plc', { signals: 'PLC_Running,PLC_Speed,PLC_Counter' }, ['h-plc']),
        user('in', 'speed', { signals: 'PLC_Speed', output: 'state' }, ['h-speed']),
        user('out', 'out'),
        helperNode('h-plc'),
        helperNode('h-speed'),
      ]);
      const plc = new Inbox('h-plc');
      const speed = new Inbox('h-speed');
      const [snapshot] = await plc.next(1, 0, 8000).catch((error: Error) => {
        throw new Error(`${error.message}\npython server output:\n${py.transcript()}`);
      });
      assert.deepEqual(snapshot.payload, { PLC_Running: true, PLC_Speed: 0, PLC_Counter: 0 });
      assert.deepEqual(snapshot.rv, { type: 'snapshot', peer: { id: 'server', name: `127.0.0.1:${port}` } });
      await py.waitForLine(/^Client connected: Node-RED$/, 8000);

      const from = speed.mark();
      node('out').receive({ topic: 'MyCommand', payload: true });
      const line = await py.waitForLine(/^From Node-RED: /, 8000);
      assert.deepEqual(parsePythonLiteral(line.text.slice('From Node-RED: '.length)), { MyCommand: true });
      const answer = await speed.find((msg) => msg.rv.type === 'data', "the server's data answer", from, 8000);
      assert.deepEqual(answer.payload, { PLC_Speed: 0 });
      assert.equal(answer.rv.peer.id, 'server');
    });
  });
});
