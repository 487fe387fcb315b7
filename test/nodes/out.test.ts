/**
 * realvirtual-out: payload forms, per-signal errors through done(err) while the valid
 * values still go out, and what reaches which peer (subscriptions, no relay, no empty
 * frames), against our engine and raw ws peers.
 */
import assert from 'assert/strict';
import { DataEvent, RealvirtualClient } from '../../engine';
import { Frame, RawClient, RawServer, Resources } from '../helpers/events';
import { catchNode, completeNode, connection, coreModules, FlowNode, freePort, helperNode, Inbox, load, node, statuses, TAB, runtimeResources, until, user, waitForStatus, within } from './harness';

/** Loads a server-mode flow on a free port and waits until it listens. */
async function serverFlow(nodes: FlowNode[], props: Record<string, unknown> = {}): Promise<number> {
  const port = await freePort();
  await load([TAB, connection({ port, cycleMs: 0, ...props }), ...nodes]);
  await waitForStatus(node('out'), (status) => status.fill === 'green', 'green (listening)');
  return port;
}

/** An engine client that records every value it receives, per signal, in order. */
async function recordingClient(resources: Resources, port: number, name: string, subscribe?: string[]): Promise<{ client: RealvirtualClient; seen: Map<string, unknown[]>; events: DataEvent[] }> {
  const client = resources.add(new RealvirtualClient({ port, clientName: name, cycleMs: 0, autoReconnect: false, subscribe }));
  const seen = new Map<string, unknown[]>();
  const events: DataEvent[] = [];
  client.on('data', (event) => {
    events.push(event);
    for (const key of Object.keys(event.values)) seen.set(key, [...(seen.get(key) ?? []), event.values[key]]);
  });
  await within(client.connect(), `client ${name} to connect`);
  if (subscribe) await until(() => events.some((event) => event.type === 'snapshot'), `client ${name}'s subscribe to be answered`);
  return { client, seen, events };
}

const last = (seen: Map<string, unknown[]>, name: string): unknown => seen.get(name)?.[seen.get(name)!.length - 1];

