import { Clock, systemClock, TimerHandle } from '../clock';
import { PeerInfo, PeerLink } from '../endpoint-shell';
import { SignalFrameEncoder } from './frame-encoder';
import { PendingRequests } from './requests';
import { SignalValue } from './values';

export { PeerInfo };

/** A realvirtual peer's link: text frames, and a WebSocket close the peer can read. */
export interface FrameLink extends PeerLink<Buffer> {
  /** Closes the connection with a reason the peer can see. */
  close(code: number, reason: string): void;
}

/** The value of one signal that a group's peers were sent last. */
export interface SentValue {
  value: SignalValue;
}

/**
 * Peers with the same subscription share one group, so that one cycle encodes each
 * distinct frame once. The group remembers what its peers were last sent.
 */
export class SubscriptionGroup {
  readonly peers = new Set<Peer>();
  readonly lastSent = new Map<string, SentValue>();
  /** The entries of `lastSent` for the names of the last cycle, by position: cycles mostly list the same names in the same order. */
  readonly lastCycle = { names: [] as string[], sent: [] as SentValue[] };
  /** Encodes the group's `data` frames (it knows the names of the last one). */
  readonly encoder = new SignalFrameEncoder();
  /** Encoded full state, valid while `fullFrameVersion` equals the table's write version. */
  fullFrame: Buffer | null = null;
  fullFrameVersion = -1;

  constructor(
    readonly key: string,
    /** The subscribed names; null = every signal. */
    readonly filter: ReadonlySet<string> | null,
  ) {}

  wants(name: string): boolean {
    return this.filter === null || this.filter.has(name);
  }
}

/** One connected peer: its name from `init`, its subscription, and its send state. */
export class Peer implements PeerInfo {
  name: string;
  group: SubscriptionGroup | null = null;
  /** Set until the peer has received our full state once (late joiners, reconnects). */
  needsFullState = true;
  /**
   * Until this time (ms) a new client's full state is held, so that a client about to
   * subscribe is not first sent everything: its subscribe ends the hold (with a snapshot),
   * its init and our import_answer extend it (Exchange.holdFullState). 0 = not holding.
   */
  quietUntil = 0;
  quietTimer: TimerHandle | null = null;
  /** Since when (ms) the peer's socket has been over the slow-peer threshold; 0 = keeping up. */
  slowSince = 0;
  /** Protocol versions above ours are warned about once per peer. */
  versionWarned = false;
  /** Per-signal error keys already reported for this peer, so a bad peer cannot flood the log. */
  readonly reported = new Set<string>();
  /** Import and config requests waiting for this peer's answer. */
  readonly requests: PendingRequests;

  constructor(
    readonly id: string,
    name: string,
    readonly link: FrameLink,
    clock: Clock = systemClock,
  ) {
    this.name = name;
    this.requests = new PendingRequests(clock);
  }

  get info(): PeerInfo {
    return { id: this.id, name: this.name };
  }

  get subscription(): ReadonlySet<string> | null {
    return this.group ? this.group.filter : null;
  }
}

export function subscriptionKey(names: ReadonlySet<string> | null): string {
  if (names === null) return '*';
  return JSON.stringify([...names].sort());
}
