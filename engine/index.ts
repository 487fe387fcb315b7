/**
 * The protocol engines of node-red-contrib-realvirtual, usable from any Node.js program:
 * realvirtual's WebSocket Realtime Interface (wire protocol v2) and MinVR3's VREvent
 * connections (TCP JSON and WebSocket), each in both roles.
 */
export { RealvirtualServer, ServerOptions, ServerTlsOptions } from './realvirtual/server';
export { RealvirtualClient, ClientOptions } from './realvirtual/client';
export { Endpoint, EndpointEvents, EndpointState, EndpointStatus, DataEvent, ImportResult, ConfigResult, ConfigSetHandler, ConfigOptions, WriteResult } from './realvirtual/endpoint';
export { EndpointOptions, DEFAULTS, normalizePath } from './realvirtual/options';
export { RemoteConfigMode, REMOTE_CONFIG_MODES, MAX_CONFIG_KEYS, MIN_CYCLE_MS, MAX_CYCLE_MS, isRemoteConfigMode, isValidCycleMs, checkCycleMs, checkConfig } from './realvirtual/config-rules';
export { SignalTable, Signal, SignalDeclaration, SignalUpdate, Direction, realvirtualType, isDirection } from './realvirtual/signals';
export { ValueType, SignalValue, VALUE_TYPES, coerceValue, inferValueType, isValueType, isSignalValue, defaultValue } from './realvirtual/values';
export { ImportedSignal, DirectionRules, importCatalog, splitList } from './realvirtual/catalog';
export { Message, MessageType, MESSAGE_TYPES, SignalRecord, ConfigObject, ParseResult, PROTOCOL_VERSION, parseMessage, encodeMessage, encode } from './realvirtual/messages';
export { PeerInfo } from './realvirtual/peers';
export { EndpointShell, EndpointRole, PeerLink, ShellEvents } from './endpoint-shell';
export { SignalBatch, ShapeToken } from './realvirtual/batch';
export { ExchangeStats } from './realvirtual/exchange';
export { ConnectionLifecycle, Heartbeat, LinkState, LinkStatus, ReconnectOptions, backoffDelay } from './lifecycle';
export { Clock, TimerHandle, systemClock } from './clock';
export { RealvirtualError, ProtocolError, SignalError, SignalErrors, OptionError, TimeoutError, ConnectionError, ConfigError, ErrorCode } from './errors';
export { Logger, silentLogger } from './logger';
export { MinVRClient, MinVRClientOptions } from './minvr/client';
export { MinVRServer, MinVRServerOptions } from './minvr/server';
export { MinVREndpoint, MinVREvents, MinVRPeerInfo, MinVRState, MinVRStatus, MinVRStats } from './minvr/endpoint';
export { MinVROptions, MinVRTransport, MINVR_DEFAULTS, MINVR_TRANSPORTS } from './minvr/options';
export { VREvent, KnownEvent, UnknownEvent, KnownType, KNOWN_TYPES, Vector2, Vector3, Vector4, Quaternion, GameObjectRef, decodeEvent, encodeEvent, isKnownType, isUnknownEvent } from './minvr/events';
export { DEFAULT_MAX_FRAME, FrameDecoder, FrameResult, OutgoingEvent, encodeFrame, frameJson } from './minvr/framing';
export * as internals from './internals';
