import { Connection } from '../connection';

export interface Hold {
  value: unknown;
  /** "editor:<user>" of whoever set it. */
  origin: string;
}

/**
 * The signals an editor holds (forces, as a PLC's force table does) on one connection:
 * any other write to a held signal is followed at once by the held value again, so the
 * peer keeps getting it until the hold is released. Lives as long as the connection
 * object (a deploy that restarts the connection releases every hold).
 */
export class Holds {
  readonly held = new Map<string, Hold>();
  private readonly observer = (applied: readonly string[], origin: string): void => this.reapply(applied, origin);
  private reapplying = false;

  constructor(private readonly connection: Connection) {}

  set(name: string, hold: Hold): void {
    this.held.set(name, hold);
    this.connection.writeObservers.add(this.observer);
  }

  release(name: string): boolean {
    const released = this.held.delete(name);
    if (this.held.size === 0) this.connection.writeObservers.delete(this.observer);
    return released;
  }

  private reapply(applied: readonly string[], _origin: string): void {
    if (this.reapplying) return;
    let again: Array<[string, unknown]> | null = null;
    for (const name of applied) {
      const hold = this.held.get(name);
      if (hold) (again ??= []).push([name, hold.value]);
    }
    if (!again) return;
    this.reapplying = true;
    try {
      // One write per origin so that the monitor names whoever holds each signal.
      for (const [name, value] of again) this.connection.write([[name, value]], this.held.get(name)!.origin);
    } finally {
      this.reapplying = false;
    }
  }
}

const holdsOf = new WeakMap<Connection, Holds>();

export function holdsFor(connection: Connection): Holds {
  let holds = holdsOf.get(connection);
  if (!holds) {
    holds = new Holds(connection);
    holdsOf.set(connection, holds);
  }
  return holds;
}

export function existingHolds(connection: Connection): Holds | undefined {
  return holdsOf.get(connection);
}
