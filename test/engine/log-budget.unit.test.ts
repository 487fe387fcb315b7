/**
 * The log budget on a fake clock: how many lines a window lets through, when the summary
 * of the suppressed ones is written (at the window's end, or before the next line when
 * timers run late), and that dispose leaves nothing behind.
 */
import assert from 'assert/strict';
import { LogBudget, suppressedSummary } from '../../engine/log-budget';
import { FakeClock } from '../helpers/fake-clock';

function budget(lines = 3, windowMs = 1000) {
  const clock = new FakeClock();
  const summaries: Array<{ count: number; at: number }> = [];
  const log = new LogBudget(lines, windowMs, (count) => summaries.push({ count, at: clock.now() }), clock);
  const take = (times: number): string[] => Array.from({ length: times }, () => log.take());
  return { clock, summaries, log, take };
}

describe('log budget (fake clock)', function () {
  it('lets `lines` lines through per window, then counts the rest', function () {
    const { take } = budget(3);
    assert.deepEqual(take(5), ['log', 'log', 'log', 'quiet', 'quiet']);
  });

  it('one summary at the end of the window, with one timer however many lines were suppressed', function () {
    const { clock, summaries, take } = budget(3, 1000);
    clock.advance(100);
    take(3);
    assert.equal(clock.pending, 0, 'no timer while within budget');
    clock.advance(200);
    take(50);
    assert.deepEqual(clock.dueIn(), [800], 'due when the window that began at 100 ends');
    clock.advance(799);
    assert.deepEqual(summaries, []);
    clock.advance(1);
    assert.deepEqual(summaries, [{ count: 50, at: 1100 }]);
    assert.equal(clock.pending, 0);
    clock.advance(10000);
    assert.equal(summaries.length, 1, 'once');
  });

  it('a window begins with the first line after the previous one ended, not on a fixed grid', function () {
    const { clock, take } = budget(2, 1000);
    take(2);
    clock.advance(999);
    assert.deepEqual(take(1), ['quiet']);
    clock.advance(1);
    clock.advance(500);
    assert.deepEqual(take(3), ['log', 'log', 'quiet'], 'a new window from 1500');
    clock.advance(999);
    assert.deepEqual(take(1), ['quiet'], 'still the window of 1500');
    clock.advance(1);
    assert.deepEqual(take(1), ['log']);
  });

  it('when the timer runs late (a blocked event loop), the summary comes before the next logged line', function () {
    const { clock, summaries, log, take } = budget(1, 1000);
    take(4);
    clock.stall(1500);
    assert.deepEqual(summaries, []);
    assert.equal(log.take(), 'log');
    assert.deepEqual(summaries, [{ count: 3, at: 1500 }], 'written first, at the line that follows');
    clock.advance(0);
    assert.equal(summaries.length, 1, 'the late timer was cleared: no second summary');
  });

  it('flush writes the pending summary now, and only once', function () {
    const { clock, summaries, log, take } = budget(1, 1000);
    take(3);
    log.flush();
    log.flush();
    assert.deepEqual(summaries, [{ count: 2, at: 0 }]);
    assert.equal(clock.pending, 0);
    take(1);
    assert.deepEqual(clock.dueIn(), [1000], 'a new count arms a new timer');
  });

  it('dispose drops the pending summary and its timer; nothing is written after it', function () {
    const { clock, summaries, log, take } = budget(1, 1000);
    take(3);
    assert.equal(clock.pending, 1);
    log.dispose();
    assert.equal(clock.pending, 0);
    take(5);
    assert.equal(clock.pending, 0, 'no timer after dispose');
    log.flush();
    clock.advance(5000);
    take(1);
    log.flush();
    assert.deepEqual(summaries, []);
  });

  it('the summary names the count and the window', function () {
    assert.equal(suppressedSummary(1, 60000), 'suppressed 1 more problem line in the last minute');
    assert.equal(suppressedSummary(7, 30000), 'suppressed 7 more problem lines in the last 30 s');
  });
});
