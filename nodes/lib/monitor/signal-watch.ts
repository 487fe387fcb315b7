import { DataEvent, Endpoint, ShapeToken, Signal, SignalBatch, SignalTable } from '../../../engine';
import { Connection } from '../connection';
import { existingHolds } from './holds';
import { newRow, Row, RowSet, sameValue } from './rows';

/** What the editor is shown of a connection above its rows. */
export interface ConnectionHeader {
  kind: 'realvirtual' | 'minvr';
  mode: string;
  state: string;
  url: string;
  peers: Array<{ name: string; address: string; since: number; subscription: number | null; framesPerSec: number | null }>;
}

/** A row and the table's signal it shows. */
interface Link {
  row: Row;
  signal: Signal;
  /** The signal's `changedAt` the row last counted. */
  seen: number;
}

/**
 * The signals of one realvirtual connection as the monitor sees them, only while an editor
 * watches. Every tick it reads what changed in the table since the last tick: one number
 * compared per signal (its `changedAt`), and nothing at all when the table's change
 * sequence did not move; a row's value is read from its signal only when an editor is
 * sent the row. The rows an editor shows (`visible`) are followed on every received frame
 * and every write, so that their changes per second and who changed them are exact,
 * while the hot path costs nothing for the rows nobody looks at.
 */
export class SignalWatch {
  readonly rows = new RowSet();
  private endpoint: Endpoint | null = null;
  /** The link of every row, by name and in the table's order. */
  private links = new Map<string, Link>();
  private linkList: Link[] = [];
  /** The table's layoutVersion and changeSequence the links and rows reflect (-1: not yet read). */
  private layout = -1;
  private sequence = -1;
  private visible: string[] = [];
  private lastPeer = '';
  private lastOrigin = 'flow';
  private readonly frameMarks = new Map<string, number>();
  private readonly frameRates = new Map<string, number>();
  private readonly detachers: Array<() => void> = [];
  /** The links of the visible names the last batch of a shape carried (see visibleIn). */
  private carried: { shape: ShapeToken; visible: string[]; layout: number; links: Link[] } | null = null;

  constructor(readonly connection: Connection) {}

  /** The rows whose every change is followed (the editors' windows). */
  setVisible(names: Iterable<string>): void {
    const next = [...new Set(names)];
    // The same list stays the same array, so that visibleIn keeps what it worked out for it.
    if (next.length !== this.visible.length || next.some((name, i) => name !== this.visible[i])) this.visible = next;
  }

  /** Follows the connection's current endpoint and reads what changed since the last tick. */
  sync(now: number): void {
    const endpoint = this.connection.engine;
    if (endpoint !== this.endpoint) {
      this.stop();
      if (endpoint) this.start(endpoint);
    }
    if (!endpoint) return;
    const table = endpoint.table;
    if (table.layoutVersion !== this.layout) this.relink(table, now);
    const sequence = table.changeSequence;
    if (sequence === this.sequence) return;
    this.sequence = sequence;
    for (const link of this.linkList) {
      const signal = link.signal;
      if (signal.changedAt === link.seen) continue;
      link.seen = signal.changedAt;
      this.changed(link.row, signal, now, signal.direction === 'read' ? this.lastPeer : this.lastOrigin);
    }
  }

  /** The rows' values as the table holds them now (only the rows an editor is sent read them). */
  refresh(rows: readonly Row[]): void {
    for (const row of rows) {
      const link = this.links.get(row.name);
      if (link !== undefined) row.value = link.signal.value;
    }
  }

  /** Once a second: changes per second of the visible rows and frames per second of each peer. */
  measure(elapsedMs: number): void {
    this.rows.measureRates(elapsedMs, this.visibleRows());
    const peers = this.connection.peerLog?.peers;
    if (!peers) return;
    for (const [id, peer] of peers) {
      const mark = this.frameMarks.get(id);
      if (mark !== undefined && elapsedMs > 0) this.frameRates.set(id, Math.round(((peer.frames - mark) * 10000) / elapsedMs) / 10);
      this.frameMarks.set(id, peer.frames);
    }
    for (const id of this.frameMarks.keys()) {
      if (!peers.has(id)) {
        this.frameMarks.delete(id);
        this.frameRates.delete(id);
      }
    }
  }

  header(): ConnectionHeader {
    const endpoint = this.connection.engine;
    const peers = [...(this.connection.peerLog?.peers.values() ?? [])].map((peer) => ({
      name: peer.name,
      address: peer.address,
      since: peer.since,
      subscription: peer.subscription,
      framesPerSec: this.frameRates.get(peer.id) ?? null,
    }));
    return {
      kind: 'realvirtual',
      mode: this.connection.mode ?? '',
      state: endpoint ? endpoint.status.state : this.connection.settingsError ? 'failed' : 'closed',
      url: this.connection.url,
      peers: endpoint ? peers : [],
    };
  }

