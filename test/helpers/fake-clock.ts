/**
 * A clock for unit tests of the engine's timing: time stands still until the test calls
 * advance(ms), which runs every timer that falls due, in order of due time (then of
 * creation), each with now() at its due time (or later, after stall). Nothing here waits for real time.
 */
import { Clock, TimerHandle } from '../../engine/clock';

interface FakeTimer {
  id: number;
  at: number;
  callback: () => void;
}

/** More timer runs than this in one advance() means timers that keep re-arming at once. */
const MAX_RUNS_PER_ADVANCE = 100000;

export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: FakeTimer = { id: this.nextId++, at: this.time + delay, callback };
    this.timers.set(timer.id, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward by `ms`, running the timers that fall due on the way; returns how many ran. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error(`advance needs ms >= 0, got ${ms}`);
    const target = this.time + ms;
    let runs = 0;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      if (++runs > MAX_RUNS_PER_ADVANCE) throw new Error(`more than ${MAX_RUNS_PER_ADVANCE} timers ran within ${ms} ms: a timer keeps re-arming itself`);
      this.timers.delete(next.id);
      // An overdue timer (after stall) runs late, at the current time: time never goes back.
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = target;
    return runs;
  }

  /** Moves time forward without running timers, as a blocked event loop does; the next advance runs what is overdue. */
  stall(ms: number): void {
    if (!(ms >= 0)) throw new Error(`stall needs ms >= 0, got ${ms}`);
    this.time += ms;
  }

  /** Runs timers until none is left, at most `limitMs` ahead; returns the time it ended at. */
  runAll(limitMs = 3600000): number {
    const end = this.time + limitMs;
    while (this.timers.size > 0) {
      const next = this.nextDue(end);
      if (!next) break;
      this.advance(next.at - this.time);
    }
    return this.time;
  }

  /** Timers pending. */
  get pending(): number {
    return this.timers.size;
  }

  /** In how many ms each pending timer is due, soonest first. */
  dueIn(): number[] {
    return [...this.timers.values()].map((timer) => timer.at - this.time).sort((a, b) => a - b);
  }

  private nextDue(until: number): FakeTimer | undefined {
    let next: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.at > until) continue;
      // Map order is creation order, so `<` keeps the first-created among equal due times.
      if (!next || timer.at < next.at) next = timer;
    }
    return next;
  }
}
