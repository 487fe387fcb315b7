import { checkNumber, checkPort } from '../checks';
import { Clock, systemClock } from '../clock';
import { OptionError } from '../errors';
import { DEFAULT_RECONNECT, ReconnectOptions } from '../lifecycle';
import { Logger, silentLogger } from '../logger';
import { hostPort, withLeadingSlash } from '../network';
import { DEFAULT_MAX_FRAME } from './framing';

/** `tcp`: MinVR3's TcpJsonVREventConnection (length-prefixed frames); `websocket`: one bare VREvent per text message. */
export type MinVRTransport = 'tcp' | 'websocket';

export const MINVR_TRANSPORTS: readonly MinVRTransport[] = Object.freeze(['tcp', 'websocket'] as MinVRTransport[]);

export const MINVR_DEFAULTS = Object.freeze({
  transport: 'tcp' as MinVRTransport,
  host: '127.0.0.1',
  /** The port MinVR3's bundled relays and tools use. */
  port: 9034,
  /** WebSocket only: the path of MinVR3's JavaScript client and WebSocket plugin. */
  path: '/vrevent',
  maxFrame: DEFAULT_MAX_FRAME,
  /** A frame not complete this long after its first byte drops the peer (Unity allows 5 s). */
  frameTimeoutMs: 5000,
  autoReconnect: DEFAULT_RECONNECT.autoReconnect,
  reconnectIntervalMs: DEFAULT_RECONNECT.intervalMs,
  maxReconnectIntervalMs: DEFAULT_RECONNECT.maxIntervalMs,
  maxReconnectAttempts: DEFAULT_RECONNECT.maxAttempts,
  connectTimeoutMs: 5000,
  /** WebSocket only: ping period; a peer silent for two periods is dropped. 0 = off. */
  heartbeatMs: 10000,
  /** A peer with more unsent bytes than this, besides the event being written, is not reading and is dropped. */
  maxBufferedBytes: 64 * 1024 * 1024,
  /**
   * Bytes of incomplete frames held for all peers together: four frames of the largest default
   * size at once, while real peers send events of a few hundred bytes.
   */
  maxPartialBytes: 64 * 1024 * 1024,
});

export interface MinVROptions {
  transport?: MinVRTransport;
  /** Client: the address to connect to. Server: the bind address (default loopback only). */
  host?: string;
  /** Client: 1..65535. Server: 0 picks a free port. */
  port?: number;
  path?: string;
  /** Largest frame (TCP) or message (WebSocket) in bytes; a larger one drops its peer. */
  maxFrame?: number;
  frameTimeoutMs?: number;
  autoReconnect?: boolean;
  /** First retry delay in ms; it doubles per failure up to maxReconnectIntervalMs. */
  reconnectIntervalMs?: number;
  maxReconnectIntervalMs?: number;
  /** Retries before giving up; -1 = unlimited. */
  maxReconnectAttempts?: number;
  reconnectJitter?: number;
  connectTimeoutMs?: number;
  heartbeatMs?: number;
  maxBufferedBytes?: number;
  /** Bytes of incomplete frames held for all peers together; the peer whose frame would go over is dropped. */
  maxPartialBytes?: number;
  logger?: Logger;
  /** Time and timers of reconnect (or listen retry) backoff and the log window; default the real ones (tests pass a fake). */
  clock?: Clock;
}

export interface ResolvedMinVROptions {
  transport: MinVRTransport;
  host: string;
  port: number;
  path: string;
  maxFrame: number;
  frameTimeoutMs: number;
  reconnect: ReconnectOptions;
  connectTimeoutMs: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  maxPartialBytes: number;
  logger: Logger;
  clock: Clock;
}

export function resolveMinVROptions(options: MinVROptions, role: 'client' | 'server'): ResolvedMinVROptions {
  const transport = options.transport ?? MINVR_DEFAULTS.transport;
  if (!MINVR_TRANSPORTS.includes(transport)) throw new OptionError(`transport must be "tcp" or "websocket", got ${JSON.stringify(transport)}`);
  const host = options.host ?? MINVR_DEFAULTS.host;
  if (typeof host !== 'string' || host.trim() === '') throw new OptionError(`host must be ${role === 'client' ? 'the address to connect to' : 'a bind address'}, e.g. 127.0.0.1`);
  const port = checkPort(options.port ?? MINVR_DEFAULTS.port);
  if (role === 'client' && port === 0) throw new OptionError('port must be from 1 to 65535 to connect');
  let path = options.path ?? MINVR_DEFAULTS.path;
  if (typeof path !== 'string') throw new OptionError('path must be a string such as /vrevent');
  path = withLeadingSlash(path);
  const maxFrame = checkNumber('maxFrame', options.maxFrame ?? MINVR_DEFAULTS.maxFrame, 1, true);
  if (maxFrame > 0xffffffff) throw new OptionError(`maxFrame must be at most ${0xffffffff} bytes, got ${maxFrame}`);
  const intervalMs = checkNumber('reconnectIntervalMs', options.reconnectIntervalMs ?? MINVR_DEFAULTS.reconnectIntervalMs, 0);
  const autoReconnect = options.autoReconnect ?? MINVR_DEFAULTS.autoReconnect;
  if (typeof autoReconnect !== 'boolean') throw new OptionError('autoReconnect must be true or false');
  return {
    transport,
    host: host.trim(),
    port,
    path,
    maxFrame,
    frameTimeoutMs: checkNumber('frameTimeoutMs', options.frameTimeoutMs ?? MINVR_DEFAULTS.frameTimeoutMs, 0),
    reconnect: {
      autoReconnect,
      intervalMs,
      maxIntervalMs: Math.max(options.maxReconnectIntervalMs ?? MINVR_DEFAULTS.maxReconnectIntervalMs, intervalMs),
      maxAttempts: options.maxReconnectAttempts ?? MINVR_DEFAULTS.maxReconnectAttempts,
      jitter: options.reconnectJitter ?? DEFAULT_RECONNECT.jitter,
    },
    connectTimeoutMs: checkNumber('connectTimeoutMs', options.connectTimeoutMs ?? MINVR_DEFAULTS.connectTimeoutMs, 1),
    heartbeatMs: checkNumber('heartbeatMs', options.heartbeatMs ?? MINVR_DEFAULTS.heartbeatMs, 0),
    maxBufferedBytes: checkNumber('maxBufferedBytes', options.maxBufferedBytes ?? MINVR_DEFAULTS.maxBufferedBytes, 1),
    maxPartialBytes: checkNumber('maxPartialBytes', options.maxPartialBytes ?? MINVR_DEFAULTS.maxPartialBytes, 1, true),
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  };
}

/** tcp://host:port or ws://host:port/path, for logs and status. */
export function minvrUrl(transport: MinVRTransport, host: string, port: number, path: string): string {
  return transport === 'tcp' ? `tcp://${hostPort(host, port)}` : `ws://${hostPort(host, port)}${path || '/'}`;
}
