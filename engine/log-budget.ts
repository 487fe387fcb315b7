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

/** C0 and C1 control characters (ESC included), DEL, and the Unicode line and paragraph separators. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeCharacter(character: string): string {
  switch (character) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** Every control character of a text escaped (see printable), nothing clipped. */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, escapeCharacter);
}

/**
 * A peer-chosen text as it may appear in a log line or a node status: every control
 * character escaped (a newline cannot start a forged line, ESC cannot colour the
 * terminal) and at most `max` characters kept (a peer may send megabytes).
 */
export function printable(text: string, max = 500): string {
  if (text.length <= max) return escapeUnprintable(text);
  // A copy: a slice would keep the whole text (megabytes, maybe) alive in every message built from it.
  const head = escapeUnprintable(flatCopy(text.slice(0, max)));
  return `${head}… (${text.length} characters)`;
}

/** Keeps one log line readable and single: printable() of the whole line. */
export function clip(text: string, max = 500): string {
  return printable(text, max);
}

/**
 * A copy of a string that shares no memory with the string it came from: `slice` and
 * concatenation may keep a reference to the whole original (a frame of megabytes) for a
 * few characters. A round trip through a Buffer always builds a new string.
 */
export function flatCopy(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
