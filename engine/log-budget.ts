/**
 * Bounds how many log lines one source (a peer, or strangers knocking on the server)
 * may cause: at most `lines` per `windowMs`. The first line over budget is replaced by
 * one notice; the events themselves are still emitted, only the log stays quiet.
 */
export class LogBudget {
  private windowStart = -Infinity;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly lines: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * 'log' while within budget; 'notice' for the first line over it (log that the next
   * ones are suppressed); 'quiet' after that until the window ends.
   */
  take(): 'log' | 'notice' | 'quiet' {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
      this.suppressed = 0;
    }
    if (this.used < this.lines) {
      this.used++;
      return 'log';
    }
    this.suppressed++;
    return this.suppressed === 1 ? 'notice' : 'quiet';
  }

  /** Seconds until lines are logged again (for the notice). */
  get windowSeconds(): number {
    return Math.round(this.windowMs / 1000);
  }
}

/** Keeps one log line readable: a peer may send names or texts of many megabytes. */
export function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
