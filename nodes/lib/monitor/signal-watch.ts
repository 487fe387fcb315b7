import { DataEvent, Endpoint, ShapeToken, SignalBatch } from '../../../engine';
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

/**
 * The signals of one realvirtual connection as the monitor sees them, only while an editor
 * watches. Every tick it compares the table with what it last saw (one pass over the
 * signals every 100 ms); the rows an editor shows (`visible`) are followed on every
 * received frame and every write, so that their changes per second and who changed
 * them are exact, while the hot path costs nothing for the rows nobody looks at.
 */
export class SignalWatch {
  readonly rows = new RowSet();
  private endpoint: Endpoint | null = null;
  private visible: string[] = [];
  private lastPeer = '';
  private lastOrigin = 'flow';
  private readonly frameMarks = new Map<string, number>();
  private readonly frameRates = new Map<string, number>();
  private readonly detachers: Array<() => void> = [];
  /** The visible names the last batch of a shape carried (see visibleIn). */
  private carried: { shape: ShapeToken; visible: string[]; names: string[] } | null = null;

  constructor(readonly connection: Connection) {}

  /** The rows whose every change is followed (the editors' windows). */
  setVisible(names: Iterable<string>): void {
    this.visible = [...new Set(names)];
  }

  /** Follows the connection's current endpoint and reads what changed since the last tick. */
  sync(now: number): void {
    const endpoint = this.connection.engine;
    if (endpoint !== this.endpoint) {
      this.stop();
      if (endpoint) this.start(endpoint);
    }
    if (!endpoint) return;
    const rows = this.rows;
    for (const signal of endpoint.table) {
      const row = rows.byName.get(signal.name);
      if (row === undefined) {
        rows.add(newRow(signal.name, signal.valueType, signal.direction, signal.value));
        continue;
      }
      row.type = signal.valueType;
      row.direction = signal.direction;
      if (!sameValue(row.value, signal.value)) this.changed(row, signal.value, now, signal.direction === 'read' ? this.lastPeer : this.lastOrigin);
    }
    if (rows.size > endpoint.table.size) for (const name of [...rows.byName.keys()]) if (!endpoint.table.has(name)) rows.delete(name);
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

  private start(endpoint: Endpoint): void {
    this.endpoint = endpoint;
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
      const names = applied.length <= this.visible.length ? applied.filter((name) => this.rows.byName.has(name)) : this.visible;
      this.follow(endpoint, names, origin);
    };
    endpoint.on('data', onData);
    this.connection.writeObservers.add(onWrite);
    this.detachers.push(
      () => endpoint.off('data', onData),
      () => this.connection.writeObservers.delete(onWrite),
    );
  }

  /**
   * The visible names a batch carries. Worked out once for batches of one shape in a row,
   * and from the batch's names, never from the event's `values` record: reading that would
   * build a record of every signal for every frame (10,000 signals at 100 frames/s cost
   * half a core).
   */
  private visibleIn(batch: SignalBatch): readonly string[] {
    const carried = this.carried;
    if (batch.shape !== null && carried !== null && carried.shape === batch.shape && carried.visible === this.visible) return carried.names;
    const visible = new Set(this.visible);
    const names = batch.names.filter((name) => visible.has(name));
    this.carried = batch.shape === null ? null : { shape: batch.shape, visible: this.visible, names };
    return names;
  }

  private follow(endpoint: Endpoint, names: readonly string[], by: string): void {
    if (names.length === 0) return;
    const now = Date.now();
    for (const name of names) {
      const row = this.rows.byName.get(name);
      const signal = endpoint.table.get(name);
      if (row !== undefined && signal !== undefined && !sameValue(row.value, signal.value)) this.changed(row, signal.value, now, by);
      else if (row !== undefined && by.startsWith('editor:')) row.by = by;
    }
  }

  private changed(row: Row, value: unknown, now: number, by: string): void {
    row.value = value;
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
