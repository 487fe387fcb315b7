import http from 'http';
import net, { AddressInfo } from 'net';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectionError, RealvirtualError } from '../errors';
import { Attempt, AttemptHandle } from '../lifecycle';
import { describeSocketError, isLoopback } from '../network';
import { MinVREndpoint, MinVRPeerInfo } from './endpoint';
import { remoteOf } from './link';
import { MinVROptions } from './options';
import { tcpLink } from './tcp';
import { webSocketLink } from './websocket';

export type MinVRServerOptions = MinVROptions;

/**
 * Accepts MinVR3 apps (a TcpJsonVREventConnection acting as client, or WebSocket clients such
 * as MinVR3's JavaScript client). `send` goes to every connected peer; nothing is relayed
 * between peers. A busy port is retried like a client's reconnect (same lifecycle module).
 */
export class MinVRServer extends MinVREndpoint {
  private bound: net.Server | http.Server | null = null;
  private nextPeerNumber = 1;

  constructor(options: MinVRServerOptions = {}) {
    super(options, 'server');
  }

  /** The bound port (useful with port 0), or the configured one before listening. */
  get port(): number {
    const address = this.bound?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : this.settings.port;
  }

  get listening(): boolean {
    return this.status.state === 'listening';
  }

  /**
   * Starts listening; a failure (port in use…) is retried as configured. Resolves once
   * listening; rejects with a ConnectionError (ERR_GAVE_UP, its cause the ERR_LISTEN) once
   * it gives up, at once when autoReconnect is off. Ignoring the promise is safe.
   */
  listen(): Promise<void> {
    return this.startLifecycle();
  }

  protected override onListening(): void {
    if (isLoopback(this.settings.host)) return;
    this.logger.warn(
      `listening on ${this.settings.host}, reachable from other machines: MinVR3 connections have no authentication, so anyone who can reach port ${this.port} can send and read events`,
    );
  }

  /** One listening attempt: opened once bound; closed (with why) if binding fails or the server stops. */
  protected attempt(handle: AttemptHandle): Attempt {
    const server = this.transport === 'tcp' ? net.createServer((socket) => this.acceptTcp(socket)) : this.webSocketServer();
    let listening = false;
    let failure: RealvirtualError | undefined;
    server.once('listening', () => {
      if (handle.stale) {
        server.close();
        return;
      }
      listening = true;
      this.bound = server;
      handle.opened();
    });
    server.on('error', (error) => {
      failure = describeSocketError(`cannot listen on ${this.settings.host}:${this.settings.port}`, error, 'ERR_LISTEN');
      if (!listening) handle.closed(failure);
      else server.close();
    });
    server.on('close', () => {
      if (this.bound === server) this.bound = null;
      if (listening) handle.closed(failure);
    });
    server.listen(this.settings.port, this.settings.host);
    const stop = (polite: boolean): void => {
      for (const peer of this.peers.values()) {
        if (polite) peer.link.end();
        else peer.link.fail(new ConnectionError('ERR_CLOSED', 'server closing'));
      }
      if (!listening) {
        handle.closed();
        return;
      }
      server.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
    };
    return { abort: () => stop(false), end: () => stop(true) };
  }

  private nextPeer(address: string | undefined, port: number | undefined): MinVRPeerInfo {
    return { id: `peer-${this.nextPeerNumber++}`, name: remoteOf(address, port) };
  }

  private acceptTcp(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const info = this.nextPeer(socket.remoteAddress, socket.remotePort);
    const link = tcpLink(
      socket,
      this.linkSettings,
      this.handlersFor(info, () => this.peersChanged()),
    );
    this.addPeer({ info, link });
  }

  private webSocketServer(): http.Server {
    const server = http.createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('This is a MinVR3 VREvent WebSocket endpoint: connect with a WebSocket client.\n');
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.settings.maxFrame, perMessageDeflate: false });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const pathname = (req.url ?? '/').split('?')[0];
      if (this.closed || (this.settings.path !== '' && pathname !== this.settings.path)) {
        socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.acceptWebSocket(ws, req, socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    server.on('close', () => wss.close());
    return server;
  }

  private acceptWebSocket(socket: WebSocket, req: http.IncomingMessage, raw: net.Socket): void {
    const info = this.nextPeer(req.socket.remoteAddress, req.socket.remotePort);
    const link = webSocketLink(
      socket,
      raw,
      info.name,
      this.linkSettings,
      this.handlersFor(info, () => this.peersChanged()),
    );
    this.addPeer({ info, link });
  }
}
