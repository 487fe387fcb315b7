import { TypedEmitter } from '../emitter';
import { ConnectionError, OptionError, ProtocolError, RealvirtualError, SignalError } from '../errors';
import { Logger } from '../logger';
import { ImportedSignal, importCatalog, toDeclarations } from './catalog';
import { Exchange } from './exchange';
import { ConfigObject, encode, encodeSignals, Message, parseMessage, PROTOCOL_VERSION, SignalRecord } from './messages';
import { EndpointOptions, ResolvedEndpointOptions, resolveEndpointOptions } from './options';
import { hasOwn, isPlainObject, setOwn } from './record';
import { Peer, PeerInfo } from './session';
import { SignalDeclaration, SignalTable } from './signals';

export type EndpointState = 'idle' | 'listening' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface EndpointStatus {
  state: EndpointState;
  /** Connected peers (server: clients; client: 0 or 1). */
  clients: number;
  /** Client mode: the server's name once connected. */
  peerName?: string;
  error?: RealvirtualError;
  /** While reconnecting: ms until the next attempt. */
  retryInMs?: number;
}

/** Values received in one `data` or `snapshot` message. */
export interface DataEvent {
  type: 'data' | 'snapshot';
  peer: PeerInfo;
  /** The applied values (coerced to each signal's type); rejected ones are left out. */
  values: SignalRecord;
  /** Names whose value differs from the one the table held before. */
  changed: string[];
}

export interface ImportResult {
  peer: PeerInfo;
  signals: ImportedSignal[];
  /** Signals of the catalog that could not be read (bad type or value). */
  rejected: SignalError[];
}

export interface ConfigResult {
  success: boolean;
  message: string;
}

/** Decides on a `config_set`: the default merges the object and applies `publishIntervalMs`. */
export type ConfigSetHandler = (config: ConfigObject, peer: PeerInfo) => ConfigResult | Promise<ConfigResult>;

export interface WriteResult {
  /** Names whose values were applied (changed or not). */
  applied: string[];
  errors: SignalError[];
}

export type EndpointEvents = {
  status: (status: EndpointStatus) => void;
  connect: (peer: PeerInfo) => void;
  disconnect: (peer: PeerInfo, reason: string) => void;
  /** Every `init`, including the keep-alive repeats; `peer.name` is the new name. */
  init: (peer: PeerInfo) => void;
  subscribe: (peer: PeerInfo, names: string[]) => void;
  data: (event: DataEvent) => void;
  /** Every `import_answer`, whether this side asked for it or not. */
  importAnswer: (result: ImportResult) => void;
  /** A `config_set` was handled; `config` is the whole configuration after it. */
  configSet: (peer: PeerInfo, config: ConfigObject, result: ConfigResult) => void;
  /** Something went wrong that did not stop the endpoint: bad frames, rejected values. */
  problem: (error: RealvirtualError, peer?: PeerInfo) => void;
};

export interface ConfigOptions {
  /** The configuration answered to `config_get`; `publishIntervalMs` is kept equal to cycleMs. */
  config?: ConfigObject;
  /** Replaces the default handling of `config_set`. */
  onConfigSet?: ConfigSetHandler;
}

const MAX_REPORTED_PER_PEER = 1000;

/**
 * Everything server and client have in common: the signal table, the cyclic exchange,
 * message handling, import and remote configuration. Transports add the sockets.
 */
export abstract class Endpoint extends TypedEmitter<EndpointEvents> {
  readonly table = new SignalTable();
  protected readonly settings: ResolvedEndpointOptions;
  protected readonly logger: Logger;
  protected readonly exchange: Exchange;
  protected readonly peers = new Map<string, Peer>();
  protected closed = false;
  private configObject: ConfigObject;
  private readonly onConfigSet: ConfigSetHandler | undefined;
  private statusValue: EndpointStatus = { state: 'idle', clients: 0 };

