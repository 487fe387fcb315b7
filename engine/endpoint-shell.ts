import { Clock } from './clock';
import { TypedEmitter } from './emitter';
import { ConnectionError, RealvirtualError } from './errors';
import { Attempt, AttemptHandle, ConnectionLifecycle, LinkStatus, ReconnectOptions, rejected, untilState } from './lifecycle';
import { LogBudget, suppressedSummary } from './log-budget';
import { Logger } from './logger';
import { clip } from './text';

/**
 * What every endpoint of every protocol has in common, in either role: its status, its peers,
 * problem reporting within one log budget, and the connection lifecycle that dials (client) or
 * binds (server), retrying with backoff as configured. Protocols add their sockets and messages.
 */

export type EndpointState = 'idle' | 'listening' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface EndpointStatus {
  state: EndpointState;
  /** Connected peers (server: any number; client: 0 or 1). */
  clients: number;
  /** Client: the server's name once connected. */
  peerName?: string;
  error?: RealvirtualError;
  /** While reconnecting (or retrying a busy port): ms until the next attempt. */
  retryInMs?: number;
}

export interface PeerInfo {
  id: string;
  name: string;
}

/** The transport side of one connected peer, whatever the protocol; `Frame` is what one send takes. */
export interface PeerLink<Frame> {
  send(frame: Frame): void;
  /** Bytes accepted by send but not yet handed to the network. */
  readonly bufferedBytes: number;
}

/** A peer as the shell keeps it: who it is and its link. */
export interface ShellPeer {
  readonly info: PeerInfo;
  readonly link: PeerLink<never>;
}

export type ShellEvents = {
  status: (status: EndpointStatus) => void;
  connect: (peer: PeerInfo) => void;
  disconnect: (peer: PeerInfo, reason: string) => void;
  /** Something went wrong that did not stop the endpoint. */
  problem: (error: RealvirtualError, peer?: PeerInfo) => void;
};

export type EndpointRole = 'client' | 'server';

export interface ShellOptions {
  role: EndpointRole;
  logger: Logger;
  clock: Clock;
  /** Client: reconnects. Server: retries of a listen that failed (a busy port). */
  retry: ReconnectOptions;
  /** The jitter's random source (tests pass a fixed one). */
  random?: () => number;
}

/** Log lines one endpoint with all its peers may cause per LOG_WINDOW_MS; 'problem' events are not limited. */
export const LOG_LINES_PER_MINUTE = 20;
export const LOG_WINDOW_MS = 60000;

export abstract class EndpointShell<P extends ShellPeer, Events extends ShellEvents> extends TypedEmitter<Events> {
  protected readonly logger: Logger;
  protected readonly peers = new Map<string, P>();
  protected closed = false;
  protected readonly lifecycle: ConnectionLifecycle;
  readonly role: EndpointRole;
  private readonly retry: ReconnectOptions;
  private statusValue: EndpointStatus = { state: 'idle', clients: 0 };
  /** One budget for the whole endpoint: many peers together cannot flood the log either. */
  private readonly logBudget: LogBudget;
  private hadFailure = false;
  private closing: Promise<void> | null = null;

  constructor(options: ShellOptions) {
    super();
    this.role = options.role;
    this.logger = options.logger;
    this.retry = { ...options.retry };
    this.logBudget = new LogBudget(LOG_LINES_PER_MINUTE, LOG_WINDOW_MS, (count) => this.logger.warn(suppressedSummary(count, LOG_WINDOW_MS)), options.clock);
    this.lifecycle = new ConnectionLifecycle(options.retry, (handle) => this.attempt(handle), options.random ?? Math.random, options.clock);
    this.lifecycle.on('state', (status) => this.followLink(status));
    this.lifecycle.on('attemptFailed', (error, attempt) => this.logger.debug(`attempt ${attempt} ${this.role === 'server' ? 'to listen on' : 'to'} ${this.url} failed: ${error.message}`));
  }

  /** Where the server listens, or what the client connects to. */
  abstract get url(): string;

  /** One attempt of the lifecycle: connect (client) or bind (server), reporting through `handle`. */
  protected abstract attempt(handle: AttemptHandle): Attempt;

  get status(): EndpointStatus {
    return this.statusValue;
  }

  /** Connected peers. */
  get clients(): PeerInfo[] {
    return [...this.peers.values()].map((peer) => ({ ...peer.info }));
  }

  /** Unsent bytes of the slowest peer. */
  get bufferedBytes(): number {
    let most = 0;
    for (const peer of this.peers.values()) most = Math.max(most, peer.link.bufferedBytes);
    return most;
  }

  /** Stops for good: no further attempts; resolves once every socket and timer is released. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.beforeClose();
    this.closing = this.lifecycle.close().then(() => this.setStatus({ state: 'closed', clients: 0 }));
    return this.closing;
  }

  /** What a protocol stops before the lifecycle closes its sockets (cycles, timers). */
  protected beforeClose(): void {}

  /** Client: the peer name its 'connected' status carries. */
  protected connectedPeerName(): string | undefined {
    return undefined;
  }

  /** Server: called once bound, after the "listening on" line (warnings about exposure). */
  protected onListening(): void {}

