/**
 * What a configuration (the object answered to `config_get`, changed by `config_set`)
 * and a cycle period may be: the bounds that keep one peer from bloating, silencing or
 * freezing a connection for everyone.
 */
import { ConfigError, OptionError } from '../errors';
import { configProblem, ConfigObject } from './messages';

/** Most top-level keys a configuration may hold. */
export const MAX_CONFIG_KEYS = 256;

/**
 * Longest cycle (and `publishIntervalMs`), in ms. The cycle is the latency of every value:
 * a minute is far beyond any simulation's use, and a longer one would silence the
 * connection for every peer (past 2^31 - 1 ms Node.js even runs the timer after 1 ms).
 */
export const MAX_CYCLE_MS = 60000;

/** Shortest cycle other than 0 (0 sends each write at once): timers do not run more often. */
export const MIN_CYCLE_MS = 1;

/** What a remote peer may do with the configuration. */
export type RemoteConfigMode = 'read-write' | 'read-only' | 'off';
export const REMOTE_CONFIG_MODES: readonly RemoteConfigMode[] = ['read-write', 'read-only', 'off'];

export function isRemoteConfigMode(value: unknown): value is RemoteConfigMode {
  return typeof value === 'string' && (REMOTE_CONFIG_MODES as readonly string[]).includes(value);
}

/** The config_result message of a config_set that `mode` does not allow (undefined when it does). */
export function remoteConfigRefusal(mode: RemoteConfigMode): string | undefined {
  if (mode === 'read-only') return 'remote configuration is read-only on this connection';
  if (mode === 'off') return 'remote configuration is off on this connection';
  return undefined;
}

export function isValidCycleMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (value === 0 || (value >= MIN_CYCLE_MS && value <= MAX_CYCLE_MS));
}

const CYCLE_RANGE = `0 (send each write at once) or a number of ms from ${MIN_CYCLE_MS} to ${MAX_CYCLE_MS}`;

/** Throws an OptionError naming `name` unless `value` is a valid cycle period. */
export function checkCycleMs(name: string, value: unknown): number {
  if (!isValidCycleMs(value)) throw new OptionError(`${name} must be ${CYCLE_RANGE}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Throws unless `config` may be kept and answered: JSON data (see configProblem), at most
 * MAX_CONFIG_KEYS top-level keys and `maxBytes` bytes of JSON, a valid publishIntervalMs.
 */
export function checkConfig(config: ConfigObject, maxBytes: number): void {
  const problem = configProblem(config);
  if (problem) throw new OptionError(`a configuration must be ${problem}`);
  if (Object.prototype.hasOwnProperty.call(config, 'publishIntervalMs')) checkCycleMs('publishIntervalMs', config.publishIntervalMs);
  const keys = Object.keys(config).length;
  if (keys > MAX_CONFIG_KEYS) {
    throw new ConfigError('ERR_CONFIG_TOO_LARGE', `the configuration would have ${keys} keys, more than the limit of ${MAX_CONFIG_KEYS}: nothing was changed`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(config));
  if (bytes > maxBytes) {
    throw new ConfigError('ERR_CONFIG_TOO_LARGE', `the configuration would be ${bytes} bytes of JSON, more than maxConfigBytes (${maxBytes}): nothing was changed`);
  }
}