  /** The value the editor holds on this signal, if any. */
  heldValue(name: string): unknown {
    return existingHolds(this.connection)?.held.get(name)?.value;
  }

  isHeld(name: string): boolean {
    return existingHolds(this.connection)?.held.has(name) ?? false;
  }

  stop(): void {
    for (const detach of this.detachers.splice(0)) detach();
    this.endpoint = null;
  }

  /**
   * After signals were added, removed or replaced (declared again, or a new endpoint with
   * a table of its own): a row for each new signal, none for a removed one, and a replaced
   * signal counts as a change when its value differs or it changed unseen before.
   */
  private relink(table: SignalTable, now: number): void {
    this.layout = table.layoutVersion;
    const previous = this.links;
    const links = new Map<string, Link>();
    const list: Link[] = [];
    for (const signal of table) {
      let link = previous.get(signal.name);
      if (link === undefined) {
        const row = newRow(signal.name, signal.valueType, signal.direction, signal.value);
        this.rows.add(row);
        link = { row, signal, seen: signal.changedAt };
      } else if (link.signal !== signal) {
        const before = link.signal;
        if (before.changedAt !== link.seen || !sameValue(before.value, signal.value)) this.changed(link.row, signal, now, signal.direction === 'read' ? this.lastPeer : this.lastOrigin);
        link.row.type = signal.valueType;
        link.row.direction = signal.direction;
        link.signal = signal;
        link.seen = signal.changedAt;
      }
      links.set(signal.name, link);
      list.push(link);
    }
    if (links.size < previous.size) this.rows.deleteAll([...previous.keys()].filter((name) => !links.has(name)));
    this.links = links;
    this.linkList = list;
  }

  private start(endpoint: Endpoint): void {
    this.endpoint = endpoint;
    this.layout = -1;
    this.sequence = -1;
    const onData = (event: DataEvent): void => {
      this.lastPeer = event.peer.name;
      const peer = this.connection.peerLog?.peers.get(event.peer.id);
      if (peer) peer.frames++;
      if (this.visible.length > 0) this.follow(endpoint, this.visibleIn(event.batch), event.peer.name);
    };
    const onWrite = (applied: readonly string[], origin: string): void => {
      this.lastOrigin = origin;
      if (this.visible.length === 0) return;
      // Few names per write (a flow's message): look each up; many: check only the visible ones.
      const names = applied.length <= this.visible.length ? applied : this.visible;
      this.follow(endpoint, this.linksOf(names), origin);
    };
    endpoint.on('data', onData);
    this.connection.writeObservers.add(onWrite);
    this.detachers.push(
      () => endpoint.off('data', onData),
      () => this.connection.writeObservers.delete(onWrite),
    );
  }

  /**
   * The links of the visible names a batch carries. Worked out once for batches of one shape in a row,
   * and from the batch's names, never from the event's `values` record: reading that would
   * build a record of every signal for every frame (10,000 signals at 100 frames/s cost
   * half a core).
   */
  private visibleIn(batch: SignalBatch): readonly Link[] {
    const carried = this.carried;
    if (batch.shape !== null && carried !== null && carried.shape === batch.shape && carried.visible === this.visible && carried.layout === this.layout) return carried.links;
    const visible = new Set(this.visible);
    const links = this.linksOf(batch.names.filter((name) => visible.has(name)));
    this.carried = batch.shape === null ? null : { shape: batch.shape, visible: this.visible, layout: this.layout, links };
    return links;
  }

  private linksOf(names: readonly string[]): Link[] {
    const links: Link[] = [];
    for (const name of names) {
      const link = this.links.get(name);
      if (link !== undefined) links.push(link);
    }
    return links;
  }

  private follow(endpoint: Endpoint, links: readonly Link[], by: string): void {
    // Signals added or replaced since the last tick are read by the next one (relink).
    if (links.length === 0 || endpoint.table.layoutVersion !== this.layout) return;
    const now = Date.now();
    for (const link of links) {
      const signal = link.signal;
      if (signal.changedAt !== link.seen) {
        link.seen = signal.changedAt;
        this.changed(link.row, signal, now, by);
      } else if (by.startsWith('editor:')) {
        link.row.by = by;
      }
    }
  }

  /** Counts a change; the row's value is read when the row is sent (refresh), not here. */
  private changed(row: Row, signal: Signal, now: number, by: string): void {
    row.type = signal.valueType;
    row.direction = signal.direction;
    row.at = now;
    row.by = by;
    row.changes++;
  }

  private *visibleRows(): Iterable<Row> {
    for (const name of this.visible) {
      const row = this.rows.byName.get(name);
      if (row) yield row;
    }
  }
}
