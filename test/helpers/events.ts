/**
 * Small helpers for socket tests: bounded waits on events, raw `ws` peers that
 * record every frame they receive, and closing everything a test started.
 */
import { EventEmitter } from 'events';
import http from 'http';
import crypto from 'crypto';
import net, { AddressInfo } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Endpoint, EndpointEvents } from '../../engine';

/** Default bound of every wait, in ms. */
export const WAIT_MS = 3000;

type Predicate = (...args: any[]) => unknown;

/**
 * Resolves with the arguments of the next `name` event (that passes `predicate`),
 * or rejects after `timeoutMs` with a message that names the event. Create the
 * promise before the action that triggers the event. On an engine endpoint the
 * event names and arguments are typed.
 */
export function nextEvent<E extends keyof EndpointEvents>(
  emitter: Endpoint,
  name: E,
  predicate?: (...args: Parameters<EndpointEvents[E]>) => boolean,
  timeoutMs?: number,
): Promise<Parameters<EndpointEvents[E]>>;
export function nextEvent(emitter: EventEmitter, name: string, predicate?: Predicate, timeoutMs?: number): Promise<any[]>;
export function nextEvent(emitter: EventEmitter, name: string, predicate?: Predicate, timeoutMs = WAIT_MS): Promise<any[]> {
  const promise = collectEvents(emitter, name, 1, predicate, timeoutMs).then((seen) => seen[0]);
  // Marked handled so that a wait abandoned by a failing test is not an unhandled rejection.
  promise.catch(() => undefined);
  return promise;
}