describe('nodes: realvirtual-out', function () {
  const resources = runtimeResources();

  it('an object payload sets those signals, msg.topic + a single value sets one; done() is called', async function () {
    const port = await serverFlow([user('out', 'out'), completeNode('done', ['out'], 'h-done'), helperNode('h-done')]);
    const { seen } = await recordingClient(resources, port, 'Twin');
    const completed = new Inbox('h-done');
    node('out').receive({ payload: { A: 1, B: 'x', C: true } });
    node('out').receive({ topic: 'Speed', payload: 2.5 });
    await until(() => last(seen, 'Speed') === 2.5, 'Speed = 2.5 at the client');
    assert.deepEqual(
      ['A', 'B', 'C', 'Speed'].map((name) => last(seen, name)),
      [1, 'x', true, 2.5],
    );
    const done = await completed.next(2);
    assert.deepEqual(
      done.map((msg) => msg.payload),
      [{ A: 1, B: 'x', C: true }, 2.5],
    );
  });

  it('the Signal property names the signal of a single value sent without msg.topic; msg.topic wins when set', async function () {
    const port = await serverFlow([user('out', 'out', { signal: 'Speed' }), catchNode('catch', 'h-catch'), helperNode('h-catch')]);
    const { seen } = await recordingClient(resources, port, 'Twin');
    const caught = new Inbox('h-catch');
    node('out').receive({ payload: 3.5 });
    await until(() => last(seen, 'Speed') === 3.5, 'Speed = 3.5 at the client');
    node('out').receive({ topic: 'Other', payload: 1 });
    await until(() => last(seen, 'Other') === 1, 'Other = 1 at the client');
    assert.equal(last(seen, 'Speed'), 3.5);
    assert.equal(caught.messages.length, 0, caught.describe());
  });

  it('takes the object a Function node builds (an object of another realm)', async function () {
    const port = await freePort();
    const func = { id: 'func', z: 'f1', type: 'function', x: 0, y: 0, func: "msg.payload = { A: 1, B: 'x' }; return msg;", outputs: 1, noerr: 0, wires: [['out']] };
    await load([TAB, connection({ port, cycleMs: 0 }), func, user('out', 'out'), catchNode('catch', 'h-catch'), helperNode('h-catch')], {}, coreModules(['function']));
    await waitForStatus(node('out'), (status) => status.fill === 'green', 'green (listening)');
    const { seen } = await recordingClient(resources, port, 'Twin');
    const caught = new Inbox('h-catch');
    node('func').receive({ payload: 'go' });
    node('func').receive({ payload: 'go' });
    await until(
      () => last(seen, 'A') === 1 && last(seen, 'B') === 'x',
      () => `A = 1 and B = "x" at the client (errors: ${caught.describe()})`,
    );
    assert.equal(caught.messages.length, 0, caught.describe());
  });

  it('invalid values fail through done(err), naming each bad signal, while the valid ones of the same msg are sent', async function () {
    const port = await serverFlow([user('out', 'out'), catchNode('catch', 'h-catch'), completeNode('done', ['out'], 'h-done'), helperNode('h-catch'), helperNode('h-done')], {
      signals: [{ name: 'Count', type: 'Int', direction: 'write', value: 7 }],
    });
    const { seen } = await recordingClient(resources, port, 'Twin');
    await until(() => last(seen, 'Count') === 7, 'the declared Count = 7 at the client');
    const caught = new Inbox('h-catch');
    const completed = new Inbox('h-done');

    node('out').receive({ payload: { Count: 'abc', Good: 5, Nothing: null, Obj: { x: 1 }, List: [1], Fine: 'text' } });
    const [error] = await caught.next(1);
    const text: string = error.error.message;
    for (const bad of ['Count', 'Nothing', 'Obj', 'List']) assert.ok(text.includes(`"${bad}"`), `the error does not name ${bad}: ${text}`);
    for (const good of ['Good', 'Fine']) assert.ok(!text.includes(`"${good}"`), `the error names the valid ${good}: ${text}`);
    assert.match(text, /"Count" is Int/);
    assert.equal(error.error.source.id, 'out');
    assert.deepEqual(error.payload.Good, 5, 'the Catch node gets the original msg');
    await until(() => last(seen, 'Good') === 5 && last(seen, 'Fine') === 'text', 'the valid values at the client');
    assert.equal(last(seen, 'Count'), 7, 'Count kept its value');
    assert.ok(!seen.has('Nothing') && !seen.has('Obj') && !seen.has('List'));
    await waitForStatus(node('out'), (status) => status.fill === 'red' && /Count/.test(status.text ?? ''), 'red status naming Count');

    // Payloads that are not signal values at all.
    node('out').receive({ payload: null });
    node('out').receive({ payload: 5 });
    node('out').receive({ payload: [1, 2] });
    node('out').receive({ topic: 'Count', payload: 'abc' });
    const more = await caught.next(4, 1);
    assert.match(more[0].error.message, /got null/);
    assert.match(more[1].error.message, /msg\.topic/);
    assert.match(more[2].error.message, /got array/);
    assert.match(more[3].error.message, /"Count" is Int/);
    assert.equal(completed.messages.length, 0, 'done() was called without an error for a failed msg');

    // A good msg completes and brings the connection's status back.
    const mark = statuses(node('out')).length;
    node('out').receive({ topic: 'Count', payload: '12' });
    await completed.next(1);
    await until(() => last(seen, 'Count') === 12, 'Count = 12 (numeric text converted) at the client');
    await waitForStatus(node('out'), (status) => status.fill === 'green' && status.text === '1 client', 'the connection status again', mark);
  });

  it('server mode: values reach every client whose subscription includes them, and only those', async function () {
    const port = await serverFlow([user('out', 'out')]);
    const a = await recordingClient(resources, port, 'WantsA', ['A']);
    const b = await recordingClient(resources, port, 'WantsB', ['B']);
    const ab = await recordingClient(resources, port, 'WantsAB', ['A', 'B']);
    const all = await recordingClient(resources, port, 'WantsAll');
    node('out').receive({ payload: { A: 1, B: 2 } });
    node('out').receive({ payload: { A: 3, B: 4, C: 5 } });
    await until(() => last(a.seen, 'A') === 3 && last(b.seen, 'B') === 4 && last(ab.seen, 'B') === 4 && last(all.seen, 'C') === 5, 'the last values at every client');
    assert.deepEqual([...a.seen.keys()], ['A']);
    assert.deepEqual([...b.seen.keys()], ['B']);
    assert.deepEqual([...ab.seen.keys()].sort(), ['A', 'B']);
    assert.deepEqual([...all.seen.keys()].sort(), ['A', 'B', 'C']);
    assert.deepEqual(a.seen.get('A'), [1, 3]);
  });

  it('server mode: values from one client are not relayed to the others, and no empty data frame is ever sent', async function () {
    const port = await serverFlow([user('out', 'out'), user('in', 'in', {}, ['h-in']), completeNode('done', ['out'], 'h-done'), helperNode('h-in'), helperNode('h-done')]);
    const inbox = new Inbox('h-in');
    const completed = new Inbox('h-done');
    const watcher = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
    watcher.init('Watcher');
    const writer = await recordingClient(resources, port, 'Writer');

    writer.client.write('X', 1);
    await inbox.find((msg) => msg.payload.X === 1, 'X = 1 from Writer');
    // Both only sent init: their full state comes once the server stopped waiting for a subscribe.
    node('out').receive({ payload: { Y: 0 } });
    await watcher.waitFor((frame) => frame.type === 'data' && frame.signals?.Y === 0, 'the full state Y = 0 at Watcher');
    await until(() => last(writer.seen, 'Y') === 0, 'the full state Y = 0 at Writer');

    node('out').receive({ payload: { Y: 1 } });
    node('out').receive({ payload: {} });
    node('out').receive({ payload: { Y: 1 } });
    node('out').receive({ topic: 'Y', payload: 1 });
    node('out').receive({ payload: { Y: 2 } });
    await watcher.waitFor((frame) => frame.type === 'data' && frame.signals?.Y === 2, 'Y = 2');
    await completed.next(6);
    const dataFrames = watcher.frames.filter((frame: Frame) => frame.type === 'data');
    assert.deepEqual(
      dataFrames.map((frame) => frame.signals),
      [{ Y: 0 }, { Y: 1 }, { Y: 2 }],
      `frames to Watcher: ${JSON.stringify(watcher.frames)}`,
    );
    assert.ok(!JSON.stringify(watcher.frames).includes('"X"'), 'X (written by Writer) was relayed to Watcher');
    assert.ok(!writer.seen.has('X'), 'X was echoed back to Writer');
    assert.deepEqual(writer.seen.get('Y'), [0, 1, 2]);
    for (const frame of watcher.frames) {
      if (frame.type === 'data' || frame.type === 'snapshot') assert.ok(Object.keys(frame.signals ?? {}).length > 0, `an empty ${frame.type} frame was sent`);
    }
  });

  it('client mode: values go to the server, also those written before it was up; a declared read signal cannot be written', async function () {
    const port = await freePort();
    await load([
      TAB,
      connection({ mode: 'client', port, cycleMs: 0, reconnectInterval: 0.1, signals: [{ name: 'R', type: 'Bool', direction: 'read' }] }),
      user('out', 'out'),
      catchNode('catch', 'h-catch'),
      helperNode('h-catch'),
    ]);
    const caught = new Inbox('h-catch');
    await waitForStatus(node('out'), (status) => status.fill === 'red', 'red while no server listens');
    node('out').receive({ payload: { Early: 1 } });

    const raw = resources.add(await RawServer.start(port));
    const server = await raw.connection(0);
    const early = await server.waitFor((frame) => frame.type === 'data', 'data on connect');
    assert.deepEqual(early.signals, { Early: 1 });
    assert.equal(server.frames[0].type, 'init');

    node('out').receive({ payload: { R: true, W: 2 } });
    const [error] = await caught.next(1);
    assert.match(error.error.message, /"R"/);
    assert.doesNotMatch(error.error.message, /"W"/);
    const written = await server.waitFor((frame) => frame.type === 'data' && frame.signals?.W === 2, 'W = 2');
    assert.deepEqual(written.signals, { W: 2 });
  });
});
