import { Clock, systemClock, TimerHandle, unrefTimer } from './clock';

/**
 * Bounds how many log lines one source (a connection node's endpoint, with all its
 * peers) may cause: at most `lines` per `windowMs`. Lines over budget are counted, not
 * logged; once the window has ended (or before the next logged line, whichever comes
 * first) `summary` is called once with how many were suppressed. The events themselves
 * are still emitted, only the log stays quiet.
 */
export class LogBudget {
  private windowStart = -Infinity;
  private used = 0;
  private suppressed = 0;
  private timer: TimerHandle | null = null;
  private disposed = false;

  constructor(
    private readonly lines: number,
    private readonly windowMs: number,
    private readonly summary: (suppressed: number) => void = () => undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  /** 'log' while within budget, 'quiet' over it (counted for the summary). */
  take(): 'log' | 'quiet' {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.lines) {
      this.used++;
      return 'log';
    }
    if (this.suppressed++ === 0 && !this.disposed) {
      this.timer = this.clock.setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.windowMs - now));
      unrefTimer(this.timer);
    }
    return 'quiet';
  }

  /** Writes the pending summary now, if any. */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const count = this.suppressed;
    this.suppressed = 0;
    if (count > 0 && !this.disposed) this.summary(count);
  }

  /** Drops the pending summary and its timer (the endpoint closed). */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.suppressed = 0;
  }
}

/** The text of a suppressed-lines summary (one wording for every endpoint). */
export function suppressedSummary(count: number, windowMs: number): string {
  const window = windowMs === 60000 ? 'the last minute' : `the last ${Math.round(windowMs / 1000)} s`;
  return `suppressed ${count} more problem line${count === 1 ? '' : 's'} in ${window}`;
}
