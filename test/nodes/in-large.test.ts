/**
 * realvirtual-in with messages of many signals, as a digital twin sends them every
 * cycle: the engine reads repeated frames by their shape and a node may pass a
 * message's own record on as its payload. What the flow gets must not change:
 * "changes" semantics, the filter, and one payload object per node. "state" keeps one
 * record per node up to date and sends that record itself, whatever the number of signals.
 */
import assert from 'assert/strict';
import { RawClient } from '../helpers/events';
import { connection, freePort, helperNode, Inbox, load, node, TAB, runtimeResources, user, waitForStatus } from './harness';

const NAMES = Array.from({ length: 300 }, (_, i) => `Signal${i}`);

function frame(value: (i: number) => unknown): string {
  const signals: Record<string, unknown> = {};
  NAMES.forEach((name, i) => (signals[name] = value(i)));
  return JSON.stringify({ type: 'data', signals });
}

function record(names: string[], value: (i: number) => unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const name of names) result[name] = value(NAMES.indexOf(name));
  return result;
}

describe('nodes: realvirtual-in with large messages', function () {
  const resources = runtimeResources();

  it('reports what changed and only that, through every node, each with its own payload object', async function () {
    const port = await freePort();
    await load([
      TAB,
      connection({ port, cycleMs: 0 }),
      user('in', 'one', {}, ['h-one']),
      user('in', 'two', {}, ['h-two']),
      user('in', 'some', { signals: 'Signal1,Signal299' }, ['h-some']),
      helperNode('h-one'),
      helperNode('h-two'),
      helperNode('h-some'),
    ]);
    await waitForStatus(node('one'), (status) => status.fill === 'green', 'green (listening)');
    const one = new Inbox('h-one');
    const two = new Inbox('h-two');
    const some = new Inbox('h-some');
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
    client.init('Twin');

    // Rounds 0..3 change every signal; from the third frame on the engine reads them by their shape.
    for (let round = 0; round < 4; round++) {
      const value = (i: number): unknown => (i % 2 === 0 ? i + round : `v${round}`);
      client.send(frame(value));
      const [a] = await one.next(1, round);
      const [b] = await two.next(1, round);
      const [c] = await some.next(1, round);
      assert.deepEqual(a.payload, record(NAMES, value), `round ${round}`);
      assert.deepEqual(Object.keys(a.payload), NAMES, 'in the order of the message');
      assert.deepEqual(b.payload, a.payload);
      assert.notEqual(b.payload, a.payload, 'each node sends its own payload object');
      assert.deepEqual(c.payload, record(['Signal1', 'Signal299'], value));
    }
    // A flow that changes one payload does not change another node's.
    const [last] = await one.next(1, 3);
    delete last.payload.Signal0;
    assert.equal((await two.next(1, 3))[0].payload.Signal0, 3);

    // Some signals change: only those are reported.
    const partly = (i: number): unknown => (i === 5 ? 'changed' : i === 299 ? 'one' : i % 2 === 0 ? i + 3 : 'v3');
    client.send(frame(partly));
    const [a] = await one.next(1, 4);
    assert.deepEqual(a.payload, { Signal5: 'changed', Signal299: 'one' });
    assert.deepEqual((await two.next(1, 4))[0].payload, { Signal5: 'changed', Signal299: 'one' });
    assert.deepEqual((await some.next(1, 4))[0].payload, { Signal299: 'one' });

    // Nothing changes: nothing is reported; the next change is the next message.
    client.send(frame(partly));
    const again = (i: number): unknown => (i === 7 ? 'again' : partly(i));
    client.send(frame(again));
    assert.deepEqual((await one.next(1, 5))[0].payload, { Signal7: 'again' });
    client.send(frame(again));

    // Other names (one signal more), then the usual ones again: the node goes on from what it reported.
    const more = JSON.parse(frame((i) => (i === 9 ? 'x9' : again(i))));
    more.signals.Extra = 1;
    client.send(JSON.stringify(more));
    assert.deepEqual((await one.next(1, 6))[0].payload, { Signal9: 'x9', Extra: 1 });
    client.send(frame((i) => (i === 9 ? 'x9' : i === 11 ? 'y' : again(i))));
    assert.deepEqual((await one.next(1, 7))[0].payload, { Signal11: 'y' });
    assert.deepEqual((await two.next(1, 7))[0].payload, { Signal11: 'y' });
    assert.equal(one.messages.length, 8);
    assert.equal(some.messages.length, 5, 'the filtered node saw no change of Signal1 or Signal299');
  });

  it('"state" sends one record per node, kept up to date with what changed (never rebuilt or copied), and a burst of frames as at most as many messages', async function () {
    const port = await freePort();
    await load([
      TAB,
      connection({ port, cycleMs: 0 }),
      user('in', 'all', { output: 'state' }, ['h-all']),
      user('in', 'some', { output: 'state', signals: 'Signal1,Signal299' }, ['h-some']),
      helperNode('h-all'),
      helperNode('h-some'),
    ]);
    await waitForStatus(node('all'), (status) => status.fill === 'green', 'green (listening)');
    const all = new Inbox('h-all');
    const some = new Inbox('h-some');
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
    client.init('Twin');

    const first = (i: number): unknown => (i % 2 === 0 ? i : `v${i}`);
    client.send(frame(first));
    const [start] = await all.next(1, 0);
    assert.deepEqual(start.payload, record(NAMES, first));
    assert.deepEqual(start.rv, { type: 'data', peer: start.rv.peer });
    assert.equal(start.rv.peer.name, 'Twin');
    const state = start.payload;
    assert.deepEqual((await some.next(1, 0))[0].payload, record(['Signal1', 'Signal299'], first));

    // Frames of one signal: each message is the same record, holding every signal with the latest value.
    for (let k = 1; k <= 3; k++) {
      const from = all.mark();
      client.send({ type: 'data', signals: { Signal5: `k${k}` } });
      const [msg] = await all.next(1, from);
      assert.equal(msg.payload, state, 'the record is sent itself, not a copy');
      assert.deepEqual(
        msg.payload,
        record(NAMES, (i) => (i === 5 ? `k${k}` : first(i))),
      );
    }

    // Frames of all 300 signals, read by their shape from the third on: the record follows them.
    const round =
      (r: number) =>
      (i: number): unknown =>
        i % 2 === 0 ? i + r : `r${r}`;
    for (let r = 1; r <= 4; r++) {
      const from = all.mark();
      client.send(frame(round(r)));
      assert.deepEqual((await all.next(1, from))[0].payload, record(NAMES, round(r)), `round ${r}`);
    }
    const filtered = await some.next(5, 0);
    for (const msg of filtered) assert.deepEqual(Object.keys(msg.payload).sort(), ['Signal1', 'Signal299']);
    assert.deepEqual(filtered[4].payload, record(['Signal1', 'Signal299'], round(4)));
    assert.equal(some.messages.length, 5, 'the frames of Signal5 alone did not reach the node that filters Signal1 and Signal299');

    // A burst of frames: never more messages than frames, and the last holds the last values.
    const from = all.mark();
    const burst = 20;
    for (let k = 0; k < burst; k++) client.send({ type: 'data', signals: { Signal6: k, Signal8: -k } });
    await all.find((msg) => msg.payload.Signal6 === burst - 1, 'the state after the burst', from);
    assert.ok(all.messages.length - from <= burst, `${all.messages.length - from} messages for ${burst} frames`);
    assert.equal(all.messages[all.messages.length - 1].payload.Signal8, -(burst - 1));
    assert.equal(all.messages[all.messages.length - 1].payload, state);
  });
});
