import http from 'http';
import https from 'https';
import { AddressInfo, Socket } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectionError, OptionError } from '../errors';
import { ConfigOptions, Endpoint, ImportResult } from './endpoint';
import { checkNumber, checkPort, DEFAULTS, EndpointOptions, normalizePath } from './options';
import { Peer } from './session';
import { closeSocket, describeSocketError, socketLink } from './socket';

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
}

/** How long a silent new client waits for its full state (a client that speaks gets it at once). */
const QUIET_NEW_CLIENT_MS = 500;

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
  private readonly sockets = new Map<Peer, WebSocket>();
  private readonly alive = new WeakSet<WebSocket>();
  private httpServer: http.Server | https.Server | null = null;
  private wss: WebSocketServer | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private nextPeerNumber = 1;
  private closing: Promise<void> | null = null;
  private listening: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    super(options);
    this.host = options.host ?? DEFAULTS.host;
    if (typeof this.host !== 'string' || this.host.trim() === '') throw new OptionError('host must be a bind address such as 127.0.0.1');
    this.requestedPort = checkPort(options.port ?? DEFAULTS.port);
    this.path = normalizePath(options.path);
    this.tls = options.tls;
    this.heartbeatMs = checkNumber('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs, 0);
  }

  /** The bound port (useful with port 0), or the configured one before listening. */
  get port(): number {
    const address = this.httpServer?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : this.requestedPort;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.tls ? 'wss' : 'ws'}://${host}:${this.port}${this.path || '/'}`;
  }

  /** Starts listening. Rejects with a ConnectionError (code ERR_LISTEN) that says why. */
  listen(): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('ERR_CLOSED', 'this server was closed: create a new one'));
    if (!this.listening) {
      this.listening = this.bind();
      this.listening.catch(() => {
        this.listening = null;
      });
    }
    return this.listening;
  }

  private bind(): Promise<void> {
    const server = this.tls ? https.createServer({ ...this.tls }) : http.createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.settings.maxPayload, perMessageDeflate: false });
    this.httpServer = server;
    this.wss = wss;
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('This is a realvirtual WebSocket endpoint: connect with a WebSocket client.\n');
    });
    server.on('upgrade', (req, socket: Socket, head) => this.upgrade(req, socket, head));
    server.on('clientError', (_error, socket) => socket.destroy());
    wss.on('connection', (socket, req) => this.accept(socket, req));
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        server.removeListener('listening', onListening);
        this.httpServer = null;
        this.wss = null;
        wss.close();
        const failure = describeSocketError(`cannot listen on ${this.host}:${this.requestedPort}`, error, 'ERR_LISTEN');
        this.setStatus({ state: 'failed', error: failure });
        reject(failure);
      };
      const onListening = (): void => {
        server.removeListener('error', onError);
        server.on('error', (error) => this.report(describeSocketError('server error', error, 'ERR_LISTEN')));
        this.startHeartbeat();
        this.logger.info(`listening on ${this.url}`);
        this.setStatus({ state: 'listening' });
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(this.requestedPort, this.host);
    });
  }

  /** Asks every connected client for its catalog; resolves with one result per client that answered in time. */
  async requestImport(): Promise<ImportResult[]> {
    const results = await Promise.allSettled([...this.peers.values()].map((peer) => this.requestImportFrom(peer)));
    return results.filter((r): r is PromiseFulfilledResult<ImportResult> => r.status === 'fulfilled').map((r) => r.value);
  }

  /** Asks one client (by peer id) for its catalog. */
  requestImportFromPeer(peerId: string): Promise<ImportResult> {
    const peer = this.peers.get(peerId);
    if (!peer) return Promise.reject(new ConnectionError('ERR_NOT_CONNECTED', `no connected client with id ${JSON.stringify(peerId)}`));
    return this.requestImportFrom(peer);
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.exchange.close();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const server = this.httpServer;
    const wss = this.wss;
    this.closing = new Promise<void>((resolve) => {
      for (const [peer, socket] of this.sockets) {
        closeSocket(socket, 1001, 'server closing', 200);
        this.removePeer(peer, 'server closing');
      }
      if (!server) {
        resolve();
        return;
      }
      wss?.close();
      server.close(() => resolve());
      if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
    }).then(() => {
      this.sockets.clear();
      this.setStatus({ state: 'closed', clients: 0 });
    });
    return this.closing;
  }

  protected override onSubscribe(peer: Peer, names: string[]): void {
    const snapshot = this.exchange.subscribe(peer, names);
    this.sendSnapshot(peer, snapshot);
    this.emit('subscribe', peer.info, names);
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closed || !this.wss) {
      socket.destroy();
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0];
    if (this.path !== '' && pathname !== this.path) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss?.emit('connection', ws, req));
  }

  private accept(socket: WebSocket, req: http.IncomingMessage): void {
    const address = req.socket.remoteAddress ?? 'unknown';
    const peer = new Peer(`client-${this.nextPeerNumber++}`, `${address}:${req.socket.remotePort ?? 0}`, socketLink(socket));
    peer.quietUntil = Date.now() + QUIET_NEW_CLIENT_MS;
    this.sockets.set(peer, socket);
    this.alive.add(socket);
    socket.on('message', (data, isBinary) => {
      this.alive.add(socket);
      this.handleFrame(peer, data as Buffer, isBinary);
    });
    socket.on('pong', () => this.alive.add(socket));
    socket.on('error', (error) => this.report(describeSocketError(`connection to ${peer.name}`, error), peer));
    socket.on('close', (code, reason) => {
      this.sockets.delete(peer);
      const why = `code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''}`;
      this.removePeer(peer, why);
      if (!this.closed) this.setStatus({ state: 'listening' });
    });
    this.addPeer(peer);
    this.setStatus({ state: 'listening' });
  }

  private startHeartbeat(): void {
    if (this.heartbeatMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      for (const [peer, socket] of this.sockets) {
        if (!this.alive.has(socket)) {
          this.report(new ConnectionError('ERR_HEARTBEAT_TIMEOUT', `client ${peer.name} answered no ping for ${this.heartbeatMs} ms: connection dropped`), peer);
          socket.terminate();
          continue;
        }
        this.alive.delete(socket);
        if (socket.readyState === WebSocket.OPEN) socket.ping();
      }
    }, this.heartbeatMs);
  }
}

function rejectUpgrade(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 1000).unref();
}
