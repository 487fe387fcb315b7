/**
 * The cyclic exchange without sockets or wall clocks: a signal table, peers whose links
 * record every frame (and report a buffered amount the test sets), and a fake clock pin
 * down when cycles run, what each peer is sent, and what is encoded how often.
 */
import assert from 'assert/strict';
import { SignalError } from '../../engine/errors';
import { Exchange, ExchangeOptions } from '../../engine/realvirtual/exchange';
import { SignalRecord } from '../../engine/realvirtual/messages';
import { FrameLink, Peer } from '../../engine/realvirtual/peers';
import { SignalTable } from '../../engine/realvirtual/signals';
import { SignalValue } from '../../engine/realvirtual/values';
import { FakeClock } from '../helpers/fake-clock';

const START = 1000000;

class RecordingLink implements FrameLink {
  readonly frames: Buffer[] = [];
  bufferedBytes = 0;
  send(frame: Buffer): void {
    this.frames.push(frame);
  }
  close(): void {
    throw new Error('the exchange never closes a link itself');
  }
}

interface TestPeer {
  peer: Peer;
  link: RecordingLink;
  /** The signals of every frame received since the last call. */
  take(): SignalRecord[];
}

function setup(options: Partial<ExchangeOptions> = {}) {
  const clock = new FakeClock(START);
  const table = new SignalTable();
  for (const name of ['A', 'B', 'C']) table.declare({ name, type: 'Int', direction: 'write', value: 0 });
  table.declare({ name: 'R', type: 'Int', direction: 'read', value: 0 });
  const slow: Array<{ peer: string; slowForMs: number; at: number }> = [];
  const dropped: Array<[string, number]> = [];
  const settings: ExchangeOptions = {
    cycleMs: 100,
    onlyChanged: true,
    preserveTransitions: false,
    maxTransitions: 1000,
    slowPeerBytes: 1000,
    slowPeerTimeoutMs: 500,
    ...options,
  };
  const exchange = new Exchange(
    table,
    settings,
    {
      slowPeer: (peer, slowForMs) => slow.push({ peer: peer.name, slowForMs, at: clock.now() - START }),
      transitionsDropped: (name, count) => dropped.push([name, count]),
    },
    clock,
  );

  /** One batch of local writes, as Endpoint.writeMany does it. */
  function write(values: Record<string, SignalValue>): void {
    for (const name of Object.keys(values)) written(name, values[name]);
    exchange.commit();
  }

  /** One write of an object, as Endpoint.writeMany does it: its names are distinct, so it is announced as a batch. */
  function writeObject(values: Record<string, SignalValue>): void {
    exchange.beginBatch();
    write(values);
  }

  /** One write without its commit (several form a batch). */
  function written(name: string, value: SignalValue): void {
    const update = table.write(name, value);
    if (update instanceof SignalError) throw update;
    if (update.changed) exchange.written(update);
  }

  /** A peer as the server adds it; `holdMs` > 0 holds its full state that long (subscribeWaitMs). */
  function join(name: string, holdMs = 0): TestPeer {
    const link = new RecordingLink();
    const peer = new Peer(name, name, link, clock);
    peer.quietUntil = holdMs > 0 ? clock.now() + holdMs : 0;
    exchange.addPeer(peer);
    let seen = 0;
    const take = (): SignalRecord[] => {
      const frames = link.frames.slice(seen).map((frame) => JSON.parse(frame.toString()));
      seen = link.frames.length;
      for (const frame of frames) assert.equal(frame.type, 'data');
      return frames.map((frame) => frame.signals);
    };
    return { peer, link, take };
  }

  /** ms since the start. */
  const at = (): number => clock.now() - START;
  return { clock, table, exchange, write, writeObject, written, join, slow, dropped, at };
}

