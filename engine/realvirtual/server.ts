import { clip, printable } from '../text';
import crypto from 'crypto';
import http from 'http';
import https from 'https';
import { AddressInfo, Socket } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectionError, OptionError, ProtocolError, RealvirtualError } from '../errors';
import { Attempt, AttemptHandle, DEFAULT_RECONNECT, Heartbeat, ReconnectOptions } from '../lifecycle';
import { ConfigOptions, Endpoint, ImportResult } from './endpoint';
import { splitList } from './catalog';
import { checkNumber, checkPort, DEFAULTS, EndpointOptions, normalizePath } from './options';
import { Peer } from './peers';
import { closeSocket, describeSocketError, hostPort, isLoopback } from '../network';
import { socketLink } from './ws-link';

export interface ServerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  passphrase?: string;
}

export interface ServerOptions extends EndpointOptions, ConfigOptions {
  /** Bind address. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 1234; 0 picks a free port. */
  port?: number;
  /** Only upgrades on this path are accepted; "" accepts any path. */
  path?: string;
  /** Serves wss:// with this certificate and key. */
  tls?: ServerTlsOptions;
  /** Ping period for detecting dead clients, in ms; 0 = off. Default 10000. */
  heartbeatMs?: number;
  /**
   * Retries of a listen that failed (a busy port, often an older process still closing):
   * 0 = none, listen() rejects with the ERR_LISTEN at once (default); -1 = until listening;
   * once spent, listen() rejects with ERR_GAVE_UP.
   */
  listenRetries?: number;
  /** First delay before a listen retry, in ms; it doubles per failure (±20 % jitter) up to maxListenRetryIntervalMs. Default 2000. */
  listenRetryIntervalMs?: number;
  /** Longest delay between listen retries, in ms. Default 30000. */
  maxListenRetryIntervalMs?: number;
  /**
   * How long a new client's full state waits for the client's subscribe, in ms, counted
   * from its connection, from its `init` and from our answer to its `import_request`;
   * a subscribe ends the wait with a snapshot of just its signals. 0 = no wait. Default 500.
   */
  subscribeWaitMs?: number;
  /**
   * A shared secret every client must present, either as the last path segment
   * (`ws://host:port/<path>/<secret>`, all realvirtual's client can send) or as an
   * `Authorization: Bearer <secret>` header. Others are refused with HTTP 401 before
   * the upgrade. "" or undefined = no secret.
   */
  secret?: string;
  /**
   * Browser origins allowed to connect (a list or comma-separated), e.g.
   * "https://hmi.example.com"; others are refused with HTTP 403. Empty = any origin.
   * Clients that send no Origin header (realvirtual, PLC bridges) are not affected.
   */
  allowedOrigins?: string | readonly string[];
  /**
   * Most clients at once. At the limit, a new client takes the place of the oldest client
   * that has sent nothing yet; if every client has spoken, it is refused with HTTP 503.
   * 0 = unlimited (default).
   */
  maxClients?: number;
  /**
   * A client that has sent no message (realvirtual sends `init` at once) this long after
   * connecting is closed with code 1008 "no init", in ms. 0 = never. Default 10000.
   */
  initTimeoutMs?: number;
}

/** Why an upgrade is refused: the HTTP answer and the problem reported. */
interface Refusal {
  status: number;
  statusText: string;
  code: 'ERR_UNAUTHORIZED' | 'ERR_FORBIDDEN_ORIGIN' | 'ERR_TOO_MANY_CLIENTS';
  reason: string;
  headers?: Record<string, string>;
}

/** Refusals logged once per kind and remote address; this many are remembered. */
const MAX_REMEMBERED_REFUSALS = 1000;

/** "https://HMI.example.com/" → "https://hmi.example.com": origins compare by scheme, host and port. */
function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