  /**
   * Starts the lifecycle. Resolves once connected (client) or listening (server); rejects once
   * it fails or closes. Ignoring the promise is safe.
   */
  protected startLifecycle(): Promise<void> {
    if (this.closed) return rejected(new ConnectionError('ERR_CLOSED', `this ${this.role} was closed: create a new one`));
    return untilState(this, this.role === 'server' ? 'listening' : 'connected', () => this.lifecycle.start());
  }

  protected addPeer(peer: P): void {
    this.peers.set(peer.info.id, peer);
    this.emitShell('connect', { ...peer.info });
    this.peersChanged();
  }

  /** Removes a peer that is still the one under its id; returns false when it was not. */
  protected removePeer(peer: P, reason: string): boolean {
    const id = peer.info.id;
    if (this.peers.get(id) !== peer) return false;
    this.peers.delete(id);
    this.peersChanged();
    this.emitShell('disconnect', { ...peer.info }, reason);
    return true;
  }

  /** A listening server's status follows its client count (on leaving at once, not only once the socket has closed). */
  protected peersChanged(): void {
    if (this.statusValue.state === 'listening') this.setStatus({ state: 'listening' });
  }

  protected setStatus(status: Partial<EndpointStatus> & { state: EndpointState }): void {
    const next: EndpointStatus = { clients: this.peers.size, ...status };
    const last = this.statusValue;
    this.statusValue = next;
    if (next.state === 'closed') this.logBudget.dispose();
    if (last.state === next.state && last.clients === next.clients && last.peerName === next.peerName && last.error?.code === next.error?.code && last.error?.message === next.error?.message) return;
    this.emitShell('status', next);
  }

  /**
   * Reports a problem: every occurrence reaches 'problem' listeners; the log gets it within the
   * endpoint's budget of LOG_LINES_PER_MINUTE, then one summary line.
   */
  protected report(error: RealvirtualError, peer?: P): void {
    this.reportProblem(error, peer, true);
  }

  /** report(), with the protocol's say on whether this occurrence deserves a log line at all. */
  protected reportProblem(error: RealvirtualError, peer: P | undefined, log: boolean): void {
    if (log && this.logBudget.take() === 'log') {
      const from = peer ? ` (peer ${clip(peer.info.name, 100)})` : '';
      this.logger.warn(`${clip(error.message)}${from}`);
    }
    if (this.listenerCount('problem') === 0) return;
    try {
      this.emitShell('problem', error, peer ? { ...peer.info } : undefined);
    } catch (thrown) {
      if (this.logBudget.take() === 'log') this.logger.warn(`a 'problem' listener threw: ${clip(String((thrown as Error)?.message ?? thrown))}`);
    }
  }

  /** Maps the lifecycle's states to the endpoint's (`connected` is `listening` for a server) and logs each change once. */
  private followLink(status: LinkStatus): void {
    const server = this.role === 'server';
    switch (status.state) {
      case 'connected':
        if (server) {
          this.logger.info(`listening on ${this.url}`);
          this.onListening();
        } else if (this.hadFailure) {
          this.logger.info(`connected to ${this.url} again`);
        }
        this.hadFailure = false;
        this.setStatus(server ? { state: 'listening' } : { state: 'connected', peerName: this.connectedPeerName() });
        break;
      case 'reconnecting':
        this.hadFailure = true;
        // A server that cannot listen serves nobody: an error; a client's lost connection is expected back: a warning.
        if (server) this.logger.error(`${status.error?.message ?? `cannot listen on ${this.url}`}; retrying`);
        else this.logger.warn(`${this.url}: ${status.error?.message ?? 'disconnected'}; retrying`);
        this.setStatus({ state: 'reconnecting', error: status.error, retryInMs: status.retryInMs });
        break;
      case 'failed': {
        this.hadFailure = true;
        const error = server && status.error ? this.listenFailure(status.error) : status.error;
        this.logger.error(error?.message ?? (server ? `cannot listen on ${this.url}` : `gave up connecting to ${this.url}`));
        this.setStatus({ state: 'failed', error });
        break;
      }
      default:
        this.setStatus({ state: status.state });
    }
  }

  /**
   * Why a server stopped trying to listen: with no retry allowed, the failure itself (ERR_LISTEN);
   * once the retries are spent, ERR_GAVE_UP naming them.
   */
  private listenFailure(error: RealvirtualError): RealvirtualError {
    const cause = (error as { cause?: unknown }).cause;
    if (error.code !== 'ERR_GAVE_UP' || !(cause instanceof RealvirtualError) || !this.retry.autoReconnect) return error;
    const retries = this.retry.maxAttempts;
    if (retries === 0) return cause;
    return new ConnectionError('ERR_GAVE_UP', `gave up after ${retries} listen retr${retries === 1 ? 'y' : 'ies'}: ${cause.message}`, { cause });
  }

  /** emit() for the events every endpoint has (the compiler cannot see them in the generic `Events`). */
  private emitShell<E extends keyof ShellEvents>(event: E, ...args: Parameters<ShellEvents[E]>): void {
    (this as unknown as TypedEmitter<ShellEvents>).emit(event, ...args);
  }
}