  constructor(options: EndpointOptions & ConfigOptions) {
    super();
    this.settings = resolveEndpointOptions(options);
    this.logger = this.settings.logger;
    for (const declaration of this.settings.signals) this.declareOrThrow(declaration);
    this.exchange = new Exchange(this.table, { ...this.settings }, {
      slowPeer: (peer, slowForMs) => this.dropSlowPeer(peer, slowForMs),
      transitionsDropped: (name, dropped) =>
        this.report(new SignalError('ERR_INVALID_VALUE', name, `signal "${name}": transition queue full (${this.settings.maxTransitions}), dropped ${dropped} oldest value(s)`)),
    });
    this.configObject = { ...(options.config ?? {}), publishIntervalMs: this.settings.cycleMs };
    this.onConfigSet = options.onConfigSet;
  }

  get status(): EndpointStatus {
    return this.statusValue;
  }

  get cycleMs(): number {
    return this.exchange.cycleMs;
  }

  /** Counters of the cyclic exchange (cycles, encodes, frames, bytes). */
  get stats(): Readonly<Exchange['stats']> {
    return this.exchange.stats;
  }

  /** Connected peers. */
  get clients(): PeerInfo[] {
    return [...this.peers.values()].map((peer) => peer.info);
  }

  /** Changes the cycle period live (also what a remote `publishIntervalMs` does). */
  setCycleMs(cycleMs: number): void {
    if (typeof cycleMs !== 'number' || !Number.isFinite(cycleMs) || cycleMs < 0) {
      throw new OptionError(`cycleMs must be a number >= 0, got ${JSON.stringify(cycleMs)}`);
    }
    this.exchange.setCycleMs(cycleMs);
    this.configObject = { ...this.configObject, publishIntervalMs: cycleMs };
  }

  /** Adds or redefines signals; throws a SignalError for an invalid declaration. */
  declare(declarations: SignalDeclaration | SignalDeclaration[]): void {
    const list = Array.isArray(declarations) ? declarations : [declarations];
    for (const declaration of list) this.declareOrThrow(declaration);
    this.exchange.touched(list.map((declaration) => declaration.name));
    this.exchange.commit();
  }

  /** Writes one signal. Throws a SignalError when the value is rejected. */
  write(name: string, value: unknown): void {
    const result = this.writeMany([[name, value]]);
    if (result.errors.length > 0) throw result.errors[0];
  }

  /**
   * Writes several signals in one batch: valid values are applied, each invalid one is
   * returned as a SignalError. With cycleMs 0 the batch is flushed as one frame at once.
   */
  writeMany(values: SignalRecord | Record<string, unknown> | Map<string, unknown> | Iterable<[string, unknown]>): WriteResult {
    const applied: string[] = [];
    const errors: SignalError[] = [];
    const entries: Iterable<[string, unknown]> = isPlainObject(values)
      ? Object.keys(values).map((name): [string, unknown] => [name, (values as Record<string, unknown>)[name]])
      : (values as Iterable<[string, unknown]>);
    for (const [name, value] of entries) {
      const update = this.table.write(name, value);
      if (update instanceof SignalError) {
        errors.push(update);
        continue;
      }
      applied.push(name);
      if (update.changed) this.exchange.written(update);
    }
    this.exchange.commit();
    return { applied, errors };
  }

  /** The current value of every signal in one direction (default: the ones we receive). */
  values(direction: 'read' | 'write' = 'read'): SignalRecord {
    return this.table.values(direction);
  }

  /** The configuration this side answers to `config_get`. */
  get config(): ConfigObject {
    return { ...this.configObject };
  }

  /**
   * Merges keys into the configuration. A `publishIntervalMs` changes the cycle live;
   * an invalid one throws and nothing is merged.
   */
  mergeConfig(partial: ConfigObject): ConfigObject {
    if (!isPlainObject(partial)) throw new OptionError('a configuration must be an object');
    const interval = hasOwn(partial, 'publishIntervalMs') ? partial.publishIntervalMs : undefined;
    if (interval !== undefined && (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0)) {
      throw new OptionError(`publishIntervalMs must be a number of ms >= 0, got ${JSON.stringify(interval)}`);
    }
    const merged: ConfigObject = { ...this.configObject };
    for (const key of Object.keys(partial)) setOwn(merged, key, partial[key]);
    this.configObject = merged;
    if (typeof interval === 'number' && interval !== this.exchange.cycleMs) this.setCycleMs(interval);
    return this.config;
  }

  /** Closes every socket and timer. Resolves once all are released. */
  abstract close(): Promise<void>;