/** Collects the next `count` events `name` (each passing `predicate`). */
export function collectEvents<E extends keyof EndpointEvents>(
  emitter: Endpoint,
  name: E,
  count: number,
  predicate?: (...args: Parameters<EndpointEvents[E]>) => boolean,
  timeoutMs?: number,
): Promise<Array<Parameters<EndpointEvents[E]>>>;
export function collectEvents(emitter: EventEmitter, name: string, count: number, predicate?: Predicate, timeoutMs?: number): Promise<any[][]>;
export function collectEvents(emitter: EventEmitter, name: string, count: number, predicate?: Predicate, timeoutMs = WAIT_MS): Promise<any[][]> {
  const seen: any[][] = [];
  const promise = new Promise<any[][]>((resolve, reject) => {
    const listener = (...args: any[]): void => {
      let pass: boolean;
      try {
        pass = predicate ? Boolean(predicate(...args)) : true;
      } catch (error) {
        cleanup();
        reject(error);
        return;
      }
      if (!pass) return;
      seen.push(args);
      if (seen.length < count) return;
      cleanup();
      resolve(seen);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} "${name}" events (got ${seen.length})`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.removeListener(name, listener);
    };
    emitter.on(name, listener);
  });
  promise.catch(() => undefined);
  return promise;
}

/** The bounded waits of the tests, with `defaultMs` as the bound when a call gives none. */
export function waits(defaultMs: number): {
  /** Rejects naming `what` if `promise` has not settled within `timeoutMs`. */
  within<T>(promise: Promise<T>, what: string, timeoutMs?: number): Promise<T>;
  /** Polls `condition` every few ms until it returns something other than undefined or false, and resolves with that; rejects naming `what` after `timeoutMs`. */
  until<T>(condition: () => T | undefined | false, what: string | (() => string), timeoutMs?: number): Promise<T>;
} {
  return {
    within<T>(promise: Promise<T>, what: string, timeoutMs = defaultMs): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      });
      return Promise.race([promise, late]).finally(() => clearTimeout(timer));
    },
    async until<T>(condition: () => T | undefined | false, what: string | (() => string), timeoutMs = defaultMs): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = condition();
        if (value !== undefined && value !== false) return value as T;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
        await delay(5);
      }
    },
  };
}

export const { within, until } = waits(WAIT_MS);

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Expects `promise` to reject; resolves with the error. */
export async function rejectionOf(promise: Promise<unknown>, what = 'the promise'): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error(`${what} resolved, but a rejection was expected`);
}

/** A frame as received: `type` and the rest of the JSON object. Non-JSON frames have type "<raw>". */
export interface Frame {
  type: string;
  signals?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Wraps a `ws` socket: records every frame it receives (parsed) and waits for frames. */
export class FrameLog extends EventEmitter {
  readonly frames: Frame[] = [];
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data, isBinary) => {
      const text = (data as Buffer).toString('utf8');
      let frame: Frame;
      try {
        const parsed = JSON.parse(text) as unknown;
        frame = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Frame) : { type: '<raw>', text, isBinary };
      } catch {
        frame = { type: '<raw>', text, isBinary };
      }
      this.frames.push(frame);
      this.emit('frame', frame);
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The number of frames so far: pass it as `from` to wait only for later frames. */
  mark(): number {
    return this.frames.length;
  }

  /** Frames of one type, from index `from` on. */
  ofType(type: string, from = 0): Frame[] {
    return this.frames.slice(from).filter((frame) => frame.type === type);
  }

  /** The first frame (at index >= `from`) that passes `predicate`, waiting for it if needed. */
  waitFor(predicate: (frame: Frame) => boolean, what = 'a matching frame', timeoutMs = WAIT_MS, from = 0): Promise<Frame> {
    for (let i = from; i < this.frames.length; i++) if (predicate(this.frames[i])) return Promise.resolve(this.frames[i]);
    const promise = nextEvent(this, 'frame', (frame: Frame) => predicate(frame), timeoutMs).then(
      ([frame]) => frame as Frame,
      (error: Error) => {
        throw new Error(`${error.message}: ${what}; received: ${describeFrames(this.frames.slice(from))}`);
      },
    );
    promise.catch(() => undefined);
    return promise;
  }

  /** Waits until `count` frames of `type` were received (from index `from`). */
  async waitForCount(type: string, count: number, timeoutMs = WAIT_MS, from = 0): Promise<Frame[]> {
    await until(
      () => this.ofType(type, from).length >= count,
      () => `${count} "${type}" frame(s) arrived (got ${this.ofType(type, from).length})`,
      timeoutMs,
    );
    return this.ofType(type, from);
  }

  send(message: object | string | Buffer): void {
    this.ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.terminate();
    return this.closed.then(() => undefined);
  }
}

function describeFrames(frames: Frame[]): string {
  const text = frames.map((frame) => JSON.stringify(frame)).join(' ');
  return text.length > 600 ? `${text.slice(0, 600)}…` : text || '(nothing)';
}

/** A raw WebSocket client that records what it receives. */
export class RawClient extends FrameLog {
  /** Opens a connection; rejects with a clear message if it does not open within `timeoutMs`. */
  static async connect(url: string, options: WebSocket.ClientOptions = {}, timeoutMs = WAIT_MS): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new RawClient(ws);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      `opening ${url}`,
      timeoutMs,
    );
    return client;
  }

  /** Sends `init` with this name. */
  init(name: string): void {
    this.send({ type: 'init', version: 2, name });
  }
}

/** A raw `ws` WebSocketServer on 127.0.0.1 that records every connection's frames. */
export class RawServer extends EventEmitter {
  readonly connections: FrameLog[] = [];
  /** Upgrade request paths, in order. */
  readonly paths: string[] = [];

  private constructor(
    readonly wss: WebSocketServer,
    private readonly http: http.Server,
  ) {
    super();
    wss.on('connection', (ws, req) => {
      const log = new FrameLog(ws);
      this.paths.push(req.url ?? '');
      this.connections.push(log);
      this.emit('connection', log);
    });
  }

  /** Listens on `port` (0 = a free one). */
  static async start(port = 0, options: WebSocket.ServerOptions = {}): Promise<RawServer> {
    const server = http.createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, ...options });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    return new RawServer(wss, server);
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Resolves with connection number `index` (0-based) once it exists. */
  async connection(index: number, timeoutMs = WAIT_MS): Promise<FrameLog> {
    if (this.connections.length > index) return this.connections[index];
    await nextEvent(this, 'connection', () => this.connections.length > index, timeoutMs).catch(() => {
      throw new Error(`timed out after ${timeoutMs} ms waiting for connection #${index + 1} to the raw server (got ${this.connections.length})`);
    });
    return this.connections[index];
  }

  /** Drops every connection at once and stops listening. */
  close(): Promise<void> {
    for (const connection of this.connections) connection.ws.terminate();
    return new Promise((resolve) => {
      this.wss.close();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}

/** Anything a test starts and must stop. */
export interface Closable {
  close(): unknown;
}

/** Closes everything given, in parallel; undefined and null are skipped. */
export async function closeAll(...things: Array<Closable | undefined | null>): Promise<void> {
  await Promise.all(things.map((thing) => (thing ? Promise.resolve(thing.close()) : undefined)));
}

/** Remembers what a test started, so that afterEach can close it all. */
export class Resources {
  private readonly items: Closable[] = [];

  add<T extends Closable>(thing: T): T {
    this.items.push(thing);
    return thing;
  }

  async closeAll(): Promise<void> {
    const items = this.items.splice(0);
    await within(closeAll(...items), `closing ${items.length} server(s)/client(s)`, 5000);
  }
}

/** A TCP port that was free a moment ago (nothing listens on it now). */
export async function freePort(): Promise<number> {
  // Below Linux's ephemeral range (32768–60999): a test that stops a server and listens on its
  // port again could otherwise find it taken by the local end of some outgoing connection.
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

/** Listens on 127.0.0.1:port (0: any) and closes again; resolves with the port. */
async function listenOnce(port: number): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

/** The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455). */
function acceptValue(key: string): string {
  return crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * A TCP server on 127.0.0.1 that plays a WebSocket server by hand. With `upgrade` (the
 * default) it completes each opening handshake and then runs `script(socket, index)` for
 * connection number `index` (0-based): it can send frames, cut a frame in half, reset the
 * connection, or ignore everything. Without, the script gets the bare TCP connection.
 */
export class ScriptedServer extends EventEmitter {
  /** Connections accepted so far. */
  connections = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {
    super();
  }

  static async start(script: (socket: net.Socket, index: number) => void, options: { upgrade?: boolean; port?: number } = {}): Promise<ScriptedServer> {
    const server = net.createServer();
    const scripted = new ScriptedServer(server);
    server.on('connection', (socket) => {
      const index = scripted.connections++;
      scripted.sockets.add(socket);
      socket.on('close', () => scripted.sockets.delete(socket));
      socket.on('error', () => undefined);
      scripted.emit('connection', socket);
      if (options.upgrade === false) {
        script(socket, index);
        return;
      }
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.removeListener('data', onData);
        const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptValue(key)}\r\n\r\n`);
        socket.resume(); // whatever the script does not read is read and ignored
        scripted.emit('upgraded', socket, index);
        script(socket, index);
      };
      socket.on('data', onData);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return scripted;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Peers that misbehave below the WebSocket layer: 'upgrade' completes the opening
 * handshake and then ignores everything (no pongs, no close handshake); 'hang' accepts
 * TCP and never answers; 'reset' destroys every connection at once.
 */
export const SilentServer = {
  start(mode: 'upgrade' | 'hang' | 'reset', port = 0): Promise<ScriptedServer> {
    const script = mode === 'reset' ? (socket: net.Socket) => socket.destroy() : () => undefined;
    return ScriptedServer.start(script, { upgrade: mode === 'upgrade', port });
  },
};

/**
 * Opens a WebSocket connection by hand on a raw TCP socket (for frames `ws` would refuse to
 * send, or to play a peer that ignores everything). Resolves with the socket once the
 * server sent 101; rejects with the status line when it refused the upgrade.
 */
export function rawWebSocket(port: number, path = '/', headers: Record<string, string> = {}, timeoutMs = WAIT_MS): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const key = crypto.randomBytes(16).toString('base64');
  const opened = new Promise<net.Socket>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('connect', () => {
      const extra = Object.keys(headers)
        .map((name) => `${name}: ${headers[name]}\r\n`)
        .join('');
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
  });
  return within(opened, `opening a WebSocket by hand on port ${port}${path}`, timeoutMs).catch((error) => {
    socket.destroy();
    throw error;
  });
}

/** A WebSocket client that ignores everything once open: it answers no ping and no close frame. */
export async function silentClient(port: number, path = '/', timeoutMs = WAIT_MS): Promise<net.Socket> {
  const socket = await rawWebSocket(port, path, {}, timeoutMs);
  socket.resume();
  return socket;
}

/** True when something accepts TCP connections on 127.0.0.1:port right now. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
