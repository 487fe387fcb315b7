import { MinVRPeerInfo, VREvent } from '../../../engine';
import { MinVRConnection } from '../minvr-connection';
import { ConnectionHeader } from './signal-watch';
import { newRow, RowSet } from './rows';

/** Most event names the monitor keeps per MinVR3 connection: a peer that sends ever new names cannot grow memory without bound. */
export const MAX_EVENT_NAMES = 10000;
/** Longest JSON of an event's data the monitor keeps. */
const MAX_DATA_TEXT = 200;

/** The last MinVR3 event per name, with its type and data, followed only while an editor watches. */
export class EventWatch {
  readonly rows = new RowSet();
  /** Events of new names left out because MAX_EVENT_NAMES were kept. */
  skipped = 0;
  private current: MinVRConnection['engine'] = null;
  private detach: (() => void) | null = null;

  constructor(readonly connection: MinVRConnection) {}

  sync(): void {
    const endpoint = this.connection.engine;
    if (endpoint === this.current) return;
    this.stop();
    this.current = endpoint;
    if (!endpoint) return;
    const onEvent = (event: VREvent, peer: MinVRPeerInfo): void => this.record(event, peer.name);
    endpoint.on('event', onEvent);
    this.detach = () => endpoint.off('event', onEvent);
  }

  measure(elapsedMs: number): void {
    this.rows.measureRates(elapsedMs, this.rows.byName.values());
  }

  header(): ConnectionHeader {
    const endpoint = this.connection.engine;
    return {
      kind: 'minvr',
      mode: this.connection.settings?.mode ?? '',
      state: endpoint ? endpoint.status.state : 'closed',
      url: this.connection.url,
      peers: endpoint ? endpoint.clients.map((peer) => ({ name: peer.name, address: peer.name, since: 0, subscription: null, framesPerSec: null })) : [],
    };
  }

  stop(): void {
    if (this.detach) this.detach();
    this.detach = null;
    this.current = null;
  }

  private record(event: VREvent, peer: string): void {
    let row = this.rows.byName.get(event.name);
    if (!row) {
      if (this.rows.size >= MAX_EVENT_NAMES) {
        this.skipped++;
        return;
      }
      row = newRow(event.name, event.type || '(none)', 'read', null);
      this.rows.add(row);
    }
    row.type = event.type || '(none)';
    const data = (event as { data?: unknown }).data;
    let text = data === undefined ? '' : (JSON.stringify(data) ?? '');
    if (text.length > MAX_DATA_TEXT) text = `${text.slice(0, MAX_DATA_TEXT)}…`;
    row.value = text;
    row.at = Date.now();
    row.by = peer;
    row.changes++;
  }
}
