import { ShapeToken, SignalBatch, SignalValue } from '../../engine';

/**
 * The positions of a batch's names that a node's filter wants (every position without a
 * filter), listed once per shape token: while a peer's messages carry the same token,
 * the names are not looked up again.
 */
export class WantedPositions {
  private shape: ShapeToken | null = null;
  private positions: number[] = [];

  constructor(private readonly filter: ReadonlySet<string> | null) {}

  of(batch: SignalBatch): readonly number[] {
    if (batch.shape !== null && batch.shape === this.shape) return this.positions;
    const { names } = batch;
    const filter = this.filter;
    const positions: number[] = [];
    for (let i = 0; i < names.length; i++) if (filter === null || filter.has(names[i])) positions.push(i);
    if (batch.shape !== null) {
      this.shape = batch.shape;
      this.positions = positions;
    }
    return positions;
  }
}

/**
 * What a node last reported per signal, so that it reports what changed (the first
 * message reports every wanted signal). While the batches carry one shape token the
 * values are compared by position, without a lookup per signal; they are kept by name
 * again when the token changes.
 */
export class ReportedValues {
  /** Batches compared by position and by name: how a test sees that the fast path is taken. */
  readonly counts = { byPosition: 0, byName: 0 };
  /** The positions (in the last batch compared) of the values to report: the first `count` that compare() returned. */
  readonly positions: number[] = [];
  private readonly byName = new Map<string, SignalValue>();
  private readonly wanted: WantedPositions;
  private shape: ShapeToken | null = null;
  /** With `shape`: the wanted positions, and the value last reported at each (undefined: none yet). */
  private shapePositions: readonly number[] = [];
  private shapeLast: Array<SignalValue | undefined> = [];

  constructor(private readonly filter: ReadonlySet<string> | null) {
    this.wanted = new WantedPositions(filter);
  }

  /** Notes the batch's values; returns how many differ from the ones last reported (their positions: `positions`). */
  compare(batch: SignalBatch): number {
    const { names, values, shape } = batch;
    if (shape !== this.shape) this.adopt(shape, names);
    const out = this.positions;
    let count = 0;
    if (shape !== null) {
      this.counts.byPosition++;
      const positions = this.shapePositions;
      const last = this.shapeLast;
      for (let k = 0; k < positions.length; k++) {
        const value = values[positions[k]];
        if (last[k] !== value) {
          last[k] = value;
          out[count++] = positions[k];
        }
      }
      return count;
    }
    this.counts.byName++;
    const filter = this.filter;
    const byName = this.byName;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (filter !== null && !filter.has(name)) continue;
      const value = values[i];
      if (byName.get(name) !== value || !byName.has(name)) {
        byName.set(name, value);
        out[count++] = i;
      }
    }
    return count;
  }

  /** Keeps the values by name again, then (with a token) by the positions of its names. */
  private adopt(shape: ShapeToken | null, names: readonly string[]): void {
    if (this.shape !== null) {
      const shapeNames = this.shape.names;
      for (let k = 0; k < this.shapePositions.length; k++) {
        const last = this.shapeLast[k];
        if (last !== undefined) this.byName.set(shapeNames[this.shapePositions[k]], last);
      }
    }
    this.shape = shape;
    if (shape === null) {
      this.shapePositions = [];
      this.shapeLast = [];
      return;
    }
    this.shapePositions = this.wanted.of({ names, values: [], shape });
    this.shapeLast = this.shapePositions.map((i) => this.byName.get(names[i]));
  }
}
