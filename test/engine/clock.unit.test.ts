/**
 * The fake clock the unit tests rely on, and the real clock's defaults.
 */
import assert from 'assert/strict';
import { systemClock, unrefTimer } from '../../engine/clock';
import { FakeClock } from '../helpers/fake-clock';

describe('clock', function () {
  it('fake: advance runs due timers in order of due time, then of creation, each at its due time', function () {
    const clock = new FakeClock(1000);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => ran.push(`c@${clock.now()}`), 20);
    const never = clock.setTimeout(() => ran.push('cleared'), 5);
    clock.clearTimeout(never);
    assert.equal(clock.advance(15), 1);
    assert.equal(clock.now(), 1015);
    assert.equal(clock.advance(100), 2);
    assert.deepEqual(ran, ['a@1010', 'b@1020', 'c@1020']);
    assert.equal(clock.now(), 1115);
  });

  it('fake: timers armed while advancing run in the same advance when due within it', function () {
    const clock = new FakeClock();
    const ran: number[] = [];
    const tick = (): void => {
      ran.push(clock.now());
      if (ran.length < 5) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.advance(35);
    assert.deepEqual(ran, [10, 20, 30]);
    assert.deepEqual(clock.dueIn(), [5]);
    assert.equal(clock.runAll(), 50);
    assert.deepEqual(ran, [10, 20, 30, 40, 50]);
    assert.equal(clock.pending, 0);
  });

  it('fake: zero and bad delays are due at once; a timer that re-arms at 0 forever is stopped with an error', function () {
    const clock = new FakeClock();
    let runs = 0;
    clock.setTimeout(() => runs++, 0);
    clock.setTimeout(() => runs++, -5);
    clock.setTimeout(() => runs++, NaN);
    clock.advance(0);
    assert.equal(runs, 3);
    const loop = (): void => void clock.setTimeout(loop, 0);
    loop();
    assert.throws(() => clock.advance(1), /keeps re-arming itself/);
    assert.throws(() => clock.advance(-1), /ms >= 0/);
  });

  it('fake: stall moves time without running timers; the next advance runs them late, time never goes back', function () {
    const clock = new FakeClock();
    const ran: number[] = [];
    clock.setTimeout(() => ran.push(clock.now()), 10);
    clock.stall(100);
    assert.deepEqual(ran, []);
    clock.advance(0);
    assert.deepEqual(ran, [100]);
    assert.equal(clock.now(), 100);
  });

  it('system: the real time and timers; unrefTimer unrefs real timers and ignores others', async function () {
    const before = Date.now();
    assert.ok(Math.abs(systemClock.now() - before) < 1000);
    const fired = await new Promise<boolean>((resolve) => systemClock.setTimeout(() => resolve(true), 1));
    assert.equal(fired, true);
    const handle = systemClock.setTimeout(() => assert.fail('cleared timers do not run'), 1);
    systemClock.clearTimeout(handle);
    unrefTimer(handle);
    assert.equal((handle as NodeJS.Timeout).hasRef(), false);
    unrefTimer(7);
    unrefTimer(null);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
});
