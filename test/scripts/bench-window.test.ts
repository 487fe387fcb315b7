/**
 * bench/window.ts: what a window between two marks holds, how the slices of one window add
 * up, and the order in which the sides of a round take their slices.
 */
import assert from 'assert';
import { delta, joinSlices, Measured, PeerMark, sliceOrder } from '../../bench/window';
import type { Mark } from '../../bench/subject';

function peerMark(t: number, cpuMs: number, counters: Record<string, number>): PeerMark {
  return { t, cpu: { user: cpuMs * 750, system: cpuMs * 250 }, counters };
}

function subjectMark(t: number, counters: Record<string, number>): Mark {
  return { ...peerMark(t, 0, counters), memory: process.memoryUsage() };
}

function slice(seconds: number, cpuMs: number, messages: number, backgroundPercent: number, at: number): Measured {
  return {
    subject: { seconds, cpuMs, cpuPercent: (cpuMs / (seconds * 1000)) * 100, counters: { messages } },
    peer: { seconds, cpuMs: cpuMs / 10, cpuPercent: (cpuMs / (seconds * 10000)) * 100, counters: { frames: messages } },
    subjectMark: subjectMark(at, { messages: at }),
    backgroundPercent,
  };
}

describe('bench windows', function () {
  it('takes the time, the CPU time and every counter between two marks', function () {
    const d = delta(peerMark(1000, 200, { messages: 10, wrong: 0 }), peerMark(1500, 450, { messages: 60, wrong: 0, fresh: 7 }));
    assert.strictEqual(d.seconds, 0.5);
    assert.strictEqual(d.cpuMs, 250);
    assert.strictEqual(d.cpuPercent, 50);
    // A counter that appeared during the window counts from zero.
    assert.deepStrictEqual(d.counters, { messages: 50, wrong: 0, fresh: 7 });
  });

  it('adds the slices of a window up to one window', function () {
    const joined = joinSlices([slice(0.25, 250, 100, 0, 1), slice(0.25, 200, 80, 10, 2), slice(0.5, 500, 220, 4, 3)]);
    assert.strictEqual(joined.subject.seconds, 1);
    assert.strictEqual(joined.subject.cpuMs, 950);
    assert.strictEqual(joined.subject.cpuPercent, 95);
    assert.deepStrictEqual(joined.subject.counters, { messages: 400 });
    assert.deepStrictEqual(joined.peer.counters, { frames: 400 });
    assert.strictEqual(joined.peer.cpuMs, 95);
    // The other load, weighted by each slice's length: (0 × 0.25 + 10 × 0.25 + 4 × 0.5) / 1.
    assert.strictEqual(joined.backgroundPercent, 4.5);
    // The counters at the end of the window are those of its last slice.
    assert.strictEqual(joined.subjectMark.t, 3);
  });

  it('keeps a window of one slice as it is', function () {
    const one = slice(1, 990, 5000, 2.5, 9);
    const joined = joinSlices([one]);
    assert.deepStrictEqual(joined.subject, one.subject);
    assert.deepStrictEqual(joined.peer, one.peer);
    assert.strictEqual(joined.backgroundPercent, 2.5);
  });

  it('refuses a window without slices', function () {
    assert.throws(() => joinSlices([]), /at least one slice/);
  });

  it('rotates the order of the sides slice by slice and round by round', function () {
    assert.deepStrictEqual(sliceOrder(3, 0, 0), [0, 1, 2]);
    assert.deepStrictEqual(sliceOrder(3, 0, 1), [1, 2, 0]);
    assert.deepStrictEqual(sliceOrder(3, 0, 2), [2, 0, 1]);
    assert.deepStrictEqual(sliceOrder(3, 1, 0), [1, 2, 0]);
    assert.deepStrictEqual(sliceOrder(1, 5, 3), [0]);
    assert.deepStrictEqual(sliceOrder(0, 0, 0), []);
    // Over as many slices as there are sides, every side comes first once.
    const sides = 4;
    const firsts = new Set<number>();
    for (let s = 0; s < sides; s++) {
      const order = sliceOrder(sides, 2, s);
      assert.deepStrictEqual([...order].sort(), [0, 1, 2, 3]);
      firsts.add(order[0]);
    }
    assert.strictEqual(firsts.size, sides);
  });
});
