import { KnownType, MINVR_DEFAULTS, MinVROptions, MinVRTransport, OptionError } from '../../engine';
import { numberProperty, present } from './properties';

/**
 * The `minvr-connection` properties and their defaults: a public contract that flows depend
 * on. The editor's defaults are checked against this table by a test.
 */
export const MINVR_CONNECTION_DEFAULTS = {
  name: '',
  transport: MINVR_DEFAULTS.transport as MinVRTransport,
  mode: 'server' as 'server' | 'client',
  host: MINVR_DEFAULTS.host,
  port: MINVR_DEFAULTS.port,
  path: MINVR_DEFAULTS.path,
  maxFrame: MINVR_DEFAULTS.maxFrame,
  /** Seconds a frame may take to arrive completely before its peer is dropped (0 = no limit). */
  frameTimeout: MINVR_DEFAULTS.frameTimeoutMs / 1000,
  /** Bytes of incomplete frames held for all peers together; the peer whose frame would go over is dropped. */
  maxPartialBytes: MINVR_DEFAULTS.maxPartialBytes,
  autoReconnect: MINVR_DEFAULTS.autoReconnect,
  /** Seconds before the first retry (doubling per failure up to 30 s). */
  reconnectInterval: MINVR_DEFAULTS.reconnectIntervalMs / 1000,
};

export type MinVRConnectionProperties = typeof MINVR_CONNECTION_DEFAULTS;

export interface MinVRSettings {
  mode: 'server' | 'client';
  options: MinVROptions;
}

function number(config: Record<string, unknown>, key: keyof MinVRConnectionProperties, min: number, max: number, integer: boolean): number {
  return numberProperty(config[key], key, MINVR_CONNECTION_DEFAULTS[key] as number, { min, max, integer });
}

function choice<T extends string>(config: Record<string, unknown>, key: keyof MinVRConnectionProperties, allowed: readonly T[]): T {
  const raw = present(config[key]) ? String(config[key]) : (MINVR_CONNECTION_DEFAULTS[key] as string);
  if (!(allowed as readonly string[]).includes(raw)) throw new OptionError(`${key} must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** Turns the config node's properties into engine options; throws an OptionError naming the bad property. */
export function readMinVRSettings(config: Record<string, unknown>): MinVRSettings {
  const mode = choice(config, 'mode', ['server', 'client'] as const);
  const transport = choice(config, 'transport', ['tcp', 'websocket'] as const);
  const host = present(config.host) ? String(config.host).trim() : MINVR_CONNECTION_DEFAULTS.host;
  const rawAuto = config.autoReconnect;
  return {
    mode,
    options: {
      transport,
      host,
      port: number(config, 'port', mode === 'server' ? 0 : 1, 65535, true),
      path: present(config.path) ? String(config.path) : MINVR_CONNECTION_DEFAULTS.path,
      maxFrame: number(config, 'maxFrame', 1, 0xffffffff, true),
      frameTimeoutMs: number(config, 'frameTimeout', 0, 3600, false) * 1000,
      maxPartialBytes: number(config, 'maxPartialBytes', 1, Number.MAX_SAFE_INTEGER, true),
      autoReconnect: present(rawAuto) ? rawAuto === true || rawAuto === 'true' : MINVR_CONNECTION_DEFAULTS.autoReconnect,
      reconnectIntervalMs: number(config, 'reconnectInterval', 0, 3600, false) * 1000,
    },
  };
}

/** The data types minvr-out sends, as its `dataType` property and msg.dataType name them; "none" is an event without data. */
export const SENDABLE_TYPES: readonly string[] = Object.freeze(['none', 'Single', 'Int32', 'String', 'Vector2', 'Vector3', 'Vector4', 'Quaternion']);

export type SendableType = Exclude<KnownType, 'GameObject'>;
