import { EndpointShell, EndpointState, EndpointStatus, PeerInfo } from '../endpoint-shell';
import { ConnectionError, ProtocolError, RealvirtualError } from '../errors';
import { clip } from '../text';
import { VREvent } from './events';
import { OutgoingEvent } from './framing';
import { LinkHandlers, MinVRLink } from './link';
import { minvrUrl, MinVROptions, ResolvedMinVROptions, resolveMinVROptions } from './options';
import { PartialFrameBudget } from './partial-budget';
import type { TcpLinkSettings } from './tcp';
import type { WebSocketLinkSettings } from './websocket';

/** id "server" for the client's one peer, "peer-1", "peer-2"… for a server's peers; name "address:port". */
export type MinVRPeerInfo = PeerInfo;

/** The state of every endpoint (see EndpointState); the MinVR3 names are kept for compatibility. */
export type MinVRState = EndpointState;
export type MinVRStatus = EndpointStatus;

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
  link: MinVRLink;
}

/**
 * What the MinVR3 client and server share: their lifecycle (connect or listen, retry, close),
 * their peers, sending one event to all of them (encoded once), receiving, status and bounded
 * problem logging. A server never relays between its peers: what one sends is only emitted here.
 */
export abstract class MinVREndpoint extends EndpointShell<Peer, MinVREvents> {
  readonly settings: ResolvedMinVROptions;
  private readonly counters: MinVRStats = { eventsReceived: 0, eventsSent: 0, eventsUnsent: 0 };
  /** What every link of this endpoint is told: the options, and the partial-frame budget all its peers share. */
  protected readonly linkSettings: TcpLinkSettings & WebSocketLinkSettings;

  constructor(options: MinVROptions, role: 'client' | 'server') {
    const settings = resolveMinVROptions(options, role);
    super({ role, logger: settings.logger, clock: settings.clock, retry: settings.reconnect });
    this.settings = settings;
    this.linkSettings = { ...settings, partialBudget: new PartialFrameBudget(settings.maxPartialBytes) };
  }

  get transport(): 'tcp' | 'websocket' {
    return this.settings.transport;
  }

  abstract get port(): number;

  /** tcp://host:port or ws://host:port/path: where the server listens, or what the client connects to. */
  get url(): string {
    return minvrUrl(this.settings.transport, this.settings.host, this.port, this.settings.path);
  }

  get stats(): MinVRStats {
    return { ...this.counters };
  }

  /** Bytes of incomplete frames held for all peers together (at most maxPartialBytes). */
  get partialBytes(): number {
    return this.linkSettings.partialBudget.held;
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
          // Frames too large or too slow, slow readers: problems of that peer, worth a log line.
          if (error && error.code !== 'ERR_CONNECTION') this.report(error, peer);
          this.removePeer(peer, error ? error.message : 'closed');
        }
        onClosed(error);
      },
    };
  }
}
