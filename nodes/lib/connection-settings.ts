import {
  checkCycleMs,
  ClientOptions,
  DEFAULTS,
  internals,
  isDirection,
  isRemoteConfigMode,
  isValueType,
  normalizePath,
  OptionError,
  RemoteConfigMode,
  ServerOptions,
  SignalDeclaration,
} from '../../engine';
import { numberProperty, present } from './properties';

const { hostPort } = internals;

export type Mode = 'server' | 'client';

/**
 * The `realvirtual-connection` properties and their defaults: a public contract that
 * flows depend on. The editor's defaults are checked against this table by a test.
 */
export const CONNECTION_DEFAULTS = {
  name: '',
  mode: 'server' as Mode,
  host: DEFAULTS.host,
  port: DEFAULTS.port,
  path: DEFAULTS.path,
  tls: '',
  clientName: DEFAULTS.clientName,
  cycleMs: DEFAULTS.cycleMs,
  onlyChanged: DEFAULTS.onlyChanged,
  preserveTransitions: DEFAULTS.preserveTransitions,
  maxPayload: DEFAULTS.maxPayload,
  autoReconnect: DEFAULTS.autoReconnect,
  reconnectInterval: DEFAULTS.reconnectIntervalMs / 1000,
  maxReconnectAttempts: DEFAULTS.maxReconnectAttempts,
  /** Server mode: browser origins allowed to connect (comma-separated); "" = any. */
  allowedOrigins: '',
  /** Server mode: most clients at once (0 = unlimited). */
  maxClients: DEFAULTS.maxClients,
  /** Server mode: seconds a new client may stay silent before it is closed (0 = never). */
  initTimeout: DEFAULTS.initTimeoutMs / 1000,
  /** Server mode: seconds a new client's full state waits for its subscribe after init or an import answer. */
  subscribeWait: DEFAULTS.subscribeWaitMs / 1000,
  /** Seconds a peer may stay over the slow-peer buffer before it is disconnected (0 = never). */
  slowPeerTimeout: DEFAULTS.slowPeerTimeoutMs / 1000,
  /** Bytes of JSON the remote configuration may hold (config_set beyond it is refused). */
  maxConfigBytes: DEFAULTS.maxConfigBytes,
  /** What peers may do with the configuration: "read-write", "read-only" or "off". */
  remoteConfig: DEFAULTS.remoteConfig as RemoteConfigMode,
  /** Largest Text value in bytes (UTF-8) that peers, flows and imports may store. */
  maxTextBytes: DEFAULTS.maxTextBytes,
  /** Longest signal name in characters. */
  maxNameLength: DEFAULTS.maxNameLength,
  /** Longest peer name (from its `init`) kept, in characters; longer ones are clipped. */
  maxClientName: DEFAULTS.maxClientName,
  /** Budget of the whole signal table in estimated bytes. */
  maxTableBytes: DEFAULTS.maxTableBytes,
  defaultDirection: DEFAULTS.defaultDirection as 'read' | 'write',
  inputPatterns: '',
  outputPatterns: '',
  debug: false,
  signals: [] as SignalDeclaration[],
};

export type ConnectionProperties = typeof CONNECTION_DEFAULTS;

export interface ConnectionSettings {
  mode: Mode;
  debug: boolean;
  /** Options for the engine in the chosen mode (without logger, TLS and config, which the node adds). */
  server: ServerOptions;
  client: ClientOptions;
  /** "host:port/path", for status and logs. */
  label: string;
}

function number(config: Record<string, unknown>, key: keyof ConnectionProperties, min: number, integer: boolean): number {
  return numberProperty(config[key], key, CONNECTION_DEFAULTS[key] as number, { min, integer });
}

function flag(config: Record<string, unknown>, key: keyof ConnectionProperties): boolean {
  const raw = config[key];
  if (!present(raw)) return CONNECTION_DEFAULTS[key] as boolean;
  return raw === true || raw === 'true';
}

function text(config: Record<string, unknown>, key: keyof ConnectionProperties): string {
  const raw = config[key];
  return present(raw) ? String(raw) : (CONNECTION_DEFAULTS[key] as string);
}

