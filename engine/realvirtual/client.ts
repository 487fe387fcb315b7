import { printable } from '../text';
import { LookupFunction } from 'net';
import { ConnectionOptions } from 'tls';
import WebSocket from 'ws';
import { ConnectionError, OptionError, RealvirtualError } from '../errors';
import { Attempt, AttemptHandle, DEFAULT_RECONNECT, Heartbeat, ReconnectOptions } from '../lifecycle';
import { ConfigOptions, ConfigResult, Endpoint, ImportResult } from './endpoint';
import { ConfigObject, encode } from './messages';
import { checkNumber, checkPort, DEFAULTS, EndpointOptions, normalizePath } from './options';
import { isPlainObject } from '../record';
import { Peer } from './peers';
import { closeSocket, describeSocketError, hostPort, isLoopback } from '../network';
import { socketLink } from './ws-link';

/** How long close() waits for the server to answer the close handshake. */
const CLOSE_GRACE_MS = 300;

export interface ClientOptions extends EndpointOptions, ConfigOptions {
  host?: string;
  port?: number;
  path?: string;
  /** Connect with wss://. Implied by `tls`. */
  secure?: boolean;
  /** TLS settings for wss:// (ca, rejectUnauthorized, servername, client cert and key). */
  tls?: ConnectionOptions;
  /** Name sent in `init`. Default "Node-RED". */
  clientName?: string;
  /** Signals to subscribe to; null or undefined = no subscribe, so the server sends all. */
  subscribe?: readonly string[] | null;
  autoReconnect?: boolean;
  /** First retry delay in ms (doubles per failure up to maxReconnectIntervalMs). Default 2000. */
  reconnectIntervalMs?: number;
  maxReconnectIntervalMs?: number;
  /** Retries before giving up; -1 = unlimited. */
  maxReconnectAttempts?: number;
  /** Spread of each retry delay, 0..1. Default 0.2. */
  reconnectJitter?: number;
  /** Time allowed for the WebSocket opening handshake, in ms. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Ping period in ms; a server silent for two periods is dropped. 0 = off. Default 10000. */
  heartbeatMs?: number;
  /** `init` is sent again after this many ms without sending anything. 0 = off. Default 25000. */
  keepAliveMs?: number;
  /**
   * The secret of a server that requires one, sent as `Authorization: Bearer <secret>`
   * (never in the URL, so it appears in no log). "" or undefined = none.
   */
  secret?: string;
  /** Host name resolution (as net.connect's `lookup`); default: the system resolver. */
  lookup?: LookupFunction;
}

/**
 * The client role: we connect to a realvirtual server. It sends `init` on open and,
 * after every (re)connect, its subscription and its full write state.
 */
export class RealvirtualClient extends Endpoint {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly url: string;
  readonly clientName: string;
  private readonly tlsOptions: ConnectionOptions | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly keepAliveMs: number;
  private readonly secret: string;
  private readonly lookup: LookupFunction | undefined;
  /** True when the secret goes over plain ws:// to another machine, where anyone on the way can read it. */
  readonly sendsSecretInClearText: boolean;
  private warnedAboutClearText = false;
  private subscription: string[] | null;
  private server: Peer | null = null;

