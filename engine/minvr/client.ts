import { IncomingMessage } from 'http';
import { LookupFunction } from 'net';
import { Duplex } from 'stream';
import WebSocket from 'ws';
import { ConnectionError, OptionError, RealvirtualError } from '../errors';
import { Attempt, AttemptHandle } from '../lifecycle';
import { describeSocketError, hostPort } from '../network';
import { MinVREndpoint, MinVRPeerInfo } from './endpoint';
import { MinVRLink } from './link';
import { MinVROptions } from './options';
import { dialTcp, tcpLink } from './tcp';
import { webSocketLink } from './websocket';

export interface MinVRClientOptions extends MinVROptions {
  /** Host name resolution (as net.connect's `lookup`); default: the system resolver. */
  lookup?: LookupFunction;
}

/**
 * Connects to a MinVR3 app (a TcpJsonVREventConnection acting as server, or a WebSocket
 * endpoint) and reconnects as configured, through the lifecycle the realvirtual client uses.
 */
export class MinVRClient extends MinVREndpoint {
  private readonly lookup: LookupFunction | undefined;

  constructor(options: MinVRClientOptions = {}) {
    super(options, 'client');
    if (options.lookup !== undefined && typeof options.lookup !== 'function') throw new OptionError('lookup must be a function');
    this.lookup = options.lookup;
  }

  get port(): number {
    return this.settings.port;
  }

  /** "host:port" of the server. */
  get peerName(): string {
    const { host, port } = this.settings;
    return hostPort(host, port);
  }

  get connected(): boolean {
    return this.peers.size > 0;
  }

  /**
   * Starts connecting (and reconnecting, as configured). Resolves at the first connection;
   * rejects if the client gives up or is closed first. Ignoring the promise is safe.
   */
  connect(): Promise<void> {
    return this.startLifecycle();
  }

  protected override connectedPeerName(): string {
    return this.peerName;
  }

  protected attempt(handle: AttemptHandle): Attempt {
    const info: MinVRPeerInfo = { id: 'server', name: this.peerName };
    let link: MinVRLink | null = null;
    const handlers = this.handlersFor(info, (error) => {
      link = null;
      handle.closed(error ?? new ConnectionError('ERR_CONNECTION', `${this.url} closed the connection`));
    });
    const opened = (made: MinVRLink): void => {
      if (handle.stale) {
        made.end();
        return;
      }
      link = made;
      this.addPeer({ info, link: made });
      handle.opened();
    };
    if (this.transport === 'tcp') {
      const abort = dialTcp(
        { host: this.settings.host, port: this.settings.port, connectTimeoutMs: this.settings.connectTimeoutMs, lookup: this.lookup },
        (socket) => opened(tcpLink(socket, this.linkSettings, handlers)),
        (error) => handle.closed(error),
      );
      return { abort: () => (link ? link.fail(new ConnectionError('ERR_CONNECTION', 'connection dropped')) : abort()), end: () => (link ? link.end() : abort()) };
    }
    return this.dialWebSocket(info, handlers, opened, handle);
  }

  private dialWebSocket(info: MinVRPeerInfo, handlers: ReturnType<MinVREndpoint['handlersFor']>, opened: (link: MinVRLink) => void, handle: AttemptHandle): Attempt {
    const socket = new WebSocket(this.url, {
      handshakeTimeout: this.settings.connectTimeoutMs,
      maxPayload: this.settings.maxFrame,
      perMessageDeflate: false,
      followRedirects: false,
      ...(this.lookup ? { lookup: this.lookup } : {}),
    });
    let link: MinVRLink | null = null;
    let failure: RealvirtualError | undefined;
    // ws announces the response, and with it the network socket, just before 'open'.
    let raw: Duplex | undefined;
    socket.once('upgrade', (response: IncomingMessage) => {
      raw = response.socket;
    });
    const beforeOpen = {
      error: (error: Error) => {
        failure = describeSocketError(`cannot connect to ${this.url}`, error);
      },
      close: () => handle.closed(failure ?? new ConnectionError('ERR_CONNECTION', `cannot connect to ${this.url}: closed`)),
    };
    socket.on('error', beforeOpen.error);
    socket.once('close', beforeOpen.close);
    socket.once('open', () => {
      socket.off('error', beforeOpen.error);
      socket.off('close', beforeOpen.close);
      link = webSocketLink(socket, raw, info.name, this.linkSettings, handlers);
      opened(link);
    });
    return {
      abort: () => (link ? link.fail(new ConnectionError('ERR_CONNECTION', 'connection dropped')) : socket.terminate()),
      end: () => (link ? link.end() : socket.terminate()),
    };
  }
}
