import { TypedEmitter } from '../emitter';
import { ConnectionError, ProtocolError, RealvirtualError } from '../errors';
import { Attempt, AttemptHandle, ConnectionLifecycle, LinkStatus, rejected, untilState } from '../lifecycle';
import { LogBudget, suppressedSummary } from '../log-budget';
import { clip } from '../text';
import { Logger } from '../logger';
import { VREvent } from './events';
import { OutgoingEvent } from './framing';
import { LinkHandlers, PeerLink } from './link';
import { minvrUrl, MinVROptions, ResolvedMinVROptions, resolveMinVROptions } from './options';
import { PartialFrameBudget } from './partial-budget';
import type { TcpLinkSettings } from './tcp';
import type { WebSocketLinkSettings } from './websocket';

export interface MinVRPeerInfo {
  /** "server" for the client's one peer; "peer-1", "peer-2"… for a server's peers. */
  id: string;
  /** "address:port" of the peer. */
  name: string;
}

export type MinVRState = 'idle' | 'connecting' | 'connected' | 'listening' | 'reconnecting' | 'failed' | 'closed';

export interface MinVRStatus {
  state: MinVRState;
  /** Connected peers (server: any number; client: 0 or 1). */
  clients: number;
  /** Client: the server's "host:port" once connected. */
  peerName?: string;
  error?: RealvirtualError;
  /** While reconnecting (or retrying a busy port): ms until the next attempt. */
  retryInMs?: number;
}

export interface MinVRStats {
  eventsReceived: number;
  /** Events sent, counted once per peer they went to. */
  eventsSent: number;
  /** Events sent while no peer was connected: they go nowhere, as in MinVR3. */
  eventsUnsent: number;
}

export type MinVREvents = {
  event: (event: VREvent, peer: MinVRPeerInfo) => void;
  status: (status: MinVRStatus) => void;
  connect: (peer: MinVRPeerInfo) => void;
  disconnect: (peer: MinVRPeerInfo, reason: string) => void;
  /** Something went wrong that did not stop the endpoint: a bad frame, a dropped peer. */
  problem: (error: RealvirtualError, peer?: MinVRPeerInfo) => void;
};

interface Peer {
  info: MinVRPeerInfo;
  link: PeerLink;
}

const LOG_LINES_PER_MINUTE = 20;

/**
 * What the MinVR3 client and server share: their lifecycle (connect or listen, retry, close),
 * their peers, sending one event to all of them (encoded once), receiving, status and bounded
 * problem logging. A server never relays between its peers: what one sends is only emitted here.
 */
export abstract class MinVREndpoint extends TypedEmitter<MinVREvents> {
  readonly settings: ResolvedMinVROptions;
  protected readonly logger: Logger;
  protected readonly peers = new Map<string, Peer>();
  protected closed = false;
  protected readonly lifecycle: ConnectionLifecycle;
  private closing: Promise<void> | null = null;
  private readonly role: 'client' | 'server';
  private statusValue: MinVRStatus = { state: 'idle', clients: 0 };
  /** One budget for the whole endpoint: many peers together cannot flood the log either. */
  private readonly logBudget = new LogBudget(LOG_LINES_PER_MINUTE, 60000, (count) => this.logger.warn(suppressedSummary(count, 60000)));
  private readonly counters: MinVRStats = { eventsReceived: 0, eventsSent: 0, eventsUnsent: 0 };
  /** What every link of this endpoint is told: the options, and the partial-frame budget all its peers share. */
  protected readonly linkSettings: TcpLinkSettings & WebSocketLinkSettings;

  constructor(options: MinVROptions, role: 'client' | 'server') {
    super();
    this.settings = resolveMinVROptions(options, role);
    this.linkSettings = { ...this.settings, partialBudget: new PartialFrameBudget(this.settings.maxPartialBytes) };
    this.logger = this.settings.logger;
    this.role = role;
    this.lifecycle = new ConnectionLifecycle(this.settings.reconnect, (handle) => this.attempt(handle));
    this.lifecycle.on('state', (status) => this.onLinkState(status));
  }

  /** One attempt of the lifecycle: connect (client) or bind (server), reporting through `handle`. */
  protected abstract attempt(handle: AttemptHandle): Attempt;

  /** Logs a change of the lifecycle's state and follows it (followLink). */
  protected abstract onLinkState(status: LinkStatus): void;

  get transport(): 'tcp' | 'websocket' {
    return this.settings.transport;
  }

  abstract get port(): number;

  /** tcp://host:port or ws://host:port/path: where the server listens, or what the client connects to. */
  get url(): string {
    return minvrUrl(this.settings.transport, this.settings.host, this.port, this.settings.path);
  }

  get status(): MinVRStatus {
    return this.statusValue;
  }

  get clients(): MinVRPeerInfo[] {
    return [...this.peers.values()].map((peer) => ({ ...peer.info }));
  }

  get stats(): MinVRStats {
    return { ...this.counters };
  }

  /** Bytes of incomplete frames held for all peers together (at most maxPartialBytes). */
  get partialBytes(): number {
    return this.linkSettings.partialBudget.held;
  }

