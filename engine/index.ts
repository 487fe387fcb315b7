/**
 * The protocol engine of node-red-contrib-realvirtual: realvirtual's WebSocket
 * Realtime Interface (wire protocol v2) in both roles, usable from any Node.js program.
 */
export { RealvirtualServer, ServerOptions, ServerTlsOptions } from './realvirtual/server';
export { RealvirtualClient, ClientOptions } from './realvirtual/client';
export {
  Endpoint,
  EndpointEvents,
  EndpointState,
  EndpointStatus,
  DataEvent,
  ImportResult,
  ConfigResult,
  ConfigSetHandler,
  ConfigOptions,
  WriteResult,
} from './realvirtual/endpoint';
export { EndpointOptions, DEFAULTS, normalizePath } from './realvirtual/options';
export { SignalTable, Signal, SignalDeclaration, SignalUpdate, Direction, realvirtualType, isDirection } from './realvirtual/signals';
export { ValueType, SignalValue, VALUE_TYPES, coerceValue, inferValueType, isValueType, isSignalValue, defaultValue } from './realvirtual/values';
export { ImportedSignal, DirectionRules, importCatalog, splitList } from './realvirtual/catalog';
export {
  Message,
  MessageType,
  MESSAGE_TYPES,
  SignalRecord,
  ConfigObject,
  ParseResult,
  PROTOCOL_VERSION,
  parseMessage,
  encodeMessage,
  encode,
} from './realvirtual/messages';
export { PeerInfo } from './realvirtual/session';
export { ExchangeStats } from './realvirtual/exchange';
export { ConnectionLifecycle, Heartbeat, LinkState, LinkStatus, ReconnectOptions, backoffDelay } from './lifecycle';
export {
  RealvirtualError,
  ProtocolError,
  SignalError,
  SignalErrors,
  OptionError,
  TimeoutError,
  ConnectionError,
  ErrorCode,
} from './errors';
export { Logger, silentLogger } from './logger';