  constructor(options: ClientOptions = {}) {
    super(options, 'client', reconnectOptions(options));
    this.host = options.host ?? DEFAULTS.host;
    if (typeof this.host !== 'string' || this.host.trim() === '') throw new OptionError('host must be the server address, e.g. 127.0.0.1');
    this.port = checkPort(options.port ?? DEFAULTS.port);
    this.path = normalizePath(options.path);
    this.clientName = options.clientName ?? DEFAULTS.clientName;
    const secure = options.secure ?? options.tls !== undefined;
    this.tlsOptions = secure ? { ...(options.tls ?? {}) } : undefined;
    this.url = `${secure ? 'wss' : 'ws'}://${hostPort(this.host, this.port)}${this.path || '/'}`;
    this.handshakeTimeoutMs = checkNumber('handshakeTimeoutMs', options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs, 1);
    this.heartbeatMs = checkNumber('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs, 0);
    this.keepAliveMs = checkNumber('keepAliveMs', options.keepAliveMs ?? DEFAULTS.keepAliveMs, 0);
    this.subscription = options.subscribe ? [...options.subscribe] : null;
    this.secret = options.secret ?? '';
    if (typeof this.secret !== 'string') throw new OptionError('secret must be a string');
    if (options.lookup !== undefined && typeof options.lookup !== 'function') throw new OptionError('lookup must be a function');
    this.lookup = options.lookup;
    this.sendsSecretInClearText = this.secret !== '' && !secure && !isLoopback(this.host);
  }

  /** The server as a peer: `{id: "server", name: "<host>:<port>"}`. */
  get peerName(): string {
    return `${this.host}:${this.port}`;
  }

  get connected(): boolean {
    return this.server !== null;
  }

  /** The names sent in `subscribe`, or null when the client subscribes to everything. */
  get subscribed(): readonly string[] | null {
    return this.subscription;
  }

  /**
   * Starts connecting (and reconnecting, as configured). Resolves at the first
   * connection; rejects if the client gives up or is closed first. Ignoring the
   * promise is safe: its rejection is never unhandled.
   */
  connect(): Promise<void> {
    return this.startLifecycle();
  }

  /**
   * Sets what to subscribe to and sends it at once when connected. null means "all
   * signals": the protocol cannot undo a subscribe, so the client then reconnects.
   */
  setSubscription(names: readonly string[] | null): void {
    const previous = this.subscription;
    this.subscription = names ? [...names] : null;
    if (!this.server) return;
    if (this.subscription) this.sendText(this.server, encode.subscribe(this.subscription));
    else if (previous) this.lifecycle.drop(new ConnectionError('ERR_CONNECTION', 'reconnecting to subscribe to all signals'), true);
  }

  /** Asks the server for its catalog; directions come back inverted to our side. `timeoutMs` defaults to requestTimeoutMs. */
  requestImport(timeoutMs?: number): Promise<ImportResult> {
    if (!this.server) return Promise.reject(this.notConnected());
    return this.requestImportFrom(this.server, timeoutMs);
  }

  /** Sends `config_get`; resolves with the server's `config_answer`. */
  getConfig(): Promise<ConfigObject> {
    if (!this.server) return Promise.reject(this.notConnected());
    const answer = this.server.requests.wait<ConfigObject>('config_get', this.settings.requestTimeoutMs, () => this.peerName);
    this.sendText(this.server, encode.configGet());
    return answer;
  }

  /** Sends `config_set`; resolves with the server's `config_result`. */
  setConfig(config: ConfigObject): Promise<ConfigResult> {
    if (!isPlainObject(config)) return Promise.reject(new OptionError('setConfig needs an object'));
    if (!this.server) return Promise.reject(this.notConnected());
    const answer = this.server.requests.wait<ConfigResult>('config_set', this.settings.requestTimeoutMs, () => this.peerName);
    this.sendText(this.server, encode.configSet(config));
    return answer;
  }

  /** One warning, at the first attempt, when the secret would travel in clear text (as the server warns about its exposure). */
  private warnAboutExposure(): void {
    if (!this.sendsSecretInClearText || this.warnedAboutClearText) return;
    this.warnedAboutClearText = true;
    this.report(
      new ConnectionError(
        'ERR_INSECURE_SECRET',
        `the secret is sent to ${this.host} over plain ws://, in clear text: anyone on the network path can read it (use TLS, or connect through a TLS proxy)`,
      ),
    );
  }

  private notConnected(): RealvirtualError {
    return new ConnectionError('ERR_NOT_CONNECTED', `not connected to ${this.url}`);
  }

  protected override connectedPeerName(): string {
    return this.peerName;
  }

  protected attempt(handle: AttemptHandle): Attempt {
    this.warnAboutExposure();
    const socket = new WebSocket(this.url, {
      ...(this.tlsOptions ?? {}),
      handshakeTimeout: this.handshakeTimeoutMs,
      maxPayload: this.settings.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
      ...(this.lookup ? { lookup: this.lookup } : {}),
      ...(this.secret !== '' ? { headers: { Authorization: `Bearer ${this.secret}` } } : {}),
    });
    let lastError: RealvirtualError | undefined;
    let peer: Peer | null = null;
    let lastSendAt = Date.now();
    let keepAlive: NodeJS.Timeout | null = null;
    const heartbeat = new Heartbeat(
      this.heartbeatMs,
      () => socket.ping(),
      () => this.lifecycle.drop(new ConnectionError('ERR_HEARTBEAT_TIMEOUT', `${this.url} answered no ping within ${2 * this.heartbeatMs} ms (half-open connection): reconnecting`)),
      this.settings.clock,
    );
    socket.on('open', () => {
      if (handle.stale) return;
      peer = new Peer(
        'server',
        this.peerName,
        socketLink(socket, () => (lastSendAt = Date.now())),
        this.settings.clock,
      );
      this.server = peer;
      handle.opened();
      this.sendText(peer, encode.init(this.clientName));
      if (this.subscription) this.sendText(peer, encode.subscribe(this.subscription));
      this.addPeer(peer);
      heartbeat.start();
      if (this.keepAliveMs > 0) {
        keepAlive = setInterval(
          () => {
            if (peer && Date.now() - lastSendAt >= this.keepAliveMs) this.sendText(peer, encode.init(this.clientName));
          },
          Math.max(10, Math.min(1000, this.keepAliveMs / 5)),
        );
      }
    });
    socket.on('message', (data, isBinary) => {
      heartbeat.alive();
      if (peer) this.handleFrame(peer, data as Buffer, isBinary);
    });
    socket.on('pong', () => heartbeat.alive());
    socket.on('error', (error) => {
      lastError = describeSocketError(peer ? `connection to ${this.url}` : `cannot connect to ${this.url}`, error, 'ERR_CONNECTION', this.settings);
      if (!peer && this.tlsOptions && (error as { code?: string }).code === 'ECONNRESET') {
        // A plain server drops a TLS handshake it cannot read: say so (and never retry without TLS).
        lastError = new ConnectionError('ERR_CONNECTION', `${lastError.message} during the TLS handshake: is it a wss:// (TLS) server?`, { cause: error });
      }
      // Frames the server got wrong are problems too (the close that follows is logged as the reconnect).
      if (peer && (lastError.code === 'ERR_PAYLOAD_TOO_LARGE' || lastError.code === 'ERR_INVALID_UTF8')) this.report(lastError, peer);
    });
    socket.on('close', (code, reason) => {
      heartbeat.stop();
      if (keepAlive) clearInterval(keepAlive);
      const wasOpen = peer !== null;
      const why = `closed with code ${code}${reason.length > 0 ? `: ${printable(reason.toString(), 200)}` : ''}`;
      if (peer) {
        if (this.server === peer) this.server = null;
        this.removePeer(peer, why);
        peer = null;
      }
      handle.closed(lastError ?? new ConnectionError('ERR_CONNECTION', wasOpen ? `${this.url} ${why}` : `cannot connect to ${this.url}: ${why}`));
    });
    return {
      abort: () => socket.terminate(),
      end: () => closeSocket(socket, 1000, 'client closing', CLOSE_GRACE_MS),
    };
  }
}

function reconnectOptions(options: ClientOptions): ReconnectOptions {
  return {
    autoReconnect: options.autoReconnect ?? DEFAULTS.autoReconnect,
    intervalMs: checkNumber('reconnectIntervalMs', options.reconnectIntervalMs ?? DEFAULTS.reconnectIntervalMs, 0),
    maxIntervalMs: Math.max(options.maxReconnectIntervalMs ?? DEFAULTS.maxReconnectIntervalMs, options.reconnectIntervalMs ?? 0),
    maxAttempts: options.maxReconnectAttempts ?? DEFAULTS.maxReconnectAttempts,
    jitter: options.reconnectJitter ?? DEFAULT_RECONNECT.jitter,
  };
}
