import { OptionError } from '../../engine';

/** A node property the user set: flows saved by earlier versions lack the properties added since, and empty fields mean the default. */
export function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * A number property, or `fallback` when it is not present; throws an OptionError naming the
 * property unless it is finite, from `min` to `max` and (with `integer`) whole.
 */
export function numberProperty(raw: unknown, key: string, fallback: number, range: { min: number; max?: number; integer: boolean }): number {
  const { min, max = Infinity, integer } = range;
  const value = present(raw) ? Number(raw) : fallback;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const bounds = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new OptionError(`${key} must be ${integer ? 'a whole number' : 'a number'} ${bounds}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
