/**
 * realvirtual-in reads each message's batch (DataEvent.batch): while a peer's messages
 * carry the same shape token it compares values by position, and it falls back to
 * comparing by name when the token changes, with the same output either way. The node's
 * `reported` counters show which way each message was compared.
 */
import assert from 'assert/strict';
import { DataEvent, RealvirtualServer, ShapeToken, SignalBatch } from '../../engine';
import { ReportedValues } from '../../nodes/lib/received-batch';
import { nextEvent, RawClient, Resources } from '../helpers/events';
import { connection, freePort, helperNode, Inbox, load, node, runtimeResources, TAB, user, waitForStatus } from './harness';

const data = (signals: Record<string, unknown>) => ({ type: 'data', version: 2, signals });

interface Counted {
  reported: ReportedValues;
}

describe('nodes: realvirtual-in reads the batch of a data event', function () {
  const resources = runtimeResources();

  it('compares by position while the shape token stays, by name when the list changes, with the same output', async function () {
    const port = await freePort();
    await load([TAB, connection({ port, cycleMs: 0 }), user('in', 'all', {}, ['h-all']), user('in', 'some', { signals: 'A,C' }, ['h-some']), helperNode('h-all'), helperNode('h-some')]);
    await waitForStatus(node('all'), (status) => status.fill === 'green', 'green (listening)');
    const all = new Inbox('h-all');
    const some = new Inbox('h-some');
    const counts = (id: string) => ({ ...(node(id) as unknown as Counted).reported.counts });
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
    client.init('Twin');

    client.send(data({ A: 1, B: 2, C: 3 }));
    assert.deepEqual((await all.next(1, 0))[0].payload, { A: 1, B: 2, C: 3 }, 'the first message reports every signal');
    assert.deepEqual((await some.next(1, 0))[0].payload, { A: 1, C: 3 });
    assert.deepEqual(counts('all'), { byPosition: 0, byName: 1 }, 'a list seen once has no token');

    client.send(data({ A: 1, B: 5, C: 3 }));
    assert.deepEqual((await all.next(1, 1))[0].payload, { B: 5 });
    client.send(data({ A: 2, B: 5, C: 3 }));
    assert.deepEqual((await all.next(1, 2))[0].payload, { A: 2 });
    assert.deepEqual((await some.next(1, 1))[0].payload, { A: 2 }, 'B is not in the filter: its change was not reported');
    assert.deepEqual(counts('all'), { byPosition: 2, byName: 1 }, 'the same list again: compared by position');
    assert.deepEqual(counts('some'), { byPosition: 2, byName: 1 });

    // Another order: compared by name, against what the positions held.
    client.send(data({ C: 3, B: 6, A: 2 }));
    assert.deepEqual((await all.next(1, 3))[0].payload, { B: 6 });
    client.send(data({ C: 4, B: 6, A: 2 }));
    assert.deepEqual((await all.next(1, 4))[0].payload, { C: 4 }, 'the new order repeated: by position again');
    assert.deepEqual((await some.next(1, 2))[0].payload, { C: 4 });
    // One name fewer, then back to the list before.
    client.send(data({ C: 4, B: 7 }));
    assert.deepEqual((await all.next(1, 5))[0].payload, { B: 7 });
    client.send(data({ C: 4, B: 7, A: 9 }));
    assert.deepEqual((await all.next(1, 6))[0].payload, { A: 9 });
    assert.deepEqual((await some.next(1, 3))[0].payload, { A: 9 });
    assert.deepEqual(counts('all'), { byPosition: 3, byName: 4 });
    assert.equal(all.messages.length, 7);
  });

  describe('ReportedValues, fed the events of a real server', function () {
    const sockets = new Resources();
    afterEach(() => sockets.closeAll());

    async function events(frames: Array<Record<string, unknown>>): Promise<DataEvent[]> {
      const server = sockets.add(new RealvirtualServer({ port: 0 }));
      await server.listen();
      const client = sockets.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
      const seen: DataEvent[] = [];
      for (const signals of frames) {
        const next = nextEvent(server, 'data');
        client.send(data(signals));
        seen.push((await next)[0]);
      }
      return seen;
    }

    const changes = (reported: ReportedValues, batch: SignalBatch): Record<string, unknown> => {
      const count = reported.compare(batch);
      return Object.fromEntries(reported.positions.slice(0, count).map((i) => [batch.names[i], batch.values[i]]));
    };

    it('compares tokens, not arrays: a batch with a copied list of names keeps the fast path and its output', async function () {
      const [first, second, third] = await events([
        { X: 1, Y: 'a' },
        { X: 2, Y: 'a' },
        { X: 2, Y: 'b' },
      ]);
      assert.equal(first.batch.shape, null);
      assert.ok(second.batch.shape instanceof ShapeToken);
      assert.equal(third.batch.shape, second.batch.shape, 'one token for the list');
      const reported = new ReportedValues(null);
      assert.deepEqual(changes(reported, first.batch), { X: 1, Y: 'a' });
      assert.deepEqual(changes(reported, { ...second.batch, names: [...second.batch.names], values: [...second.batch.values] }), { X: 2 });
      assert.deepEqual(changes(reported, { ...third.batch, names: [...third.batch.names] }), { Y: 'b' });
      assert.deepEqual(reported.counts, { byPosition: 2, byName: 1 });
    });

    it('a batch without a token (another order) is compared by name and reports what changed', async function () {
      const [first, second, third] = await events([
        { X: 1, Y: 'a' },
        { X: 1, Y: 'b' },
        { Y: 'b', X: 3 },
      ]);
      assert.equal(third.batch.shape, null, 'another order: no token');
      const reported = new ReportedValues(null);
      changes(reported, first.batch);
      assert.deepEqual(changes(reported, second.batch), { Y: 'b' });
      assert.deepEqual(changes(reported, third.batch), { X: 3 });
      assert.deepEqual(reported.counts, { byPosition: 1, byName: 2 });
    });
  });
});
