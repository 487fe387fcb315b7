/** Checks of numeric options shared by every protocol; they throw an OptionError that names the option. */
import { OptionError } from './errors';

export function checkNumber(name: string, value: number, min: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new OptionError(`${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionError(`port must be a whole number from 0 to 65535, got ${JSON.stringify(port)}`);
  return port;
}
