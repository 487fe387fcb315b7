import { DEFAULTS, OptionError } from '../../engine';

/**
 * The `realvirtual-import` properties and their defaults: a public contract that flows
 * depend on. `timeout`: seconds each peer has to answer an import_request.
 */
export const IMPORT_DEFAULTS = {
  timeout: DEFAULTS.requestTimeoutMs / 1000,
};

/** The longest timer Node.js keeps (longer ones fire at once), in seconds. */
export const MAX_IMPORT_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

/** The import node's `timeout` in ms; absent or "" (flows saved before it existed) is the default. */
export function readImportTimeoutMs(raw: unknown): number {
  const seconds = raw === undefined || raw === null || raw === '' ? IMPORT_DEFAULTS.timeout : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_IMPORT_TIMEOUT_S) {
    throw new OptionError(`timeout must be a number of seconds above 0 and at most ${MAX_IMPORT_TIMEOUT_S}, got ${JSON.stringify(raw)}`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}
