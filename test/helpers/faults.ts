/**
 * Fault injection on 127.0.0.1: WebSocket frames built by hand (also broken ones), TCP
 * peers that complete the upgrade and then follow a script (die mid-frame, reset),
 * upgrade requests that report the HTTP answer, DNS stand-ins that never touch the
 * network, a seeded PRNG, and measurements of handles and heap.
 */
import crypto from 'crypto';
import http from 'http';
import net, { LookupFunction } from 'net';
import v8 from 'v8';
import vm from 'vm';
import type { Logger } from '../../engine';
import { within, WAIT_MS } from './events';
export { rawWebSocket, ScriptedServer } from './events';

/** One WebSocket frame (RFC 6455 §5.2). Clients must mask; `mask: false` builds the server's frames. */
export function wsFrame(opcode: number, payload: Buffer | string, options: { fin?: boolean; mask?: boolean; rsv1?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const { fin = true, mask = false, rsv1 = false } = options;
  const length = data.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  head[1] = (mask ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) head.writeUInt16BE(length, 2);
  if (extended === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, data]);
  const key = crypto.randomBytes(4);
  key.copy(head, 2 + extended);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([head, masked]);
}

/** The answer to an upgrade request: 101 when the server accepted (the socket is then closed at once). */
export interface UpgradeAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends one WebSocket upgrade request and reports the HTTP answer, without speaking WebSocket afterwards. */
export function upgradeAnswer(port: number, path = '/', headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const answer = new Promise<UpgradeAnswer>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return within(answer, `an answer to an upgrade request on port ${port}${path}`);
}

/** Kills a TCP connection the hard way: RST, so the other side sees ECONNRESET. */
export function reset(socket: net.Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/**
 * A `lookup` (as net.connect takes) that answers from `answer(host)` and never asks a
 * resolver: an Error with a code such as ENOTFOUND, or an IPv4 address.
 */
export function stubLookup(answer: (host: string) => string | NodeJS.ErrnoException): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const lookup = ((host: string, options: unknown, callback?: unknown) => {
    const done = (typeof options === 'function' ? options : callback) as (error: Error | null, address?: unknown, family?: number) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    calls.push(host);
    const result = answer(host);
    process.nextTick(() => {
      if (typeof result !== 'string') done(result);
      else if (all) done(null, [{ address: result, family: 4 }]);
      else done(null, result, 4);
    });
  }) as LookupFunction & { calls: string[] };
  lookup.calls = calls;
  return lookup;
}

/** The error dns.lookup gives for a name that does not exist. */
export function notFound(host: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });
}

/** Seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Logger that keeps every line, by level. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: 'debug' | 'info' | 'warn' | 'error'; text: string }> = [];
  debug(text: string): void {
    this.lines.push({ level: 'debug', text });
  }
  info(text: string): void {
    this.lines.push({ level: 'info', text });
  }
  warn(text: string): void {
    this.lines.push({ level: 'warn', text });
  }
  error(text: string): void {
    this.lines.push({ level: 'error', text });
  }
  /** Lines at warn level or above (what an operator sees). */
  get visible(): string[] {
    return this.lines.filter((line) => line.level === 'warn' || line.level === 'error').map((line) => line.text);
  }
}

/** Records uncaught exceptions and unhandled rejections from now until stop(). */
export function catchUncaught(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.removeListener('uncaughtException', onError);
      process.removeListener('unhandledRejection', onError);
    },
  };
}

/** Open handles by kind (TCPSocketWrap, TCPServerWrap, Timeout…), as Node reports them. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

let collect: (() => void) | null = null;

/** Runs a full garbage collection; works without node flags (--expose-gc is set at run time). */
export function gc(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

/** Heap in use after full collections, in bytes. */
export async function heapAfterGc(): Promise<number> {
  return (await heapSpacesAfterGc()).total;
}

/**
 * Heap in use after full collections, in bytes: in total, and without V8's code space
 * (compiled code grows as the JIT optimizes more functions: that is no leak).
 */
export async function heapSpacesAfterGc(): Promise<{ total: number; data: number; code: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const code = v8
    .getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  const total = process.memoryUsage().heapUsed;
  return { total, data: total - code, code };
}

export { WAIT_MS };
