import { Clock, systemClock, TimerHandle } from './clock';
import { TypedEmitter } from './emitter';
import { ConnectionError, ErrorCode, OptionError, RealvirtualError } from './errors';

/**
 * Connection lifecycle shared by every protocol: connect, reconnect with capped
 * exponential backoff and jitter, heartbeat, status events and close. The protocol
 * supplies `dial`, which starts one attempt and reports back through the handle.
 */

export interface ReconnectOptions {
  autoReconnect: boolean;
  /** Delay before the first retry, in ms; it doubles per failed attempt up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs: number;
  /** Retries after a failure before giving up; -1 = unlimited. */
  maxAttempts: number;
  /** Spread of each delay, 0..1: 0.2 means ±20 %. */
  jitter: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  autoReconnect: true,
  intervalMs: 2000,
  maxIntervalMs: 30000,
  maxAttempts: -1,
  jitter: 0.2,
};

export function checkReconnectOptions(options: ReconnectOptions): void {
  const { intervalMs, maxIntervalMs, maxAttempts, jitter } = options;
  if (!(intervalMs >= 0) || !Number.isFinite(intervalMs)) throw new OptionError(`reconnect interval must be a number of ms >= 0, got ${intervalMs}`);
  if (!(maxIntervalMs >= intervalMs)) throw new OptionError(`maximum reconnect interval (${maxIntervalMs} ms) must be at least the interval (${intervalMs} ms)`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < -1) throw new OptionError(`max reconnect attempts must be -1 (unlimited) or a whole number >= 0, got ${maxAttempts}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new OptionError(`jitter must be between 0 and 1, got ${jitter}`);
}

/** Delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const exponential = options.intervalMs * Math.pow(2, Math.min(Math.max(attempt - 1, 0), 30));
  const capped = Math.min(options.maxIntervalMs, exponential);
  const spread = 1 + options.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(options.maxIntervalMs, capped * spread)));
}

/**
 * Public states. Failed attempts while retrying stay in one 'reconnecting' state,
 * so that a refused connection gives one status and one log line, not one per try;
 * a new state, error code or system error (ENOTFOUND → ECONNREFUSED) is a new status.
 */
export type LinkState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface LinkStatus {
  state: LinkState;
  error?: RealvirtualError;
  /** Failed attempts since the last successful connection. */
  attempts: number;
  /** While reconnecting: ms until the next attempt. */
  retryInMs?: number;
}

/** What `dial` gets: report the outcome of the attempt it started, once open and once closed. */
export interface AttemptHandle {
  opened(): void;
  closed(error?: RealvirtualError): void;
  /** True once this attempt is no longer the current one (superseded or closed). */
  readonly stale: boolean;
}

/** What `dial` returns: a way to abort the attempt or drop the connection. */
export interface Attempt {
  /** Ends the attempt or connection at once; `closed` is then reported (or not) as usual. */
  abort(): void;
  /** Ends an open connection politely (a close handshake, bounded in time); defaults to abort. */
  end?(): void;
}

type LifecycleEvents = {
  state: (status: LinkStatus) => void;
  /** Every attempt's failure, also those that do not change the public state (for debug logs). */
  attemptFailed: (error: RealvirtualError, attempt: number) => void;
};

export class ConnectionLifecycle extends TypedEmitter<LifecycleEvents> {
  private readonly options: ReconnectOptions;
  private readonly dial: (handle: AttemptHandle) => Attempt;
  private readonly random: () => number;
  private current: { attempt: Attempt; handle: AttemptHandle & { stale: boolean } } | null = null;
  private readonly clock: Clock;
  private retryTimer: TimerHandle | null = null;
  private attempts = 0;
  private closing: Promise<void> | null = null;
  private resolveClosed: (() => void) | null = null;
  private lastEmitted: { state: LinkState; code?: ErrorCode; cause?: string } | null = null;
  private statusValue: LinkStatus = { state: 'idle', attempts: 0 };

  constructor(options: ReconnectOptions, dial: (handle: AttemptHandle) => Attempt, random: () => number = Math.random, clock: Clock = systemClock) {
    super();
    checkReconnectOptions(options);
    this.options = { ...options };
    this.dial = dial;
    this.random = random;
    this.clock = clock;
  }

  get status(): LinkStatus {
    return this.statusValue;
  }

  get connected(): boolean {
    return this.statusValue.state === 'connected';
  }

  start(): void {
    if (this.closing || this.current || this.retryTimer !== null) return;
    // A new start (also after giving up) gets the full number of retries again.
    this.attempts = 0;
    this.setState({ state: 'connecting', attempts: this.attempts });
    this.attemptNow();
  }

  /**
   * Drops the current connection (e.g. a heartbeat timeout) and reconnects as configured;
   * `immediately` reconnects at once without counting a failed attempt.
   */
  drop(error: RealvirtualError, immediately = false): void {
    const current = this.current;
    if (!current || this.closing) return;
    if (immediately) {
      current.handle.stale = true;
      this.current = null;
      current.attempt.abort();
      this.setState({ state: 'connecting', attempts: this.attempts });
      this.attemptNow();
      return;
    }
    this.onClosed(current.handle, error);
    current.attempt.abort();
  }

  /** Stops for good: no further attempts; resolves once the current socket has closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.clearRetry();
    const current = this.current;
    this.closing = new Promise<void>((resolve) => {
      if (!current) {
        resolve();
        return;
      }
      this.resolveClosed = resolve;
    });
    if (current) {
      if (current.attempt.end) current.attempt.end();
      else current.attempt.abort();
    } else {
      this.finishClose();
    }
    return this.closing;
  }

  private attemptNow(): void {
    this.retryTimer = null;
    const handle = {
      stale: false,
      opened: () => this.onOpened(handle),
      closed: (error?: RealvirtualError) => this.onClosed(handle, error),
    };
    this.current = { handle, attempt: { abort: () => undefined } };
    try {
      this.current.attempt = this.dial(handle);
    } catch (error) {
      const wrapped = error instanceof RealvirtualError ? error : new ConnectionError('ERR_CONNECTION', `could not start a connection: ${(error as Error).message}`);
      this.onClosed(handle, wrapped);
    }
  }

  private onOpened(handle: AttemptHandle & { stale: boolean }): void {
    if (handle.stale || this.closing) return;
    this.attempts = 0;
    this.setState({ state: 'connected', attempts: 0 });
  }

  private onClosed(handle: AttemptHandle & { stale: boolean }, error?: RealvirtualError): void {
    if (handle.stale) return;
    handle.stale = true;
    this.current = null;
    if (this.closing) {
      this.finishClose();
      return;
    }
    const failure = error ?? new ConnectionError('ERR_CONNECTION', 'connection closed');
    this.attempts++;
    this.emit('attemptFailed', failure, this.attempts);
    const { autoReconnect, maxAttempts } = this.options;
    if (!autoReconnect || (maxAttempts >= 0 && this.attempts > maxAttempts)) {
      const reason = autoReconnect ? `gave up after ${maxAttempts} reconnect attempt${maxAttempts === 1 ? '' : 's'}: ${failure.message}` : `disconnected and auto reconnect is off: ${failure.message}`;
      this.setState({ state: 'failed', attempts: this.attempts, error: new ConnectionError('ERR_GAVE_UP', reason, { cause: failure }) });
      return;
    }
    const delay = backoffDelay(this.attempts, this.options, this.random);
    this.setState({ state: 'reconnecting', attempts: this.attempts, error: failure, retryInMs: delay });
    this.retryTimer = this.clock.setTimeout(() => this.attemptNow(), delay);
  }

  private finishClose(): void {
    this.setState({ state: 'closed', attempts: this.attempts });
    const resolve = this.resolveClosed;
    this.resolveClosed = null;
    if (resolve) resolve();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(status: LinkStatus): void {
    this.statusValue = status;
    const code = status.error?.code;
    const cause = causeCode(status.error);
    const last = this.lastEmitted;
    if (last && last.state === status.state && last.code === code && last.cause === cause) return;
    this.lastEmitted = { state: status.state, code, cause };
    this.emit('state', status);
  }
}

/** The system error code under an engine error (ECONNREFUSED, ENOTFOUND…), if any. */
function causeCode(error: RealvirtualError | undefined): string | undefined {
  const cause = error ? ((error as { cause?: unknown }).cause as { code?: unknown } | undefined) : undefined;
  return cause && typeof cause.code === 'string' ? cause.code : undefined;
}

/**
 * Detects half-open connections: `ping` is called every interval; if nothing was
 * heard (`alive`) since the previous ping, `onTimeout` fires instead. A dead peer
 * is therefore found within two intervals.
 */
export class Heartbeat {
  private timer: TimerHandle | null = null;
  private heard = true;

  constructor(
    private readonly intervalMs: number,
    private readonly ping: () => void,
    private readonly onTimeout: () => void,
    private readonly clock: Clock = systemClock,
  ) {}

  start(): void {
    this.stop();
    if (!(this.intervalMs > 0)) return;
    this.heard = true;
    this.arm();
  }

  alive(): void {
    this.heard = true;
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    this.timer = null;
    if (!this.heard) {
      this.onTimeout();
      return;
    }
    this.heard = false;
    this.arm();
    this.ping();
  }
}

interface StatusSource<S extends { state: string; error?: RealvirtualError }> {
  readonly status: S;
  on(event: 'status', listener: () => void): unknown;
  off(event: 'status', listener: () => void): unknown;
}

/**
 * The promise of `connect()` / `listen()`: calls `start`, then resolves once the source's state
 * is `goal`, or rejects once it is `failed` or `closed` (with the status error). Its rejection
 * is never unhandled, so a caller may ignore it.
 */
export function untilState<S extends { state: string; error?: RealvirtualError }>(source: StatusSource<S>, goal: S['state'], start: () => void): Promise<void> {
  const result = new Promise<void>((resolve, reject) => {
    const check = (): boolean => {
      const { state, error } = source.status;
      if (state === goal) resolve();
      else if (state === 'failed' || state === 'closed') reject(error ?? new ConnectionError('ERR_CLOSED', `closed before it was ${goal}`));
      else return false;
      source.off('status', check);
      return true;
    };
    source.on('status', check);
    start();
    check();
  });
  result.catch(() => undefined);
  return result;
}

/** A rejected promise whose rejection is never unhandled (for APIs whose promise may be ignored). */
export function rejected(error: RealvirtualError): Promise<never> {
  const result = Promise.reject(error);
  result.catch(() => undefined);
  return result;
}