  protected async requestImportFrom(peer: Peer): Promise<ImportResult> {
    const answer = peer.requests.wait<ImportResult>('import', this.settings.requestTimeoutMs, () => peer.name);
    this.sendText(peer, encode.importRequest());
    return answer;
  }

  /** Declares imported signals in the table (what the import node's "declare" does). */
  declareImported(signals: readonly ImportedSignal[]): void {
    this.declare(toDeclarations(signals));
  }

  protected setStatus(status: Partial<EndpointStatus> & { state: EndpointState }): void {
    const next: EndpointStatus = { clients: this.peers.size, ...status };
    const last = this.statusValue;
    this.statusValue = next;
    if (last.state === next.state && last.clients === next.clients && last.peerName === next.peerName && last.error?.code === next.error?.code && last.error?.message === next.error?.message) return;
    this.emit('status', next);
  }

  protected addPeer(peer: Peer): void {
    this.peers.set(peer.id, peer);
    this.exchange.addPeer(peer);
    this.emit('connect', peer.info);
  }

  protected removePeer(peer: Peer, reason: string): void {
    if (this.peers.get(peer.id) !== peer) return;
    this.peers.delete(peer.id);
    this.exchange.removePeer(peer);
    peer.requests.rejectAll(`${peer.name} disconnected (${reason})`);
    this.emit('disconnect', peer.info, reason);
  }

  protected sendText(peer: Peer, text: string): void {
    peer.link.send(Buffer.from(text));
    this.afterSend(peer);
  }

  /** Transports override this to note activity (the client's keep-alive). */
  protected afterSend(_peer: Peer): void {}

  /**
   * Reports a problem: every occurrence reaches 'problem' listeners; the log gets a line
   * only once per peer and `onceKey`, so that a misbehaving peer cannot flood it.
   */
  protected report(error: RealvirtualError, peer?: Peer, onceKey?: string): void {
    let log = true;
    if (peer && onceKey !== undefined) {
      log = !peer.reported.has(onceKey);
      if (log && peer.reported.size < MAX_REPORTED_PER_PEER) peer.reported.add(onceKey);
    }
    if (log) this.logger.warn(`${error.message}${peer ? ` (peer ${peer.name})` : ''}`);
    if (this.listenerCount('problem') > 0) this.emit('problem', error, peer ? peer.info : undefined);
  }

  private dropSlowPeer(peer: Peer, slowForMs: number): void {
    const error = new ConnectionError('ERR_SLOW_PEER', `peer ${peer.name} read nothing for ${Math.round(slowForMs)} ms while over ${this.settings.slowPeerBytes} buffered bytes: disconnected`);
    this.report(error, peer);
    peer.link.close(1008, 'too slow: not reading');
    this.removePeer(peer, error.message);
  }

  private declareOrThrow(declaration: SignalDeclaration): void {
    const result = this.table.declare(declaration);
    if (result instanceof SignalError) throw result;
  }

  /** Handles one frame from a peer. Never throws: every problem is reported and the session goes on. */
  protected handleFrame(peer: Peer, frame: Buffer | string, isBinary: boolean): void {
    if (peer.quietUntil !== 0) this.exchange.peerSpoke(peer);
    const parsed = parseMessage(frame, isBinary);
    if (parsed instanceof ProtocolError) {
      this.report(parsed, peer, parsed.code);
      return;
    }
    if (parsed.kind === 'unknown') {
      this.logger.debug(`ignored a message of unknown type ${JSON.stringify(parsed.type)} from ${peer.name}`);
      return;
    }
    const { message, rejected } = parsed;
    if (message.version !== undefined && message.version > PROTOCOL_VERSION && !peer.versionWarned) {
      peer.versionWarned = true;
      this.logger.warn(`${peer.name} speaks protocol version ${message.version}; this engine speaks ${PROTOCOL_VERSION} and reads what it knows`);
    }
    for (const error of rejected) this.report(error, peer, `${error.code}:${error.signal}`);
    try {
      this.dispatch(peer, message);
    } catch (error) {
      // A listener threw: keep the session alive and say so.
      const wrapped = error instanceof RealvirtualError ? error : new ProtocolError('ERR_INVALID_FIELD', `handling a ${message.type} message from ${peer.name} failed: ${(error as Error).message}`);
      this.report(wrapped, peer);
    }
  }