/** Reads declared signals from the editor's list, naming the row of each mistake. */
export function readDeclaredSignals(raw: unknown): SignalDeclaration[] {
  if (!present(raw)) return [];
  if (!Array.isArray(raw)) throw new OptionError('signals must be a list of {name, type, direction, value}');
  const seen = new Set<string>();
  return raw.map((entry, index) => {
    const row = `declared signal ${index + 1}`;
    if (entry === null || typeof entry !== 'object') throw new OptionError(`${row} is not an object`);
    const { name, type, direction, value } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new OptionError(`${row} has no name`);
    if (seen.has(name)) throw new OptionError(`${row}: "${name}" is declared twice`);
    seen.add(name);
    if (!isValueType(type)) throw new OptionError(`${row} ("${name}"): type must be Bool, Int, Float or Text`);
    const dir = direction ?? 'read';
    if (!isDirection(dir)) throw new OptionError(`${row} ("${name}"): direction must be "write" or "read"`);
    return { name, type, direction: dir, value: value === '' ? undefined : value };
  });
}

/**
 * Turns the config node's properties into engine options; throws an OptionError naming
 * the bad property. `secret` comes from the node's credentials, never from its properties.
 */
export function readConnectionSettings(config: Record<string, unknown>, secret = ''): ConnectionSettings {
  const mode = text(config, 'mode');
  if (mode !== 'server' && mode !== 'client') throw new OptionError(`mode must be "server" or "client", got ${JSON.stringify(mode)}`);
  const defaultDirection = text(config, 'defaultDirection');
  if (!isDirection(defaultDirection)) throw new OptionError(`defaultDirection must be "read" or "write", got ${JSON.stringify(defaultDirection)}`);
  const host = text(config, 'host').trim();
  const port = number(config, 'port', mode === 'server' ? 0 : 1, true);
  if (port > 65535) throw new OptionError(`port must be at most 65535, got ${port}`);
  const path = text(config, 'path').trim();
  const remoteConfig = text(config, 'remoteConfig');
  if (!isRemoteConfigMode(remoteConfig)) throw new OptionError(`remoteConfig must be "read-write", "read-only" or "off", got ${JSON.stringify(remoteConfig)}`);
  const common = {
    host,
    port,
    path,
    cycleMs: checkCycleMs('cycleMs', number(config, 'cycleMs', 0, false)),
    onlyChanged: flag(config, 'onlyChanged'),
    preserveTransitions: flag(config, 'preserveTransitions'),
    maxPayload: number(config, 'maxPayload', 1, true),
    defaultDirection,
    inputPatterns: text(config, 'inputPatterns'),
    outputPatterns: text(config, 'outputPatterns'),
    signals: readDeclaredSignals(config.signals),
    slowPeerTimeoutMs: number(config, 'slowPeerTimeout', 0, false) * 1000,
    maxConfigBytes: number(config, 'maxConfigBytes', 1, true),
    remoteConfig,
    maxTextBytes: number(config, 'maxTextBytes', 0, true),
    maxNameLength: number(config, 'maxNameLength', 1, true),
    maxClientName: number(config, 'maxClientName', 1, true),
    maxTableBytes: number(config, 'maxTableBytes', 1, true),
    secret: typeof secret === 'string' ? secret : '',
  };
  const maxReconnectAttempts = number(config, 'maxReconnectAttempts', -1, true);
  const client: ClientOptions = {
    ...common,
    clientName: text(config, 'clientName'),
    autoReconnect: flag(config, 'autoReconnect'),
    reconnectIntervalMs: number(config, 'reconnectInterval', 0, false) * 1000,
    maxReconnectAttempts,
  };
  const server: ServerOptions = {
    ...common,
    allowedOrigins: text(config, 'allowedOrigins'),
    maxClients: number(config, 'maxClients', 0, true),
    initTimeoutMs: number(config, 'initTimeout', 0, false) * 1000,
    subscribeWaitMs: Math.round(number(config, 'subscribeWait', 0, false) * 1000),
    // A busy port is retried as a client reconnects: autoReconnect, reconnectInterval and maxReconnectAttempts apply.
    listenRetries: client.autoReconnect ? maxReconnectAttempts : 0,
    listenRetryIntervalMs: client.reconnectIntervalMs || DEFAULTS.listenRetryIntervalMs,
  };
  return { mode, debug: flag(config, 'debug'), server, client, label: `${hostPort(host, port)}${normalizePath(path)}` };
}