  /** Unsent bytes of the slowest peer (useful to pace a producer). */
  get bufferedBytes(): number {
    let most = 0;
    for (const peer of this.peers.values()) most = Math.max(most, peer.link.bufferedBytes);
    return most;
  }

  /**
   * Sends one event to every connected peer, encoded once; returns how many peers it went to
   * (0 when none is connected: events are not queued, as in MinVR3). Throws a ProtocolError
   * (ERR_MINVR_EVENT) for an event that cannot be encoded; nothing is sent then.
   */
  send(event: VREvent): number {
    return this.sendEncoded(OutgoingEvent.of(event));
  }

  /** Sends an event already encoded with OutgoingEvent.of (to send one event on several endpoints). */
  sendEncoded(outgoing: OutgoingEvent): number {
    if (this.peers.size === 0) {
      this.counters.eventsUnsent++;
      return 0;
    }
    let sent = 0;
    for (const peer of this.peers.values()) {
      peer.link.send(outgoing);
      sent++;
      // The event being written does not count: one big event must not drop a peer that reads.
      if (peer.link.unsentBehindCurrent > this.settings.maxBufferedBytes) {
        peer.link.fail(
          new ConnectionError('ERR_SLOW_PEER', `${peer.info.name} has more than ${this.settings.maxBufferedBytes} bytes unsent besides the event being written: it is not reading, dropped`),
        );
      }
    }
    this.counters.eventsSent += sent;
    return sent;
  }

  /** Stops for good: no further attempts; resolves once every socket is closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.logBudget.dispose();
    this.closing = this.lifecycle.close().then(() => this.setStatus({ state: 'closed', clients: 0 }));
    return this.closing;
  }

  /**
   * Starts the lifecycle. Resolves once the state is `goal`; rejects once it is failed or
   * closed. Ignoring the promise is safe.
   */
  protected startUntil(goal: 'connected' | 'listening'): Promise<void> {
    if (this.closed) return rejected(new ConnectionError('ERR_CLOSED', `this ${this.role} was closed: create a new one`));
    return untilState(this, goal, () => this.lifecycle.start());
  }

  /** Handlers for a new link; the peer joins with `addPeer` once its link exists. */
  protected handlersFor(info: MinVRPeerInfo, onClosed: (error?: RealvirtualError) => void): LinkHandlers {
    return {
      event: (event) => {
        this.counters.eventsReceived++;
        try {
          this.emit('event', event, info);
        } catch (error) {
          // A listener threw: that event is lost to it, the peer and the socket carry on.
          const reason = clip(String((error as Error)?.message ?? error));
          this.report(new ProtocolError('ERR_MINVR_EVENT', `handling MinVR3 event ${clip(JSON.stringify(event.name), 100)} failed: ${reason}`, { cause: error }), this.peers.get(info.id));
        }
      },
      problem: (error) => this.report(error, this.peers.get(info.id)),
      closed: (error) => {
        const peer = this.peers.get(info.id);
        if (peer) {
          this.peers.delete(info.id);
          // Frames too large or too slow, slow readers: problems of that peer, worth a log line.
          if (error && error.code !== 'ERR_CONNECTION') this.report(error, peer);
          this.emit('disconnect', { ...info }, error ? error.message : 'closed');
        }
        onClosed(error);
      },
    };
  }

  protected addPeer(info: MinVRPeerInfo, link: PeerLink): void {
    this.peers.set(info.id, { info, link });
    this.emit('connect', { ...info });
  }

  protected setStatus(status: Partial<MinVRStatus> & { state: MinVRState }): void {
    const next: MinVRStatus = { clients: this.peers.size, ...status };
    const last = this.statusValue;
    this.statusValue = next;
    if (last.state === next.state && last.clients === next.clients && last.peerName === next.peerName && last.error?.message === next.error?.message) return;
    this.emit('status', next);
  }

  /** Maps the shared lifecycle's states to this endpoint's: `connected` means `listening` for a server. */
  protected followLink(status: LinkStatus, connectedAs: 'connected' | 'listening', peerName?: string): void {
    switch (status.state) {
      case 'connected':
        this.setStatus({ state: connectedAs, peerName });
        break;
      case 'reconnecting':
        this.setStatus({ state: 'reconnecting', error: status.error, retryInMs: status.retryInMs });
        break;
      case 'failed':
        this.setStatus({ state: 'failed', error: status.error });
        break;
      default:
        this.setStatus({ state: status.state });
    }
  }

  /** Every problem reaches 'problem' listeners; the log gets at most 20 lines a minute per endpoint, then one summary. */
  protected report(error: RealvirtualError, peer?: Peer): void {
    if (this.logBudget.take() === 'log') {
      const from = peer ? ` (peer ${clip(peer.info.name, 100)})` : '';
      this.logger.warn(`${clip(error.message)}${from}`);
    }
    if (this.listenerCount('problem') === 0) return;
    try {
      this.emit('problem', error, peer ? { ...peer.info } : undefined);
    } catch (thrown) {
      if (this.logBudget.take() === 'log') this.logger.warn(`a 'problem' listener threw: ${clip(String((thrown as Error)?.message ?? thrown))}`);
    }
  }
}