function digest(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

/** Longest subscribeWaitMs: a new client's full state never waits longer than a minute. */
const MAX_SUBSCRIBE_WAIT_MS = 60000;

/**
 * The server role: realvirtual (or any client) connects to us. One cycle sends each
 * subscription group its frame, encoded once; every client's subscribe is answered
 * with a snapshot at once.
 */
export class RealvirtualServer extends Endpoint {
  readonly host: string;
  readonly path: string;
  private readonly requestedPort: number;
  private readonly tls: ServerTlsOptions | undefined;
  private readonly heartbeatMs: number;
  readonly subscribeWaitMs: number;
  private readonly sockets = new Map<Peer, WebSocket>();
  private readonly heartbeats = new Map<Peer, Heartbeat>();
  private httpServer: http.Server | https.Server | null = null;
  private wss: WebSocketServer | null = null;
  private nextPeerNumber = 1;
  /** SHA-256 of the secret: compared in constant time, and the secret itself is not kept. */
  private readonly secretDigest: Buffer | null;
  private readonly allowedOrigins: ReadonlySet<string>;
  readonly maxClients: number;
  readonly initTimeoutMs: number;
  /** Clients that have sent nothing yet, oldest first (the first to make room at maxClients), with their init timers. */
  private readonly silent = new Map<Peer, { address: string; timer: NodeJS.Timeout | null }>();
  private readonly refusalsLogged = new Set<string>();

  constructor(options: ServerOptions = {}) {
    super(options, 'server', listenRetryOptions(options));
    this.host = options.host ?? DEFAULTS.host;
    if (typeof this.host !== 'string' || this.host.trim() === '') throw new OptionError('host must be a bind address such as 127.0.0.1');
    this.requestedPort = checkPort(options.port ?? DEFAULTS.port);
    this.path = normalizePath(options.path);
    this.tls = options.tls;
    this.heartbeatMs = checkNumber('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs, 0);
    this.subscribeWaitMs = checkNumber('subscribeWaitMs', options.subscribeWaitMs ?? DEFAULTS.subscribeWaitMs, 0);
    if (this.subscribeWaitMs > MAX_SUBSCRIBE_WAIT_MS) throw new OptionError(`subscribeWaitMs must be at most ${MAX_SUBSCRIBE_WAIT_MS}, got ${this.subscribeWaitMs}`);
    const secret = options.secret ?? '';
    if (typeof secret !== 'string') throw new OptionError('secret must be a string');
    this.secretDigest = secret === '' ? null : digest(secret);
    this.allowedOrigins = new Set(splitList(options.allowedOrigins).map(normalizeOrigin));
    this.maxClients = checkNumber('maxClients', options.maxClients ?? DEFAULTS.maxClients, 0, true);
    this.initTimeoutMs = checkNumber('initTimeoutMs', options.initTimeoutMs ?? DEFAULTS.initTimeoutMs, 0);
  }

  /** True when clients must present the secret. */
  get requiresSecret(): boolean {
    return this.secretDigest !== null;
  }

  /** The bound port (useful with port 0), or the configured one before listening. */
  get port(): number {
    const address = this.httpServer?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : this.requestedPort;
  }

  get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://${hostPort(this.host, this.port)}${this.path || '/'}`;
  }

  /**
   * Starts listening; a failed listen (a busy port…) is retried as listenRetries allows.
   * Resolves once listening; rejects with the ConnectionError (ERR_LISTEN) that says why, or
   * ERR_GAVE_UP (its cause the last ERR_LISTEN) once the retries are spent. Ignoring the
   * promise is safe.
   */
  listen(): Promise<void> {
    return this.startLifecycle();
  }

  /** One listening attempt: opened once bound; closed (with why) if binding fails, or once the server has stopped. */
  protected attempt(handle: AttemptHandle): Attempt {
    const server = this.createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.settings.maxPayload, perMessageDeflate: false });
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('This is a realvirtual WebSocket endpoint: connect with a WebSocket client.\n');
    });
    server.on('upgrade', (req, socket: Socket, head) => this.upgrade(req, socket, head));
    server.on('clientError', (_error, socket) => socket.destroy());
    wss.on('connection', (socket, req) => this.accept(socket, req));
    let listening = false;
    let stopping = false;
    let failure: RealvirtualError | undefined;
    server.once('listening', () => {
      if (stopping || handle.stale) {
        server.close(() => handle.closed());
        return;
      }
      listening = true;
      this.httpServer = server;
      this.wss = wss;
      handle.opened();
    });
    server.on('error', (error) => {
      if (listening) {
        this.report(describeSocketError('server error', error, 'ERR_LISTEN'));
        return;
      }
      wss.close();
      failure = describeSocketError(`cannot listen on ${this.host}:${this.requestedPort}`, error, 'ERR_LISTEN');
      handle.closed(failure);
    });
    server.on('close', () => {
      if (this.httpServer === server) {
        this.httpServer = null;
        this.wss = null;
      }
      if (listening) handle.closed(failure);
    });
    server.listen(this.requestedPort, this.host);
    // Not yet bound: the bind under way ends in 'listening' (closed at once) or 'error', and either reports closed.
    const stop = (): void => {
      stopping = true;
      if (listening) this.stopServing(server, wss);
    };
    return { abort: stop, end: stop };
  }

  private createServer(): http.Server | https.Server {
    if (!this.tls) return http.createServer();
    try {
      return https.createServer({ ...this.tls });
    } catch (error) {
      throw new ConnectionError('ERR_LISTEN', `cannot listen on ${this.host}:${this.requestedPort}: the TLS certificate or key cannot be used (${(error as Error).message})`, { cause: error });
    }
  }

  protected override onListening(): void {
    this.warnAboutExposure();
  }

  /** Asks every connected client for its catalog; resolves with one result per client that answered in time. */
  async requestImport(): Promise<ImportResult[]> {
    const results = await Promise.allSettled([...this.peers.values()].map((peer) => this.requestImportFrom(peer)));
    return results.filter((r): r is PromiseFulfilledResult<ImportResult> => r.status === 'fulfilled').map((r) => r.value);
  }

  /** Asks one client (by peer id) for its catalog; `timeoutMs` defaults to requestTimeoutMs. */
  requestImportFromPeer(peerId: string, timeoutMs?: number): Promise<ImportResult> {
    const peer = this.peers.get(peerId);
    if (!peer) return Promise.reject(new ConnectionError('ERR_NOT_CONNECTED', `no connected client with id ${JSON.stringify(peerId)}`));
    return this.requestImportFrom(peer, timeoutMs);
  }

  protected override beforeClose(): void {
    super.beforeClose();
    for (const peer of [...this.silent.keys()]) this.stopWaitingFor(peer);
  }

  /** Closes every client (1001) and the listening socket; the server's 'close' follows once all are gone. */
  private stopServing(server: http.Server | https.Server, wss: WebSocketServer): void {
    for (const [peer, socket] of this.sockets) {
      this.heartbeats.get(peer)?.stop();
      closeSocket(socket, 1001, 'server closing', 200);
      this.removePeer(peer, 'server closing');
    }
    this.heartbeats.clear();
    wss.close();
    server.close(() => this.sockets.clear());
    if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
  }

  /** A client that is about to subscribe must see only what it subscribes to: its full state waits (see subscribeWaitMs). */
  protected override onInit(peer: Peer): void {
    this.exchange.holdFullState(peer, this.subscribeWaitMs);
  }

  protected override onImportAnswered(peer: Peer): void {
    this.exchange.holdFullState(peer, this.subscribeWaitMs);
  }

  protected override onSubscribe(peer: Peer, requested: string[]): void {
    const names = this.boundedSubscription(peer, requested);
    const snapshot = this.exchange.subscribe(peer, names);
    this.sendSnapshot(peer, snapshot);
    this.emit('subscribe', peer.info, names);
  }

  /**
   * A subscription holds at most maxSignals names of at most maxNameLength characters:
   * longer names can name no signal, and more names than the table may hold cannot all
   * match. What is left out is reported once per peer, so that a peer cannot park
   * megabytes of names in its subscription.
   */
  private boundedSubscription(peer: Peer, requested: string[]): string[] {
    const { maxNameLength, maxSignals } = this.settings;
    let names = requested.length > maxSignals ? requested.slice(0, maxSignals) : requested;
    if (names.some((name) => name.length > maxNameLength)) names = names.filter((name) => name.length <= maxNameLength);
    const left = requested.length - names.length;
    if (left > 0) {
      this.report(
        new ProtocolError(
          'ERR_INVALID_FIELD',
          `"subscribe" message from ${clip(peer.name, 100)}: ${left} of ${requested.length} names left out (more than maxSignals (${maxSignals}) names, or longer than maxNameLength (${maxNameLength}) characters)`,
        ),
        peer,
        'subscribe:bounded',
      );
    }
    return names;
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closed || !this.wss) {
      socket.destroy();
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0];
    const route = this.route(pathname);
    if (!route.matches) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    const refusal = this.refusalFor(req, route.segment);
    if (refusal) {
      this.refuse(req, socket, refusal);
      return;
    }
    if (this.full) this.makeRoom(req.socket.remoteAddress ?? 'unknown');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss?.emit('connection', ws, req));
  }

  /**
   * Whether a request path is ours: the configured path (any path when it is ""), or,
   * with a secret, the configured path plus one last segment that may be the secret.
   */
  private route(pathname: string): { matches: boolean; segment?: string } {
    if (this.path === '') {
      if (!this.secretDigest) return { matches: true };
      const last = pathname.slice(pathname.lastIndexOf('/') + 1);
      return { matches: true, segment: last === '' ? undefined : last };
    }
    if (pathname === this.path) return { matches: true };
    if (this.secretDigest) {
      const base = this.path.endsWith('/') ? this.path : `${this.path}/`;
      const rest = pathname.startsWith(base) ? pathname.slice(base.length) : '';
      if (rest !== '' && !rest.includes('/')) return { matches: true, segment: rest };
    }
    return { matches: false };
  }

  /** True when maxClients clients are connected. */
  private get full(): boolean {
    return this.maxClients > 0 && this.sockets.size >= this.maxClients;
  }

  /** The checks before an upgrade, in this order: secret (401), browser origin (403), client count (503; a place held by a silent client is freed instead). */
  private refusalFor(req: http.IncomingMessage, segment: string | undefined): Refusal | null {
    if (this.secretDigest && !this.presentsSecret(req, segment)) {
      return {
        status: 401,
        statusText: 'Unauthorized',
        code: 'ERR_UNAUTHORIZED',
        reason: 'wrong or missing secret',
        headers: { 'WWW-Authenticate': 'Bearer realm="realvirtual"' },
      };
    }
    if (this.allowedOrigins.size > 0) {
      const origin = req.headers.origin ?? req.headers['sec-websocket-origin'];
      const value = Array.isArray(origin) ? origin[0] : origin;
      if (value !== undefined && !this.allowedOrigins.has(normalizeOrigin(value))) {
        return { status: 403, statusText: 'Forbidden', code: 'ERR_FORBIDDEN_ORIGIN', reason: `origin ${JSON.stringify(value.slice(0, 100))} is not in allowedOrigins` };
      }
    }
    if (this.full && this.silent.size === 0) {
      return {
        status: 503,
        statusText: 'Service Unavailable',
        code: 'ERR_TOO_MANY_CLIENTS',
        reason: `maxClients (${this.maxClients}) clients are connected, and all of them have sent messages`,
        headers: { 'Retry-After': '5' },
      };
    }
    return null;
  }

  /** True when the Bearer header or the path segment carries the secret (compared in constant time). */
  private presentsSecret(req: http.IncomingMessage, segment: string | undefined): boolean {
    const expected = this.secretDigest as Buffer;
    const candidates: string[] = [];
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' ? /^Bearer[ \t]+(.+)$/i.exec(header.trim()) : null;
    if (bearer) candidates.push(bearer[1]);
    if (segment !== undefined) {
      try {
        candidates.push(decodeURIComponent(segment));
      } catch {
        candidates.push(segment);
      }
    }
    let matched = false;
    for (const candidate of candidates) if (crypto.timingSafeEqual(digest(candidate), expected)) matched = true;
    return matched;
  }

  /** Answers a refused upgrade with its HTTP status; reports it, logging once per kind and remote address. */
  private refuse(req: http.IncomingMessage, socket: Socket, refusal: Refusal): void {
    rejectUpgrade(socket, refusal.status, refusal.statusText, refusal.headers, `${refusal.reason}\n`);
    const address = req.socket.remoteAddress ?? 'unknown';
    this.reportOncePerAddress(new ConnectionError(refusal.code, `refused a connection from ${address}: ${refusal.reason} (HTTP ${refusal.status})`), address);
  }

  /** Reports a problem an address causes, logging it once per kind and address so that a flood of connections cannot flood the log. */
  private reportOncePerAddress(error: ConnectionError, address: string): void {
    const key = `${error.code}:${address}`;
    if (this.refusalsLogged.has(key)) {
      if (this.listenerCount('problem') > 0) this.emit('problem', error, undefined);
      return;
    }
    if (this.refusalsLogged.size < MAX_REMEMBERED_REFUSALS) this.refusalsLogged.add(key);
    this.report(error);
  }

  /** Starts waiting for a new client's first message; it is closed if none arrives within initTimeoutMs. */
  private awaitFirstMessage(peer: Peer, address: string): void {
    const timer = this.initTimeoutMs > 0 ? setTimeout(() => this.closeSilent(peer, `sent nothing within ${this.initTimeoutMs / 1000} s of connecting (initTimeout)`), this.initTimeoutMs) : null;
    this.silent.set(peer, { address, timer });
  }

  /** The client spoke (or left, or the server closes): it no longer counts as silent. */
  private stopWaitingFor(peer: Peer): void {
    const waiting = this.silent.get(peer);
    if (!waiting) return;
    if (waiting.timer) clearTimeout(waiting.timer);
    this.silent.delete(peer);
  }

  /** At maxClients: the oldest client that has sent nothing yet gives its place to a newcomer. */
  private makeRoom(newcomer: string): void {
    const oldest = this.silent.keys().next();
    if (oldest.done) return;
    this.closeSilent(oldest.value, `had sent nothing when ${newcomer} connected at maxClients (${this.maxClients}): closed to make room`);
  }

  /** Closes a client that never spoke with 1008 "no init"; its place is free at once. */
  private closeSilent(peer: Peer, why: string): void {
    const address = this.silent.get(peer)?.address ?? 'unknown';
    this.stopWaitingFor(peer);
    const socket = this.sockets.get(peer);
    if (!socket) return;
    this.sockets.delete(peer);
    this.reportOncePerAddress(new ConnectionError('ERR_NO_INIT', `client ${peer.name} ${why} (close code 1008)`), address);
    closeSocket(socket, 1008, 'no init', 200);
    this.removePeer(peer, `no init: ${why}`);
  }

  /** One warning when listening where others can reach the server without a secret, or with a secret in clear text. */
  private warnAboutExposure(): void {
    if (isLoopback(this.host)) return;
    if (!this.secretDigest) {
      this.logger.warn(`listening on ${this.host}, reachable from other machines, without a secret: anyone who can reach port ${this.port} can read and write the signals (set a secret, and TLS)`);
    } else if (!this.tls) {
      this.logger.warn(`listening on ${this.host} with a secret but without TLS: the secret and the signals travel in clear text (use a tls-config, or a TLS proxy in front)`);
    }
  }

  private accept(socket: WebSocket, req: http.IncomingMessage): void {
    const address = req.socket.remoteAddress ?? 'unknown';
    const peer = new Peer(`client-${this.nextPeerNumber++}`, `${address}:${req.socket.remotePort ?? 0}`, socketLink(socket), this.settings.clock);
    peer.quietUntil = this.subscribeWaitMs > 0 ? this.settings.clock.now() + this.subscribeWaitMs : 0;
    const heartbeat = new Heartbeat(
      this.heartbeatMs,
      () => {
        if (socket.readyState === WebSocket.OPEN) socket.ping();
      },
      () => {
        this.report(new ConnectionError('ERR_HEARTBEAT_TIMEOUT', `client ${peer.name} answered no ping for ${this.heartbeatMs} ms: connection dropped`), peer);
        socket.terminate();
      },
      this.settings.clock,
    );
    this.sockets.set(peer, socket);
    this.heartbeats.set(peer, heartbeat);
    this.awaitFirstMessage(peer, address);
    socket.on('message', (data, isBinary) => {
      if (!this.sockets.has(peer)) return; // closed for silence, still in its close handshake
      heartbeat.alive();
      this.stopWaitingFor(peer);
      this.handleFrame(peer, data as Buffer, isBinary);
    });
    socket.on('pong', () => heartbeat.alive());
    socket.on('error', (error) => this.report(describeSocketError(`connection to ${peer.name}`, error, 'ERR_CONNECTION', this.settings), peer));
    socket.on('close', (code, reason) => {
      heartbeat.stop();
      if (this.heartbeats.get(peer) === heartbeat) this.heartbeats.delete(peer);
      this.stopWaitingFor(peer);
      this.sockets.delete(peer);
      const why = `code ${code}${reason.length > 0 ? `: ${printable(reason.toString(), 200)}` : ''}`;
      this.removePeer(peer, why);
      if (!this.closed) this.setStatus({ state: 'listening' });
    });
    this.addPeer(peer);
    heartbeat.start();
  }
}

/** The lifecycle's retry options from the server's listen retry options: listenRetries 0 tries once. */
function listenRetryOptions(options: ServerOptions): ReconnectOptions {
  const retries = options.listenRetries ?? DEFAULTS.listenRetries;
  if (!Number.isInteger(retries) || retries < -1) throw new OptionError(`listenRetries must be -1 (until listening) or a whole number >= 0, got ${retries}`);
  const intervalMs = checkNumber('listenRetryIntervalMs', options.listenRetryIntervalMs ?? DEFAULTS.listenRetryIntervalMs, 1);
  const maxIntervalMs = checkNumber('maxListenRetryIntervalMs', options.maxListenRetryIntervalMs ?? DEFAULTS.maxListenRetryIntervalMs, 1);
  return { autoReconnect: true, intervalMs, maxIntervalMs: Math.max(maxIntervalMs, intervalMs), maxAttempts: retries, jitter: DEFAULT_RECONNECT.jitter };
}

function rejectUpgrade(socket: Socket, status: number, text: string, headers: Record<string, string> = {}, body = ''): void {
  const lines = [`HTTP/1.1 ${status} ${text}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const name of Object.keys(headers)) lines.push(`${name}: ${headers[name]}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}
