import { Endpoint, PeerInfo } from '../../../engine';

/** What the signal monitor shows of one connected peer. */
export interface PeerEntry {
  id: string;
  name: string;
  /** The address the peer connected from (a server names a client "address:port" until its init). */
  address: string;
  /** When it connected (ms since the epoch). */
  since: number;
  /** How many names it subscribed to; null = every signal. */
  subscription: number | null;
  /** Data and snapshot frames received, counted only while an editor watches. */
  frames: number;
}

/**
 * The peers of one realvirtual endpoint, kept from its connect, init, subscribe and
 * disconnect events: these are rare, so they are followed all the time and the monitor
 * knows when and from where a peer came even if nobody watched then.
 */
export class PeerLog {
  readonly peers = new Map<string, PeerEntry>();

  constructor(endpoint: Endpoint) {
    endpoint.on('connect', (peer: PeerInfo) => {
      this.peers.set(peer.id, { id: peer.id, name: peer.name, address: peer.name, since: Date.now(), subscription: null, frames: 0 });
    });
    endpoint.on('init', (peer: PeerInfo) => {
      const entry = this.peers.get(peer.id);
      if (entry) entry.name = peer.name;
    });
    endpoint.on('subscribe', (peer: PeerInfo, names: string[]) => {
      const entry = this.peers.get(peer.id);
      if (entry) entry.subscription = names.length;
    });
    endpoint.on('disconnect', (peer: PeerInfo) => {
      this.peers.delete(peer.id);
    });
  }
}