  private dispatch(peer: Peer, message: Message): void {
    switch (message.type) {
      case 'init':
        if (message.name !== undefined) peer.name = message.name;
        this.emit('init', peer.info);
        this.onInit(peer);
        return;
      case 'data':
      case 'snapshot':
        this.receive(peer, message.type, message.signals);
        return;
      case 'subscribe':
        this.onSubscribe(peer, message.subscribe);
        return;
      case 'import_request': {
        const { signals, signalTypes } = this.table.catalog();
        this.sendText(peer, encode.importAnswer(signals, signalTypes));
        return;
      }
      case 'import_answer': {
        const { signals, rejected } = importCatalog(message, this.settings);
        for (const error of rejected) this.report(error, peer, `import:${error.code}:${error.signal}`);
        const result: ImportResult = { peer: peer.info, signals, rejected };
        peer.requests.settle('import', result);
        this.emit('importAnswer', result);
        return;
      }
      case 'config_get':
        this.sendText(peer, encode.configAnswer(this.config));
        return;
      case 'config_set':
        void this.applyRemoteConfig(peer, message.config);
        return;
      case 'config_answer':
        if (!peer.requests.settle('config_get', message.config)) this.logger.debug(`unrequested config_answer from ${peer.name}`);
        return;
      case 'config_result':
        if (!peer.requests.settle('config_set', { success: message.success, message: message.message })) {
          this.logger.debug(`unrequested config_result from ${peer.name}`);
        }
        return;
    }
  }

  /** Server side: a subscribe. The client ignores it (the reference gives clients no subscribe to answer). */
  protected onSubscribe(peer: Peer, _names: string[]): void {
    this.logger.debug(`ignored a subscribe from ${peer.name}: only a server filters what it sends`);
  }

  protected onInit(_peer: Peer): void {}

  private receive(peer: Peer, type: 'data' | 'snapshot', signals: SignalRecord): void {
    const names = Object.keys(signals);
    const changed: string[] = [];
    let values: SignalRecord | null = null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const raw = signals[name];
      const update = this.table.receive(name, raw);
      let keep = true;
      if (update === undefined) {
        keep = false;
        if (!peer.reported.has(`write:${name}`)) {
          if (peer.reported.size < MAX_REPORTED_PER_PEER) peer.reported.add(`write:${name}`);
          this.logger.debug(`${peer.name} sent "${name}", a signal we write: its value was ignored`);
        }
      } else if (update instanceof SignalError) {
        keep = false;
        this.report(update, peer, `${update.code}:${name}`);
      } else {
        if (update.changed) changed.push(name);
        if (update.signal.value !== raw) {
          if (values === null) values = copyFirst(signals, names, i);
          setOwn(values, name, update.signal.value);
          continue;
        }
      }
      if (!keep && values === null) values = copyFirst(signals, names, i);
      else if (keep && values !== null) setOwn(values, name, raw);
    }
    if (this.listenerCount('data') > 0) this.emit('data', { type, peer: peer.info, values: values ?? signals, changed });
  }

  private async applyRemoteConfig(peer: Peer, config: ConfigObject): Promise<void> {
    let result: ConfigResult;
    try {
      if (this.onConfigSet) {
        result = await this.onConfigSet(config, peer.info);
      } else {
        this.mergeConfig(config);
        result = { success: true, message: 'Configuration saved and applied' };
      }
    } catch (error) {
      result = { success: false, message: (error as Error).message };
    }
    if (!peer.link || !this.peers.has(peer.id)) return;
    this.sendText(peer, encode.configResult(result.success, result.message));
    this.emit('configSet', peer.info, this.config, result);
  }

  /** Sends a snapshot frame of the given values to one peer. */
  protected sendSnapshot(peer: Peer, values: SignalRecord): void {
    this.sendText(peer, encodeSignals('snapshot', values));
  }
}

function copyFirst(signals: SignalRecord, names: string[], count: number): SignalRecord {
  const copy: SignalRecord = {};
  for (let j = 0; j < count; j++) setOwn(copy, names[j], signals[names[j]]);
  return copy;
}
