import { Clock, systemClock, TimerHandle } from '../clock';
import { encodeSignals, SignalRecord } from './messages';
import { setOwn } from '../record';
import { Peer, SubscriptionGroup, subscriptionKey } from './peers';
import { SignalTable, SignalUpdate } from './signals';
import { SignalValue } from './values';

export interface ExchangeOptions {
  /** Flush period in ms; 0 = flush on every write. */
  cycleMs: number;
  /** Send only values that changed since a peer was last sent them (else every write signal each cycle). */
  onlyChanged: boolean;
  /** Send every intermediate value of a signal, one per cycle, in order. */
  preserveTransitions: boolean;
  /** Bound of each signal's transition queue; older values are dropped beyond it. */
  maxTransitions: number;
  /** A peer whose socket buffers more than this many bytes is skipped and conflated. */
  slowPeerBytes: number;
  /** A peer that stays over `slowPeerBytes` this long is disconnected; 0 = never. */
  slowPeerTimeoutMs: number;
}

/** Signals and their values in two lists, in order: what a cycle sends. */
interface SignalList {
  names: string[];
  values: SignalValue[];
}

export interface ExchangeHooks {
  /** A peer stayed slow past the timeout: the owner disconnects it. */
  slowPeer(peer: Peer, slowForMs: number): void;
  /** A signal's transition queue overflowed and dropped its oldest values. */
  transitionsDropped(name: string, dropped: number): void;
}

export interface ExchangeStats {
  /** Flushes run. */
  cycles: number;
  /** Frames encoded (one per distinct payload per cycle). */
  encodes: number;
  /** Frames handed to sockets. */
  frames: number;
  /** Bytes handed to sockets. */
  bytes: number;
}

/**
 * The cyclic exchange. Local writes mark signals dirty; each cycle builds at most one
 * `data` frame per subscription group, encodes it once and hands it to every peer of
 * the group. Peers that joined late, reconnected or fell behind get the full state.
 */
export class Exchange {
  readonly stats: ExchangeStats = { cycles: 0, encodes: 0, frames: 0, bytes: 0 };
  private readonly groups = new Map<string, SubscriptionGroup>();
  private readonly dirty = new Set<string>();
  private readonly transitions = new Map<string, SignalValue[]>();
  private writeVersion = 0;
  private peerCount = 0;
  private timer: TimerHandle | null = null;
  private lastFlush = 0;
  private closed = false;
  private flushing = false;
  /** Between beginBatch and commit: the batch's changed signals, the next cycle's values (see beginBatch). */
  private batch: SignalList | null = null;

  constructor(
    private readonly table: SignalTable,
    private readonly options: ExchangeOptions,
    private readonly hooks: ExchangeHooks,
    private readonly clock: Clock = systemClock,
  ) {}

  get cycleMs(): number {
    return this.options.cycleMs;
  }

  /** Number of distinct subscriptions among connected peers. */
  get groupCount(): number {
    return this.groups.size;
  }

