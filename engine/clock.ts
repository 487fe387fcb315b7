/**
 * The time source of the engine's timing logic (cycles, holds, backoff, heartbeats, request
 * and close timeouts, log windows). Every such module takes a Clock and uses the real one by
 * default, so that tests can replace time with a fake clock that they advance by hand.
 */

/** A timer as a clock returns it: opaque, only handed back to the same clock. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic-enough scale: only differences are used. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: Date.now and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Lets the process exit while this timer is pending (a real timer; other clocks' timers are left alone). */
export function unrefTimer(handle: TimerHandle): void {
  const timer = handle as { unref?: () => unknown } | null;
  if (timer && typeof timer.unref === 'function') timer.unref();
}
