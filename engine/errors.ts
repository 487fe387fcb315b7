/**
 * Every error the engine reports is an instance of RealvirtualError with a
 * stable `code`, so that callers (and Node-RED Catch nodes) can branch on it.
 */
export type ErrorCode =
  | 'ERR_BINARY_FRAME'
  | 'ERR_INVALID_JSON'
  | 'ERR_NOT_AN_OBJECT'
  | 'ERR_MISSING_TYPE'
  | 'ERR_INVALID_FIELD'
  | 'ERR_INVALID_VALUE'
  | 'ERR_TYPE_MISMATCH'
  | 'ERR_DIRECTION'
  | 'ERR_UNKNOWN_SIGNAL'
  | 'ERR_UNKNOWN_CONNECTION'
  | 'ERR_TOO_MANY_WATCHERS'
  | 'ERR_FORBIDDEN'
  | 'ERR_INVALID_OPTION'
  | 'ERR_TIMEOUT'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_CLOSED'
  | 'ERR_CONNECTION'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_HEARTBEAT_TIMEOUT'
  | 'ERR_GAVE_UP'
  | 'ERR_LISTEN'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_SLOW_PEER'
  | 'ERR_INVALID_UTF8'
  | 'ERR_TLS'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN_ORIGIN'
  | 'ERR_TOO_MANY_CLIENTS'
  | 'ERR_NO_INIT'
  | 'ERR_INSECURE_SECRET'
  | 'ERR_TOO_MANY_SIGNALS'
  | 'ERR_CONFIG_TOO_LARGE'
  | 'ERR_UNSAFE_PATH'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_NAME_TOO_LONG'
  | 'ERR_TABLE_FULL'
  | 'ERR_HANDLER_FAILED'
  | 'ERR_MINVR_EVENT'
  | 'ERR_MINVR_FRAME_TOO_LARGE'
  | 'ERR_MINVR_FRAME_TIMEOUT'
  | 'ERR_MINVR_BUFFER_FULL';

export class RealvirtualError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (options && options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

/** A frame that could not be understood as a protocol message. The session goes on. */
export class ProtocolError extends RealvirtualError {}

/**
 * One signal's value was rejected; the rest of its message still applies. Built without
 * a stack trace: it is a result that names the signal, not an exception from a place in
 * the code, and one hostile message can cause a thousand of them (capturing a stack costs
 * more than reading the value).
 */
export class SignalError extends RealvirtualError {
  readonly signal: string;

  constructor(code: ErrorCode, signal: string, message: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(code, message);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.signal = signal;
  }
}

/** Invalid settings given to the engine. */
export class OptionError extends RealvirtualError {
  constructor(message: string) {
    super('ERR_INVALID_OPTION', message);
  }
}

/** A request (import, config) that got no answer in time. */
export class TimeoutError extends RealvirtualError {
  constructor(message: string) {
    super('ERR_TIMEOUT', message);
  }
}

/** A configuration refused or not stored: over a limit, or a storage path outside its directory. */
export class ConfigError extends RealvirtualError {}

/** Failures of the transport: connect, listen, handshake, heartbeat, closing. */
export class ConnectionError extends RealvirtualError {}

/** Collects per-signal errors under one Error, for APIs that report them together. */
export class SignalErrors extends RealvirtualError {
  readonly errors: SignalError[];

  constructor(errors: SignalError[]) {
    super(errors[0] ? errors[0].code : 'ERR_INVALID_VALUE', errors.map((e) => e.message).join('; '));
    this.errors = errors;
  }
}
