import { internals } from '../../../engine';

const { clip } = internals;

/** What the monitor keeps of one signal or MinVR3 event name. */
export interface Row {
  name: string;
  /** The name in lower case, for the search box. */
  lower: string;
  /** Bool, Int, Float, Text (signals) or the VREvent's type name (MinVR3). */
  type: string;
  /** "read" (we receive it) or "write" (we send it). */
  direction: 'read' | 'write';
  value: unknown;
  /** Time of the last change seen (ms since the epoch); 0 = not since watching began. */
  at: number;
  /** Who made the last change: a peer's name, "flow" or "editor:<user>". */
  by: string;
  changes: number;
  /** Changes per second over the last full second; null until measured. */
  rate: number | null;
  /** `changes` at the start of the current rate window. */
  mark: number;
}

export function newRow(name: string, type: string, direction: 'read' | 'write', value: unknown): Row {
  return { name, lower: name.toLowerCase(), type, direction, value, at: 0, by: '', changes: 0, rate: null, mark: 0 };
}

/** Longest text of a value the editor is sent (a Text signal may be large). */
export const MAX_SHOWN_TEXT = 1000;

export function shownValue(value: unknown): unknown {
  return typeof value === 'string' ? clip(value, MAX_SHOWN_TEXT) : value;
}

/** Equal as values go (NaN equals NaN, so that it does not count as a change every time). */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

/** Rows by name, sorted only when names were added or removed. */
export class RowSet {
  readonly byName = new Map<string, Row>();
  private order: Row[] = [];
  private sorted = true;

  get size(): number {
    return this.byName.size;
  }

  add(row: Row): void {
    this.byName.set(row.name, row);
    this.order.push(row);
    this.sorted = false;
  }

  /** Deletes many rows in one pass over the order. */
  deleteAll(names: readonly string[]): void {
    let deleted = false;
    for (const name of names) if (this.byName.delete(name)) deleted = true;
    if (deleted) this.order = this.order.filter((row) => this.byName.get(row.name) === row);
  }

  /** Every row, sorted by name. */
  list(): readonly Row[] {
    if (!this.sorted) {
      this.order.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.sorted = true;
    }
    return this.order;
  }

  /** Once a second: each row's changes per second since the last call. */
  measureRates(elapsedMs: number, rows: Iterable<Row>): void {
    for (const row of rows) {
      row.rate = elapsedMs > 0 ? Math.round(((row.changes - row.mark) * 10000) / elapsedMs) / 10 : 0;
      row.mark = row.changes;
    }
  }
}