describe('exchange (fake clock)', function () {
  describe('cycle scheduling', function () {
    it('cycleMs 0: each commit flushes at once, one frame per batch, and leaves no timer', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 0 });
      const a = join('a');
      clock.advance(0);
      assert.deepEqual(a.take(), [{ A: 0, B: 0, C: 0 }], 'the full state first');
      write({ A: 1, B: 2 });
      assert.deepEqual(a.take(), [{ A: 1, B: 2 }], 'sent within the call');
      write({ C: 3 });
      assert.deepEqual(a.take(), [{ C: 3 }]);
      assert.equal(clock.pending, 0);
      assert.equal(exchange.stats.cycles, 3);
    });

    it('cycleMs 0: a batch of distinct names goes out as written; unchanged values, other subscriptions and late joiners as without one', function () {
      const { clock, exchange, writeObject, join } = setup({ cycleMs: 0 });
      const a = join('a');
      const b = join('b');
      clock.advance(0);
      a.take();
      b.take();
      exchange.subscribe(b.peer, ['B']);
      writeObject({ C: 3, A: 1, B: 0 });
      assert.deepEqual(a.take(), [{ C: 3, A: 1 }], 'B did not change');
      assert.deepEqual(b.take(), [], 'B did not change (the endpoint sends the snapshot of a subscribe)');
      writeObject({ B: 2, A: 1 });
      assert.deepEqual(a.take(), [{ B: 2 }]);
      assert.deepEqual(b.take(), [{ B: 2 }]);
      const c = join('c');
      clock.advance(0);
      assert.deepEqual(c.take(), [{ A: 1, B: 2, C: 3 }], 'a late joiner gets the full state');
      writeObject({ A: 5 });
      assert.deepEqual(a.take(), [{ A: 5 }]);
      assert.deepEqual(c.take(), [{ A: 5 }]);
      assert.deepEqual(b.take(), []);
      assert.equal(clock.pending, 0);
    });

    it('cycleMs N: a write after idle goes out at once, the next at lastFlush + N; writes in between conflate', function () {
      const { clock, exchange, write, join, at } = setup({ cycleMs: 100 });
      const a = join('a');
      clock.advance(0);
      a.take();
      assert.equal(clock.pending, 0, 'idle: no timer');
      clock.advance(30);
      write({ A: 1 });
      assert.deepEqual(clock.dueIn(), [70], 'due at lastFlush + cycleMs');
      clock.advance(10);
      write({ A: 2 });
      write({ B: 5 });
      assert.deepEqual(clock.dueIn(), [60], 'still the one timer');
      clock.advance(59);
      assert.deepEqual(a.take(), []);
      clock.advance(1);
      assert.equal(at(), 100);
      assert.deepEqual(a.take(), [{ A: 2, B: 5 }], 'one frame with the latest values');
      assert.equal(clock.pending, 0);
      clock.advance(1000);
      write({ A: 3 });
      assert.deepEqual(clock.dueIn(), [0], 'a cycle that is overdue runs at once');
      clock.advance(0);
      assert.deepEqual(a.take(), [{ A: 3 }]);
      assert.equal(exchange.stats.cycles, 3);
    });

    it('no timer and no cycle without peers; writes while nobody listens are not queued', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 10, preserveTransitions: true });
      write({ A: 1 });
      write({ A: 2 });
      assert.equal(clock.pending, 0);
      assert.equal(exchange.stats.cycles, 0);
      const a = join('a');
      clock.advance(0);
      assert.deepEqual(a.take(), [{ A: 2, B: 0, C: 0 }], 'the current state, no transitions of before');
      clock.advance(10000);
      assert.equal(exchange.stats.cycles, 1, 'idle: no cycles');
    });

    it('the last peer leaving drops pending changes and transitions', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 100, preserveTransitions: true });
      const a = join('a');
      clock.advance(0);
      write({ A: 1 });
      write({ A: 2 });
      exchange.removePeer(a.peer);
      assert.equal(exchange.groupCount, 0);
      clock.runAll();
      const b = join('b');
      clock.runAll();
      assert.deepEqual(b.take(), [{ A: 2, B: 0, C: 0 }], 'one full state, no stale transition after it');
      exchange.removePeer(b.peer);
      exchange.removePeer(b.peer);
      assert.equal(exchange.groupCount, 0, 'removing twice is harmless');
    });

    it('onlyChanged off: a full frame every cycle, encoded once while nothing changes', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 50, onlyChanged: false });
      const a = join('a');
      const b = join('b');
      clock.advance(0);
      assert.deepEqual(a.take(), [{ A: 0, B: 0, C: 0 }]);
      clock.advance(200);
      assert.equal(a.take().length, 4, 'one frame per cycle');
      assert.equal(exchange.stats.encodes, 1, 'the cached full frame');
      assert.equal(a.link.frames[4], b.link.frames[4], 'the same buffer for both');
      write({ A: 7 });
      clock.advance(50);
      assert.deepEqual(a.take(), [{ A: 7, B: 0, C: 0 }]);
      assert.equal(exchange.stats.encodes, 2);
      assert.equal(clock.pending, 1, 'always the next cycle');
    });

    it('setCycleMs moves a pending cycle to the new period; without one it arms nothing', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 1000 });
      join('a');
      clock.advance(0);
      exchange.setCycleMs(20);
      assert.equal(clock.pending, 0);
      clock.advance(5);
      write({ A: 1 });
      assert.deepEqual(clock.dueIn(), [15]);
      exchange.setCycleMs(500);
      assert.deepEqual(clock.dueIn(), [495]);
      assert.equal(exchange.cycleMs, 500);
    });

    it('close clears the pending cycle; later writes and flushes send nothing', function () {
      const { clock, exchange, write, join } = setup();
      const a = join('a');
      clock.advance(0);
      a.take();
      write({ A: 1 });
      assert.equal(clock.pending, 1);
      exchange.close();
      assert.equal(clock.pending, 0);
      write({ A: 2 });
      exchange.flush();
      clock.runAll();
      assert.deepEqual(a.take(), []);
    });

    it('touched marks only signals we write (a declaration of a read signal sends nothing)', function () {
      const { clock, exchange, table, join } = setup({ cycleMs: 0 });
      const a = join('a');
      clock.advance(0);
      a.take();
      table.declare({ name: 'A', type: 'Int', direction: 'write', value: 9 });
      table.declare({ name: 'R', type: 'Int', direction: 'read', value: 9 });
      exchange.touched(['A', 'R', 'Unknown']);
      exchange.commit();
      assert.deepEqual(a.take(), [{ A: 9 }]);
    });
  });

  describe('conflation', function () {
    it('only the latest value per cycle; a value written and written back sends nothing', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 100 });
      const a = join('a');
      clock.advance(0);
      a.take();
      for (let i = 1; i <= 50; i++) write({ A: i });
      clock.advance(100);
      assert.deepEqual(a.take(), [{ A: 50 }]);
      write({ B: 1 });
      write({ B: 0 });
      const frames = exchange.stats.frames;
      clock.advance(100);
      assert.deepEqual(a.take(), [], 'B is back at what the peer has');
      assert.equal(exchange.stats.frames, frames);
    });

    it('what each group was sent is found by position: cycles in another order, with other names or left-out values stay right', function () {
      const { clock, exchange, write, writeObject, join } = setup({ cycleMs: 0 });
      const all = join('all');
      const ac = join('ac');
      clock.advance(0);
      all.take();
      ac.take();
      exchange.subscribe(ac.peer, ['A', 'C']);
      writeObject({ A: 1, B: 1, C: 1 });
      assert.deepEqual(all.take(), [{ A: 1, B: 1, C: 1 }]);
      assert.deepEqual(ac.take(), [{ A: 1, C: 1 }], 'B left out between two values it wants');
      writeObject({ C: 2, B: 1, A: 1 });
      assert.deepEqual(all.take(), [{ C: 2 }], 'another order: only what changed');
      assert.deepEqual(ac.take(), [{ C: 2 }]);
      writeObject({ B: 3, C: 2 });
      assert.deepEqual(all.take(), [{ B: 3 }], 'other names at the same positions');
      assert.deepEqual(ac.take(), []);
      write({ A: 5, C: 7 });
      assert.deepEqual(all.take(), [{ A: 5, C: 7 }]);
      assert.deepEqual(ac.take(), [{ A: 5, C: 7 }]);
      exchange.setCycleMs(100);
      write({ C: 8 });
      write({ A: 6 });
      write({ C: 7 });
      clock.advance(100);
      assert.deepEqual(all.take(), [{ A: 6 }], 'C is back at what the peers have, at a new position');
      assert.deepEqual(ac.take(), [{ A: 6 }]);
    });
  });

  describe('preserveTransitions', function () {
    it('every intermediate value, in order, one per cycle', function () {
      const { clock, write, join, at } = setup({ cycleMs: 100, preserveTransitions: true });
      const a = join('a');
      clock.advance(0);
      a.take();
      write({ A: 1 });
      write({ A: 2 });
      write({ A: 3, B: 7 });
      const times: number[] = [];
      const values: SignalRecord[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(100);
        for (const frame of a.take()) {
          times.push(at());
          values.push(frame);
        }
      }
      assert.deepEqual(values, [{ A: 1, B: 7 }, { A: 2 }, { A: 3 }]);
      assert.deepEqual(times, [100, 200, 300]);
      assert.equal(clock.pending, 0, 'idle once the queue is empty');
    });

    it('cycleMs 0: the transitions of one batch go out at once, one frame each', function () {
      const { clock, exchange, written, join } = setup({ cycleMs: 0, preserveTransitions: true });
      const a = join('a');
      clock.advance(0);
      a.take();
      for (const value of [1, 2, 3, 4]) written('A', value);
      exchange.commit();
      assert.deepEqual(a.take(), [{ A: 1 }, { A: 2 }, { A: 3 }, { A: 4 }]);
      assert.equal(clock.pending, 0);
    });

    it('the queue is bounded by maxTransitions: the oldest values are dropped and reported', function () {
      const { clock, exchange, written, join, dropped } = setup({ cycleMs: 0, preserveTransitions: true, maxTransitions: 2 });
      const a = join('a');
      clock.advance(0);
      a.take();
      for (const value of [1, 2, 3, 4, 5]) written('A', value);
      assert.deepEqual(dropped, [
        ['A', 1],
        ['A', 1],
        ['A', 1],
      ]);
      exchange.commit();
      assert.deepEqual(a.take(), [{ A: 4 }, { A: 5 }], 'the newest maxTransitions values, the latest last');
    });

    it('a late joiner during transitions gets the full state with the current transition', function () {
      const { clock, write, join } = setup({ cycleMs: 100, preserveTransitions: true });
      const a = join('a');
      clock.advance(0);
      write({ A: 1 });
      write({ A: 2 });
      const b = join('b');
      clock.advance(100);
      assert.deepEqual(b.take(), [{ A: 1, B: 0, C: 0 }]);
      clock.advance(100);
      assert.deepEqual(b.take(), [{ A: 2 }]);
      assert.deepEqual(a.take().slice(1), [{ A: 1 }, { A: 2 }]);
    });
  });

  describe('subscription groups', function () {
    it('peers with one subscription share one encode and the same buffer; others get their own', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 10 });
      const a = join('a');
      const b = join('b');
      const all = join('all');
      assert.deepEqual(exchange.subscribe(a.peer, ['A', 'B']), { A: 0, B: 0 }, 'the snapshot');
      assert.deepEqual(exchange.subscribe(b.peer, ['B', 'A', 'R']), { A: 0, B: 0 }, 'another order, and a read signal: not in the snapshot');
      assert.equal(exchange.groupCount, 3);
      exchange.subscribe(b.peer, ['B', 'A']);
      assert.equal(exchange.groupCount, 2, 'the same names are the same group, in any order');
      clock.advance(0);
      assert.deepEqual(all.take(), [{ A: 0, B: 0, C: 0 }]);
      assert.deepEqual(a.take(), [], 'a subscriber had its snapshot instead of the full state');
      const encodes = exchange.stats.encodes;
      write({ A: 1, C: 3 });
      clock.advance(10);
      assert.deepEqual(a.take(), [{ A: 1 }]);
      assert.deepEqual(b.take(), [{ A: 1 }]);
      assert.equal(a.link.frames[0], b.link.frames[0], 'one buffer for the group');
      assert.deepEqual(all.take(), [{ A: 1, C: 3 }]);
      assert.equal(exchange.stats.encodes - encodes, 2, 'one encode per group');
      write({ C: 4 });
      clock.advance(10);
      assert.deepEqual(a.take(), [], 'nothing it subscribed to changed');
      assert.deepEqual(all.take(), [{ C: 4 }]);
      assert.equal(exchange.stats.encodes - encodes, 3);
      exchange.removePeer(all.peer);
      assert.equal(exchange.groupCount, 1);
    });

    it('a peer that subscribes after its full state joins the existing group and shares its frames', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 10 });
      const a = join('a');
      exchange.subscribe(a.peer, ['A']);
      write({ A: 5 });
      clock.advance(10);
      assert.deepEqual(a.take(), [{ A: 5 }]);
      const b = join('b');
      clock.advance(10);
      assert.deepEqual(b.take(), [{ A: 5, B: 0, C: 0 }], 'not subscribed yet: everything');
      assert.deepEqual(exchange.subscribe(b.peer, ['A']), { A: 5 });
      write({ A: 6 });
      clock.advance(10);
      assert.deepEqual(a.take(), [{ A: 6 }]);
      assert.deepEqual(b.take(), [{ A: 6 }]);
      assert.equal(a.link.frames[1], b.link.frames[1]);
    });

    it('a late joiner gets the full state, the others only the change', function () {
      const { clock, write, join } = setup({ cycleMs: 10 });
      const a = join('a');
      clock.advance(0);
      a.take();
      write({ A: 1 });
      clock.advance(10);
      const b = join('b');
      write({ B: 2 });
      clock.advance(10);
      assert.deepEqual(a.take(), [{ A: 1 }, { B: 2 }]);
      assert.deepEqual(b.take(), [{ A: 1, B: 2, C: 0 }]);
    });
  });

  describe('slow peers', function () {
    it('skipped while over slowPeerBytes, reported once slow for slowPeerTimeoutMs, full state once drained', function () {
      const { clock, write, join, slow } = setup({ cycleMs: 100, slowPeerBytes: 1000, slowPeerTimeoutMs: 500 });
      const lagging = join('lagging');
      const fast = join('fast');
      clock.advance(0);
      lagging.take();
      fast.take();
      lagging.link.bufferedBytes = 1000;
      write({ A: 1 });
      clock.advance(100);
      assert.deepEqual(lagging.take(), [{ A: 1 }], 'exactly at the threshold is not slow');
      lagging.link.bufferedBytes = 1001;
      for (let i = 2; i <= 8; i++) {
        write({ A: i });
        clock.advance(100);
      }
      assert.deepEqual(lagging.take(), [], 'skipped while slow');
      assert.equal(fast.take().length, 8, 'the other peer keeps its cycle');
      assert.deepEqual(slow[0], { peer: 'lagging', slowForMs: 500, at: 700 }, 'first slow at 200, reported at 200 + 500');
      assert.deepEqual(
        slow.map((report) => report.at),
        [700, 800],
        'reported every cycle until the owner drops it',
      );
      lagging.link.bufferedBytes = 0;
      write({ B: 9 });
      clock.advance(100);
      assert.deepEqual(lagging.take(), [{ A: 8, B: 9, C: 0 }], 'catches up with the full state');
      lagging.link.bufferedBytes = 5000;
      write({ A: 10 });
      clock.advance(100);
      assert.equal(slow.length, 2, 'slow again: the time starts anew');
    });

    it('slowPeerTimeoutMs 0: skipped and conflated, never reported', function () {
      const { clock, write, join, slow } = setup({ cycleMs: 100, slowPeerTimeoutMs: 0 });
      const lagging = join('lagging');
      lagging.link.bufferedBytes = 1e9;
      for (let i = 1; i <= 100; i++) {
        write({ A: i });
        clock.advance(100);
      }
      assert.deepEqual(slow, []);
      assert.deepEqual(lagging.take(), []);
      lagging.link.bufferedBytes = 0;
      write({ B: 1 });
      clock.advance(100);
      assert.deepEqual(lagging.take(), [{ A: 100, B: 1, C: 0 }]);
    });
  });

  describe('new client: the full state held (subscribeWaitMs)', function () {
    it('held until quietUntil, then the full state with the next cycle', function () {
      const { clock, write, join, at } = setup({ cycleMs: 100 });
      const other = join('other');
      clock.advance(0);
      other.take();
      const held = join('held', 500);
      assert.deepEqual(clock.dueIn(), [500], 'only the release timer');
      write({ A: 1 });
      clock.advance(100);
      assert.deepEqual(other.take(), [{ A: 1 }]);
      assert.deepEqual(held.take(), [], 'nothing while held');
      clock.advance(399);
      assert.deepEqual(held.take(), []);
      clock.advance(1);
      assert.equal(at(), 500);
      assert.deepEqual(held.take(), [{ A: 1, B: 0, C: 0 }], 'released at 500 exactly');
      assert.equal(held.peer.quietUntil, 0);
      assert.deepEqual(other.take(), []);
      assert.equal(clock.pending, 0);
    });

    it('holdFullState extends the hold (never shortens it) and has no effect once released', function () {
      const { clock, exchange, join } = setup({ cycleMs: 100 });
      const held = join('held', 500);
      clock.advance(300);
      exchange.holdFullState(held.peer, 500);
      assert.deepEqual(clock.dueIn(), [500], 'an init at 300: held until 800');
      exchange.holdFullState(held.peer, 100);
      assert.deepEqual(clock.dueIn(), [500], 'a shorter hold does not shorten it');
      clock.advance(499);
      assert.deepEqual(held.take(), []);
      clock.advance(1);
      assert.deepEqual(held.take(), [{ A: 0, B: 0, C: 0 }]);
      exchange.holdFullState(held.peer, 500);
      assert.equal(clock.pending, 0, 'a later init (keep-alive) holds nothing');
    });

    it('a subscribe ends the hold: the snapshot instead, and never the full state', function () {
      const { clock, exchange, write, join } = setup({ cycleMs: 100 });
      const held = join('held', 500);
      clock.advance(50);
      assert.deepEqual(exchange.subscribe(held.peer, ['A']), { A: 0 });
      assert.equal(held.peer.quietUntil, 0);
      write({ A: 1, B: 1 });
      clock.runAll();
      assert.deepEqual(held.take(), [{ A: 1 }], 'only what it subscribed to');
      assert.equal(clock.pending, 0, 'the release timer is gone');
    });

    it('a peer without a hold gets the full state at once; a hold already over counts as none', function () {
      const { clock, exchange, join } = setup({ cycleMs: 100 });
      const plain = join('plain');
      clock.advance(0);
      assert.deepEqual(plain.take(), [{ A: 0, B: 0, C: 0 }]);
      const link = new RecordingLink();
      const late = new Peer('late', 'late', link, clock);
      late.quietUntil = clock.now() - 1;
      exchange.addPeer(late);
      assert.equal(late.quietUntil, 0);
      clock.advance(100);
      assert.equal(link.frames.length, 1);
    });

    it('a held peer that leaves takes its release timer with it', function () {
      const { clock, exchange, join } = setup({ cycleMs: 100 });
      const held = join('held', 500);
      assert.equal(clock.pending, 1);
      exchange.removePeer(held.peer);
      assert.equal(clock.pending, 0);
      assert.equal(held.peer.quietTimer, null);
    });
  });
});
