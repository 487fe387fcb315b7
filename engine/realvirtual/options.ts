import { Clock, systemClock } from '../clock';
import { OptionError } from '../errors';
import { Logger, silentLogger } from '../logger';
import { withLeadingSlash } from '../network';
import { DirectionRules, splitList } from './catalog';
import { SignalDeclaration } from './signals';

/** Settings shared by the server and the client. */
export interface EndpointOptions extends Omit<DirectionRules, 'inputPatterns' | 'outputPatterns'> {
  /** Name substrings (list or comma-separated) of neutral-typed signals the remote side writes. */
  inputPatterns?: string | readonly string[];
  /** Name substrings (list or comma-separated) of neutral-typed signals we write. */
  outputPatterns?: string | readonly string[];
  /** Cycle period in ms: 0 flushes on every write, else 1 to 60000. Default 10. */
  cycleMs?: number;
  /** Send only values that changed since a peer last got them. Default true. */
  onlyChanged?: boolean;
  /** Send every intermediate value, one per cycle, in order. Default false. */
  preserveTransitions?: boolean;
  /** Bound of each signal's transition queue. Default 1000. */
  maxTransitions?: number;
  /** Largest frame accepted, in bytes. Default 16 MiB. */
  maxPayload?: number;
  /** Signals declared up front. */
  signals?: SignalDeclaration[];
  /** Time allowed for an import or config answer, in ms. Default 5000. */
  requestTimeoutMs?: number;
  /** Socket buffer (bytes) above which a peer counts as slow and is conflated. Default 4 MiB. */
  slowPeerBytes?: number;
  /** A peer slow for this long (ms) is disconnected; 0 = never. Default 30000. */
  slowPeerTimeoutMs?: number;
  /** Most signals that writes, received values and imports may create (declared ones always fit). Default 100000. */
  maxSignals?: number;
  /** Largest Text value (UTF-8 bytes) a peer, a flow or an import may store. Default 64 KiB. */
  maxTextBytes?: number;
  /** Longest signal name, in characters. Default 256. */
  maxNameLength?: number;
  /** Longest peer name (`init`) kept, in characters; longer ones are clipped. Default 256. */
  maxClientName?: number;
  /** Budget of the whole signal table in estimated bytes (names, texts, per-signal overhead). Default 64 MiB. */
  maxTableBytes?: number;
  logger?: Logger;
  /** Time and timers of the cycle, the full-state hold, request timeouts, reconnects and heartbeats; default the real ones (tests pass a fake). */
  clock?: Clock;
}

export interface ResolvedEndpointOptions {
  cycleMs: number;
  onlyChanged: boolean;
  preserveTransitions: boolean;
  maxTransitions: number;
  maxPayload: number;
  signals: SignalDeclaration[];
  requestTimeoutMs: number;
  slowPeerBytes: number;
  slowPeerTimeoutMs: number;
  maxSignals: number;
  maxTextBytes: number;
  maxNameLength: number;
  maxClientName: number;
  maxTableBytes: number;
  inputPatterns: string[];
  outputPatterns: string[];
  defaultDirection: 'read' | 'write';
  logger: Logger;
  clock: Clock;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 1234,
  path: '',
  clientName: 'Node-RED',
  cycleMs: 10,
  onlyChanged: true,
  preserveTransitions: false,
  maxTransitions: 1000,
  maxPayload: 16 * 1024 * 1024,
  requestTimeoutMs: 5000,
  slowPeerBytes: 4 * 1024 * 1024,
  slowPeerTimeoutMs: 30000,
  maxSignals: 100000,
  /** Bytes of JSON the configuration (config_get / config_set) may hold. */
  maxConfigBytes: 256 * 1024,
  /** What peers may do with the configuration: "read-write", "read-only" or "off". */
  remoteConfig: 'read-write' as RemoteConfigMode,
  maxTextBytes: 64 * 1024,
  maxNameLength: 256,
  maxClientName: 256,
  maxTableBytes: 64 * 1024 * 1024,
  maxClients: 0,
  initTimeoutMs: 10000,
  defaultDirection: 'read' as const,
  autoReconnect: true,
  reconnectIntervalMs: 2000,
  maxReconnectIntervalMs: 30000,
  maxReconnectAttempts: -1,
  handshakeTimeoutMs: 5000,
  heartbeatMs: 10000,
  /** Server: retries of a failed listen (a busy port); 0 = none, -1 = until listening. */
  listenRetries: 0,
  listenRetryIntervalMs: 2000,
  maxListenRetryIntervalMs: 30000,
  subscribeWaitMs: 500,
  keepAliveMs: 25000,
};

import { checkNumber } from '../checks';
import { checkCycleMs, RemoteConfigMode } from './config-rules';

export { checkNumber, checkPort } from '../checks';

export function resolveEndpointOptions(options: EndpointOptions): ResolvedEndpointOptions {
  const defaultDirection = options.defaultDirection ?? DEFAULTS.defaultDirection;
  if (defaultDirection !== 'read' && defaultDirection !== 'write') {
    throw new OptionError(`defaultDirection must be "read" or "write", got ${JSON.stringify(defaultDirection)}`);
  }
  return {
    cycleMs: checkCycleMs('cycleMs', options.cycleMs ?? DEFAULTS.cycleMs),
    onlyChanged: options.onlyChanged ?? DEFAULTS.onlyChanged,
    preserveTransitions: options.preserveTransitions ?? DEFAULTS.preserveTransitions,
    maxTransitions: checkNumber('maxTransitions', options.maxTransitions ?? DEFAULTS.maxTransitions, 1, true),
    maxPayload: checkNumber('maxPayload', options.maxPayload ?? DEFAULTS.maxPayload, 1, true),
    signals: options.signals ?? [],
    requestTimeoutMs: checkNumber('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, 1),
    slowPeerBytes: checkNumber('slowPeerBytes', options.slowPeerBytes ?? DEFAULTS.slowPeerBytes, 0),
    slowPeerTimeoutMs: checkNumber('slowPeerTimeoutMs', options.slowPeerTimeoutMs ?? DEFAULTS.slowPeerTimeoutMs, 0),
    maxSignals: checkNumber('maxSignals', options.maxSignals ?? DEFAULTS.maxSignals, 1, true),
    maxTextBytes: checkNumber('maxTextBytes', options.maxTextBytes ?? DEFAULTS.maxTextBytes, 0, true),
    maxNameLength: checkNumber('maxNameLength', options.maxNameLength ?? DEFAULTS.maxNameLength, 1, true),
    maxClientName: checkNumber('maxClientName', options.maxClientName ?? DEFAULTS.maxClientName, 1, true),
    maxTableBytes: checkNumber('maxTableBytes', options.maxTableBytes ?? DEFAULTS.maxTableBytes, 1, true),
    inputPatterns: splitList(options.inputPatterns),
    outputPatterns: splitList(options.outputPatterns),
    defaultDirection,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  };
}

/** A URL path: "" stays "", anything else starts with exactly one "/". */
export function normalizePath(path: string | undefined): string {
  const withSlash = withLeadingSlash(path ?? '');
  return withSlash === '/' ? '' : withSlash;
}
