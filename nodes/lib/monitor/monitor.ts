import crypto from 'crypto';
import { internals, RealvirtualError, SignalError } from '../../../engine';
import { Connection } from '../connection';
import { MinVRConnection } from '../minvr-connection';
import { NodeAPI } from '../red';
import { EventWatch } from './event-watch';
import { holdsFor, existingHolds } from './holds';
import { allows, READ_PERMISSION } from './permissions';
import { Row, shownValue } from './rows';
import { ConnectionHeader, SignalWatch } from './signal-watch';

const { clip } = internals;

/** One update per editor at most this often. */
export const TICK_MS = 100;
/** An editor that does not renew its watch within this time is forgotten (the editor renews every 5 s). */
export const LEASE_MS = 15000;
/** Editors (browser tabs) that may watch at once. */
export const MAX_WATCHERS = 32;
/** Rows one editor may show at once (its scroll window). */
export const MAX_WINDOW = 500;
/** Longest search text. */
export const MAX_SEARCH = 200;
/** Most names a view may be limited to (a realvirtual-in node's signals). */
export const MAX_NAMES = 10000;

export type DirectionFilter = 'all' | 'read' | 'write';

export interface ViewQuery {
  /** The connection node's id ("" = none chosen yet: the first one). */
  connection: string;
  search: string;
  direction: DirectionFilter;
  /** Only rows changed within this many ms (0 = all). */
  recentMs: number;
  offset: number;
  limit: number;
  /** Only these names (a node's signals), or null for all. */
  names: ReadonlySet<string> | null;
}

export interface ConnectionSummary {
  id: string;
  name: string;
  kind: 'realvirtual' | 'minvr';
  state: string;
}

/** One row as the editor gets it: [position, name, type, direction, value, at, by, rate, held (0/1)]. */
export type RowFrame = [number, string, string, string, unknown, number, string, number | null, number];

/** What one editor is sent: everything on watch, then only what changed. */
export interface MonitorFrame {
  watch: string;
  /** Which view query the frame answers: a frame of an earlier query (still on its way over comms) is dropped. */
  gen: number;
  seq: number;
  now: number;
  connection: string;
  connections?: ConnectionSummary[];
  header?: ConnectionHeader;
  total?: number;
  offset?: number;
  rows?: RowFrame[];
  canWrite?: boolean;
}

interface Watcher {
  id: string;
  user: string;
  query: ViewQuery;
  leaseUntil: number;
  gen: number;
  seq: number;
  sentRows: Map<number, string>;
  sentTotal: number;
  sentHeader: string;
  sentConnections: string;
  /** The names in its current window, followed exactly. */
  window: string[];
}

type CommsSessions = Map<string, { username: string; permissions: unknown }>;

/**
 * The comms sessions of one runtime, followed by one pair of listeners per event emitter
 * (Node-RED's events are process-wide, while a Monitor is made per admin app).
 */
const sessionsByEvents = new WeakMap<object, CommsSessions>();
function commsSessionsOf(events: MonitorRED['events']): CommsSessions {
  if (!events) return new Map();
  const sessions = sessionsByEvents.get(events);
  if (sessions) return sessions;
  const known: CommsSessions = new Map();
  sessionsByEvents.set(events, known);
  events.on('comms:connection-added', (event: { session?: string; user?: { username?: string; permissions?: unknown } }) => {
    if (event?.session && event.user) known.set(event.session, { username: String(event.user.username ?? ''), permissions: event.user.permissions });
  });
  events.on('comms:connection-removed', (event: { session?: string }) => {
    if (event?.session) known.delete(event.session);
  });
  return known;
}

