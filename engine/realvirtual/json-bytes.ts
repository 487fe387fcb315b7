/** The bytes of the JSON that the shape reader reads and the frame encoder writes. */

/** How a compact `data` frame, as realvirtual sends it, starts: up to its first signal. */
export const DATA_HEAD = Buffer.from('{"type":"data","signals":{');
export const TRUE = Buffer.from('true');
export const FALSE = Buffer.from('false');