  setCycleMs(cycleMs: number): void {
    this.options.cycleMs = cycleMs;
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.schedule();
    }
  }

  addPeer(peer: Peer): void {
    this.peerCount++;
    this.join(peer, null);
    peer.needsFullState = true;
    if (peer.quietUntil > this.clock.now()) {
      this.armQuiet(peer);
      return;
    }
    peer.quietUntil = 0;
    this.schedule();
  }

  removePeer(peer: Peer): void {
    if (!peer.group) return;
    this.stopQuiet(peer);
    this.peerCount--;
    this.leave(peer);
    if (this.peerCount === 0) {
      this.dirty.clear();
      this.transitions.clear();
    }
  }

  /**
   * Holds a new peer's full state at least `ms` from now: after its `init`, or after our
   * `import_answer`, a subscribe may follow, and then the peer must see only what it
   * subscribed to. No effect once the peer has had its full state or has subscribed.
   */
  holdFullState(peer: Peer, ms: number): void {
    if (peer.quietUntil === 0 || !peer.group) return;
    peer.quietUntil = Math.max(peer.quietUntil, this.clock.now() + ms);
    this.armQuiet(peer);
  }

  private armQuiet(peer: Peer): void {
    if (peer.quietTimer !== null) this.clock.clearTimeout(peer.quietTimer);
    peer.quietTimer = this.clock.setTimeout(() => this.releaseFullState(peer), Math.max(0, peer.quietUntil - this.clock.now()));
  }

  /** The hold is over without a subscribe: the peer gets the full state with the next cycle. */
  private releaseFullState(peer: Peer): void {
    if (peer.quietUntil === 0) return;
    this.stopQuiet(peer);
    if (peer.needsFullState && peer.group) this.schedule();
  }

  private stopQuiet(peer: Peer): void {
    peer.quietUntil = 0;
    if (peer.quietTimer !== null) this.clock.clearTimeout(peer.quietTimer);
    peer.quietTimer = null;
  }

  /** Moves a peer to the group of `names` and returns the snapshot it must be sent now. */
  subscribe(peer: Peer, names: readonly string[]): SignalRecord {
    const filter = new Set(names);
    this.leave(peer);
    this.join(peer, filter);
    this.stopQuiet(peer);
    peer.needsFullState = false;
    // A held peer had no cycle running for it (onlyChanged=false sends one every cycle).
    this.schedule();
    return this.table.values('write', filter);
  }

  /** Records one applied local write (call only for writes that changed the value). */
  written(update: SignalUpdate): void {
    this.writtenValue(update.signal.name, update.signal.value, update.previous);
  }

  /** written() by name: `value` replaced `previous` (undefined: the signal is new). */
  writtenValue(name: string, value: SignalValue, previous: SignalValue | undefined): void {
    if (this.peerCount === 0) return;
    this.writeVersion++;
    if (this.batch !== null) {
      this.batch.names.push(name);
      this.batch.values.push(value);
      return;
    }
    if (this.options.preserveTransitions && previous !== undefined) {
      let queue = this.transitions.get(name);
      if (!queue) {
        if (this.dirty.has(name)) {
          // The value pending since the last flush is the first transition.
          queue = [previous];
          this.transitions.set(name, queue);
        }
      }
      if (queue) {
        queue.push(value);
        if (queue.length > this.options.maxTransitions) {
          const dropped = queue.length - this.options.maxTransitions;
          queue.splice(0, dropped);
          this.hooks.transitionsDropped(name, dropped);
        }
      }
    }
    this.dirty.add(name);
  }

  /** Marks signals dirty whose values changed outside `written` (declarations). */
  touched(names: Iterable<string>): void {
    this.writeVersion++;
    if (this.peerCount === 0) return;
    for (const name of names) {
      const signal = this.table.get(name);
      if (signal !== undefined && signal.direction === 'write') this.dirty.add(name);
    }
  }

  /**
   * Starts a batch of writes whose names are all distinct. When the batch will be flushed
   * on its own at commit (cycleMs 0, nothing else pending), its changes are kept in order
   * as that cycle's values, without marking and looking up each signal again.
   */
  beginBatch(): void {
    const alone = this.options.cycleMs === 0 && !this.flushing && !this.options.preserveTransitions && this.dirty.size === 0 && this.transitions.size === 0;
    this.batch = alone && this.peerCount > 0 ? { names: [], values: [] } : null;
  }

  /** Ends a batch of writes: flushes at once when cycleMs is 0, else at the next cycle. */
  commit(): void {
    const batch = this.batch;
    this.batch = null;
    if (batch !== null) {
      if (batch.names.length > 0) this.flush(batch);
      return;
    }
    if (this.dirty.size === 0) return;
    if (this.options.cycleMs === 0 && !this.flushing) this.flush();
    else this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs one cycle now (and more while transitions remain when cycleMs is 0); `batch`: its values, instead of the dirty signals'. */
  flush(batch?: SignalList): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    this.flushing = true;
    try {
      do {
        this.flushOnce(batch);
        batch = undefined;
      } while (this.options.cycleMs === 0 && this.transitions.size > 0 && this.peerCount > 0);
    } finally {
      this.flushing = false;
    }
    if (this.needsAnotherCycle()) this.schedule();
  }

  private flushOnce(batch?: SignalList): void {
    this.lastFlush = this.clock.now();
    this.stats.cycles++;
    const cycle = batch ?? this.takeCycleValues();
    for (const group of this.groups.values()) this.flushGroup(group, cycle);
  }

  private needsAnotherCycle(): boolean {
    if (this.peerCount === 0) return false;
    if (this.dirty.size > 0 || this.transitions.size > 0 || !this.options.onlyChanged) return true;
    for (const group of this.groups.values()) {
      for (const peer of group.peers) if (peer.needsFullState && peer.quietUntil === 0) return true;
    }
    return false;
  }

  private schedule(): void {
    if (this.timer !== null || this.closed || this.peerCount === 0) return;
    const wait = Math.max(0, this.lastFlush + this.options.cycleMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  /** The value each dirty signal contributes to this cycle: its oldest queued transition, else its current value. */
  private takeCycleValues(): SignalList {
    const cycle: SignalList = { names: [], values: [] };
    const transitions = this.transitions.size > 0;
    for (const name of this.dirty) {
      const queue = transitions ? this.transitions.get(name) : undefined;
      if (queue) {
        cycle.names.push(name);
        cycle.values.push(queue.shift() as SignalValue);
        if (queue.length === 0) this.transitions.delete(name);
        continue;
      }
      const signal = this.table.get(name);
      if (signal !== undefined && signal.direction === 'write') {
        cycle.names.push(name);
        cycle.values.push(signal.value);
      }
    }
    this.dirty.clear();
    for (const name of this.transitions.keys()) this.dirty.add(name);
    return cycle;
  }

  private flushGroup(group: SubscriptionGroup, cycle: SignalList): void {
    const delta = this.changesFor(group, cycle);
    let deltaFrame: Buffer | null = null;
    const now = this.clock.now();
    for (const peer of group.peers) {
      if (this.isBehind(peer, now)) continue;
      if (peer.needsFullState && peer.quietUntil !== 0) continue;
      let frame: Buffer | null;
      if (peer.needsFullState || !this.options.onlyChanged) {
        frame = this.fullFrame(group, delta);
        peer.needsFullState = false;
      } else {
        if (delta === null) continue;
        if (deltaFrame === null) deltaFrame = this.encodeList(group, delta);
        frame = deltaFrame;
      }
      if (frame === null) continue;
      peer.link.send(frame);
      this.stats.frames++;
      this.stats.bytes += frame.length;
    }
  }

  /** Slow peers are skipped (their values conflate) and catch up with the full state once drained. */
  private isBehind(peer: Peer, now: number): boolean {
    if (peer.link.bufferedBytes <= this.options.slowPeerBytes) {
      peer.slowSince = 0;
      return false;
    }
    if (peer.slowSince === 0) peer.slowSince = now;
    peer.needsFullState = true;
    const slowFor = now - peer.slowSince;
    if (this.options.slowPeerTimeoutMs > 0 && slowFor >= this.options.slowPeerTimeoutMs) this.hooks.slowPeer(peer, slowFor);
    return true;
  }

  /** The values of a cycle that the group wants and was not sent yet; the cycle itself when that is all of it. */
  private changesFor(group: SubscriptionGroup, cycle: SignalList): SignalList | null {
    /** Set at the first value left out: the values kept so far, and then every other one kept. */
    let delta: SignalList | null = null;
    const { names, values } = cycle;
    const all = group.filter === null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = values[i];
      if ((all || group.wants(name)) && this.sendsNew(group, i, name, value)) {
        if (delta !== null) {
          delta.names.push(name);
          delta.values.push(value);
        }
      } else if (delta === null) {
        delta = { names: names.slice(0, i), values: values.slice(0, i) };
      }
    }
    if (delta === null) return names.length > 0 ? cycle : null;
    return delta.names.length > 0 ? delta : null;
  }

  /** Whether `value` differs from what the group was last sent of `name` (at `index` of the cycle); if so, it is noted as sent. */
  private sendsNew(group: SubscriptionGroup, index: number, name: string, value: SignalValue): boolean {
    const { lastCycle } = group;
    let sent = lastCycle.names[index] === name ? lastCycle.sent[index] : undefined;
    if (sent === undefined) {
      sent = group.lastSent.get(name);
      if (sent === undefined) {
        sent = { value };
        group.lastSent.set(name, sent);
        lastCycle.names[index] = name;
        lastCycle.sent[index] = sent;
        return true;
      }
      lastCycle.names[index] = name;
      lastCycle.sent[index] = sent;
    }
    if (sent.value === value) return false;
    sent.value = value;
    return true;
  }

  private fullFrame(group: SubscriptionGroup, delta: SignalList | null): Buffer | null {
    const pendingTransitions = delta !== null && this.transitions.size > 0;
    if (!pendingTransitions && group.fullFrameVersion === this.writeVersion) return group.fullFrame;
    const record = this.table.values('write', group.filter);
    if (pendingTransitions && delta) for (let i = 0; i < delta.names.length; i++) setOwn(record, delta.names[i], delta.values[i]);
    const frame = Object.keys(record).length === 0 ? null : this.encode(record);
    if (!pendingTransitions) {
      group.fullFrame = frame;
      group.fullFrameVersion = this.writeVersion;
    }
    return frame;
  }

  private encode(record: SignalRecord): Buffer {
    this.stats.encodes++;
    return Buffer.from(encodeSignals('data', record));
  }

  private encodeList(group: SubscriptionGroup, list: SignalList): Buffer {
    this.stats.encodes++;
    return group.encoder.encode('data', list.names, list.values);
  }

  private join(peer: Peer, filter: ReadonlySet<string> | null): void {
    const key = subscriptionKey(filter);
    let group = this.groups.get(key);
    if (!group) {
      group = new SubscriptionGroup(key, filter);
      for (const signal of this.table) {
        if (signal.direction === 'write' && group.wants(signal.name)) group.lastSent.set(signal.name, { value: signal.value });
      }
      this.groups.set(key, group);
    }
    group.peers.add(peer);
    peer.group = group;
  }

  private leave(peer: Peer): void {
    const group = peer.group;
    if (!group) return;
    group.peers.delete(peer);
    peer.group = null;
    if (group.peers.size === 0) this.groups.delete(group.key);
  }
}