export class MonitorError extends RealvirtualError {
  constructor(
    code: ConstructorParameters<typeof RealvirtualError>[0],
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

interface MonitorRED extends NodeAPI {
  nodes: NodeAPI['nodes'] & { eachNode?(callback: (definition: { id: string; type: string; name?: string }) => void): void };
  events?: { on(event: string, listener: (...args: never[]) => void): void; emit(event: string, payload: unknown): void };
  comms?: { publish(topic: string, data: unknown, retain?: boolean): void };
}

type Watched = { kind: 'realvirtual'; watch: SignalWatch } | { kind: 'minvr'; watch: EventWatch };

/**
 * The live signal monitor's runtime side: which editors watch (each with its own view
 * query and scroll window), the watch of each connection they look at, and a tick every
 * 100 ms that sends each editor, over Node-RED's comms, only what changed in its view.
 * Nothing is followed while no editor watches.
 */
export class Monitor {
  private readonly watchers = new Map<string, Watcher>();
  private readonly watched = new Map<string, Watched>();
  /** Comms sessions and their users (adminAuth on): updates go only to the sessions of the watcher's user. */
  private readonly sessions: CommsSessions;
  private timer: NodeJS.Timeout | null = null;
  private lastMeasure = 0;
  /** The deployed connections, read once per tick (walking the flows is not free in a large one). */
  private summaries: ConnectionSummary[] | null = null;

  constructor(private readonly RED: MonitorRED) {
    this.sessions = commsSessionsOf(RED.events);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Every deployed realvirtual and MinVR3 connection. */
  connections(): ConnectionSummary[] {
    const found: ConnectionSummary[] = [];
    this.RED.nodes.eachNode?.((definition) => {
      if (definition.type !== 'realvirtual-connection' && definition.type !== 'minvr-connection') return;
      const connection = this.connectionOf(definition.id);
      if (!connection) return;
      const kind = connection instanceof Connection ? 'realvirtual' : 'minvr';
      const endpoint = connection.engine;
      found.push({
        id: definition.id,
        name: definition.name || (kind === 'realvirtual' ? (connection as Connection).url : connection.url) || definition.id,
        kind,
        state: endpoint ? endpoint.status.state : 'closed',
      });
    });
    return found;
  }

  connectionOf(id: string): Connection | MinVRConnection | null {
    const node = this.RED.nodes.getNode(id) as { connection?: unknown } | null;
    const connection = node?.connection;
    return connection instanceof Connection || connection instanceof MinVRConnection ? connection : null;
  }

  /** Starts or changes an editor's watch; answers with its full view. */
  watch(id: string | undefined, user: string, query: ViewQuery, canWrite: boolean): MonitorFrame {
    let watcher = id ? this.watchers.get(id) : undefined;
    if (watcher && watcher.user !== user) watcher = undefined;
    if (!watcher) {
      if (this.watchers.size >= MAX_WATCHERS) throw new MonitorError('ERR_TOO_MANY_WATCHERS', `at most ${MAX_WATCHERS} editors can watch at once`, 429);
      watcher = { id: crypto.randomUUID(), user, query, leaseUntil: 0, gen: 0, seq: 0, sentRows: new Map(), sentTotal: -1, sentHeader: '', sentConnections: '', window: [] };
      this.watchers.set(watcher.id, watcher);
    }
    watcher.query = query;
    watcher.gen++;
    watcher.leaseUntil = Date.now() + LEASE_MS;
    watcher.sentRows.clear();
    watcher.sentTotal = -1;
    watcher.sentHeader = '';
    watcher.sentConnections = '';
    this.startTicking();
    const now = Date.now();
    this.summaries = null;
    this.syncWatched(now);
    const frame = this.frameFor(watcher, now) ?? { watch: watcher.id, gen: watcher.gen, seq: watcher.seq, now, connection: query.connection };
    frame.canWrite = canWrite;
    this.updateVisible();
    return frame;
  }

  /** Renews a watch without changing it. */
  renew(id: string, user: string): boolean {
    const watcher = this.watchers.get(id);
    if (!watcher || watcher.user !== user) return false;
    watcher.leaseUntil = Date.now() + LEASE_MS;
    return true;
  }

  unwatch(id: string, user: string): void {
    const watcher = this.watchers.get(id);
    if (watcher && watcher.user === user) this.watchers.delete(id);
    if (this.watchers.size === 0) this.stopAll();
  }

  /** Writes a signal we write as realvirtual-out would, optionally holding it; logged with the user's name. */
  write(connectionId: string, name: string, value: unknown, user: string, hold: boolean | undefined): { value: unknown; held: boolean } {
    const connection = this.realvirtualConnection(connectionId);
    const endpoint = connection.engine;
    if (!endpoint) throw new MonitorError('ERR_CLOSED', 'the connection is not open', 409);
    const signal = endpoint.table.get(name);
    if (!signal) throw new MonitorError('ERR_UNKNOWN_SIGNAL', `the connection has no signal "${clip(name, 100)}"`, 404);
    if (signal.direction !== 'write') throw new MonitorError('ERR_DIRECTION', `signal "${clip(name, 100)}" is one we read (${signal.rvType}): only signals we write can be set`, 400);
    const origin = `editor:${user}`;
    const result = connection.write([[name, value]], origin);
    if (result.errors.length > 0) {
      const error: SignalError = result.errors[0];
      throw new MonitorError(error.code, error.message, 400);
    }
    const holds = holdsFor(connection);
    if (hold === true) holds.set(name, { value: signal.value, origin });
    else if (hold === false) holds.release(name);
    const held = holds.held.has(name);
    this.log(connectionId, `${origin} set ${clip(name, 100)} = ${clip(JSON.stringify(signal.value), 100)}${held ? ' (held)' : ''} from the signal monitor`);
    return { value: signal.value, held };
  }

  release(connectionId: string, name: string, user: string): boolean {
    const connection = this.realvirtualConnection(connectionId);
    const released = existingHolds(connection)?.release(name) ?? false;
    if (released) this.log(connectionId, `editor:${user} released the hold on ${clip(name, 100)}`);
    return released;
  }

  /** Stops every watch and timer (Node-RED stops, or tests end). */
  close(): void {
    this.watchers.clear();
    this.stopAll();
  }

  /** One tick: expired watchers go, the watched connections are read, every editor gets what changed. */
  tick(): void {
    const now = Date.now();
    this.summaries = null;
    for (const [id, watcher] of this.watchers) if (watcher.leaseUntil < now) this.watchers.delete(id);
    if (this.watchers.size === 0) {
      this.stopAll();
      return;
    }
    this.syncWatched(now);
    if (now - this.lastMeasure >= 1000) {
      const elapsed = this.lastMeasure === 0 ? 0 : now - this.lastMeasure;
      this.lastMeasure = now;
      if (elapsed > 0) for (const entry of this.watched.values()) entry.watch.measure(elapsed);
    }
    for (const watcher of this.watchers.values()) {
      const frame = this.frameFor(watcher, now);
      if (frame) this.publish(watcher, frame);
    }
    this.updateVisible();
  }

  private realvirtualConnection(id: string): Connection {
    const connection = this.connectionOf(id);
    if (!(connection instanceof Connection)) throw new MonitorError('ERR_UNKNOWN_CONNECTION', 'no deployed realvirtual connection has this id', 404);
    return connection;
  }

  private log(connectionId: string, text: string): void {
    const node = this.RED.nodes.getNode(connectionId);
    if (node) node.log(text);
  }

  private startTicking(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  private stopAll(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lastMeasure = 0;
    for (const entry of this.watched.values()) entry.watch.stop();
    this.watched.clear();
  }

  /** Follows exactly the connections some editor looks at, and only those. */
  private syncWatched(now: number): void {
    const wanted = new Set<string>();
    for (const watcher of this.watchers.values()) wanted.add(this.resolvedConnection(watcher));
    for (const [id, entry] of this.watched) {
      const current = this.connectionOf(id);
      if (!wanted.has(id) || current !== entry.watch.connection) {
        entry.watch.stop();
        this.watched.delete(id);
      }
    }
    for (const id of wanted) {
      if (!id) continue;
      let entry = this.watched.get(id);
      if (!entry) {
        const connection = this.connectionOf(id);
        if (!connection) continue;
        entry = connection instanceof Connection ? { kind: 'realvirtual', watch: new SignalWatch(connection) } : { kind: 'minvr', watch: new EventWatch(connection) };
        this.watched.set(id, entry);
      }
      if (entry.kind === 'realvirtual') entry.watch.sync(now);
      else entry.watch.sync();
    }
  }

  private currentSummaries(): ConnectionSummary[] {
    return (this.summaries ??= this.connections());
  }

  private resolvedConnection(watcher: Watcher): string {
    if (watcher.query.connection && this.connectionOf(watcher.query.connection)) return watcher.query.connection;
    const first = this.currentSummaries()[0];
    return first ? first.id : '';
  }

  private updateVisible(): void {
    for (const [id, entry] of this.watched) {
      if (entry.kind !== 'realvirtual') continue;
      const names: string[] = [];
      for (const watcher of this.watchers.values()) if (this.resolvedConnection(watcher) === id) names.push(...watcher.window);
      entry.watch.setVisible(names);
    }
  }

  /** What changed in one editor's view since it was last sent, or null for nothing. */
  private frameFor(watcher: Watcher, now: number): MonitorFrame | null {
    const connectionId = this.resolvedConnection(watcher);
    const frame: MonitorFrame = { watch: watcher.id, gen: watcher.gen, seq: watcher.seq + 1, now, connection: connectionId };
    let changed = false;
    const summaries = this.currentSummaries();
    const summaryText = JSON.stringify(summaries);
    if (summaryText !== watcher.sentConnections) {
      watcher.sentConnections = summaryText;
      frame.connections = summaries;
      changed = true;
    }
    const entry = this.watched.get(connectionId);
    if (entry) {
      const header = entry.watch.header();
      const headerText = JSON.stringify(header);
      if (headerText !== watcher.sentHeader) {
        watcher.sentHeader = headerText;
        frame.header = header;
        changed = true;
      }
      const { total, window } = this.select(entry, watcher.query, now);
      watcher.window = window.map((row) => row.name);
      if (entry.kind === 'realvirtual') entry.watch.refresh(window);
      if (total !== watcher.sentTotal) {
        watcher.sentTotal = total;
        changed = true;
      }
      const rows: RowFrame[] = [];
      const offset = watcher.query.offset;
      for (let i = 0; i < window.length; i++) {
        const row = window[i];
        const held = entry.kind === 'realvirtual' && entry.watch.isHeld(row.name) ? 1 : 0;
        const item: RowFrame = [offset + i, row.name, row.type, row.direction, shownValue(row.value), row.at, row.by, row.rate, held];
        const text = JSON.stringify(item);
        if (watcher.sentRows.get(offset + i) !== text) {
          watcher.sentRows.set(offset + i, text);
          rows.push(item);
        }
      }
      for (const position of watcher.sentRows.keys()) if (position < offset || position >= offset + window.length) watcher.sentRows.delete(position);
      if (rows.length > 0) changed = true;
      frame.total = total;
      frame.offset = offset;
      frame.rows = rows;
    }
    if (!changed) return null;
    watcher.seq++;
    return frame;
  }

  /** The rows matching a query: how many, and those in its window. */
  private select(entry: Watched, query: ViewQuery, now: number): { total: number; window: Row[] } {
    const search = query.search.toLowerCase();
    const since = query.recentMs > 0 ? now - query.recentMs : 0;
    const end = query.offset + query.limit;
    const all = entry.watch.rows.list();
    // Nothing to filter (the tab as it opens): the window is a slice, without a pass over every row.
    if (query.direction === 'all' && since === 0 && search === '' && query.names === null) return { total: all.length, window: all.slice(query.offset, end) };
    const window: Row[] = [];
    let total = 0;
    for (const row of all) {
      if (query.direction !== 'all' && row.direction !== query.direction) continue;
      if (since > 0 && row.at < since) continue;
      if (search !== '' && !row.lower.includes(search)) continue;
      if (query.names !== null && !query.names.has(row.name)) continue;
      if (total >= query.offset && total < end) window.push(row);
      total++;
    }
    return { total, window };
  }

  /** Over comms: with adminAuth, only to the sessions of the watcher's user while it may read; without, to every editor. */
  private publish(watcher: Watcher, frame: MonitorFrame): void {
    const topic = `realvirtual/monitor/${watcher.id}`;
    if (!this.RED.settings.adminAuth) {
      this.RED.comms?.publish(topic, frame, false);
      return;
    }
    for (const [session, user] of this.sessions) {
      if (user.username === watcher.user && allows(user.permissions, READ_PERMISSION)) this.RED.events?.emit('comms', { topic, data: frame, retain: false, session });
    }
  }
}
