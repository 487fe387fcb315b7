/**
 * Signal names are arbitrary strings, "__proto__" and "constructor" included.
 * Records of signals are ordinary objects (users and JSON.stringify expect that),
 * so "__proto__" must be defined as an own property rather than assigned, which
 * would replace the object's prototype instead.
 */
export function setOwn<T>(record: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') {
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[name] = value;
  }
}

export function hasOwn(record: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, name);
}

/**
 * True for `{...}` and Object.create(null) objects, also those of another realm (a
 * Node-RED Function node builds its objects in a vm context, with its own Object.prototype).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return true;
  return Object.getPrototypeOf(prototype) === null && Object.prototype.toString.call(value) === '[object Object]';
}
