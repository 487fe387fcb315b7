/**
 * realvirtual-in with messages of many signals, as a digital twin sends them every
 * cycle: the engine reads repeated frames by their shape and a node may pass a
 * message's own record on as its payload. What the flow gets must not change:
 * "changes" semantics, the filter, and one payload object per node.
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
});
