import { checkNumber } from '../checks';
import { EndpointRole, EndpointShell, EndpointState, EndpointStatus } from '../endpoint-shell';
import { ConnectionError, OptionError, ProtocolError, RealvirtualError, SignalError } from '../errors';
import { ReconnectOptions } from '../lifecycle';
import { clip, flatCopy } from '../text';
import { ImportedSignal, importCatalog, toDeclarations } from './catalog';
import { checkConfig, checkCycleMs, isRemoteConfigMode, RemoteConfigMode, remoteConfigRefusal } from './config-rules';
import { Exchange } from './exchange';
import { ConfigObject, encode, encodeSignals, MAX_REJECTED_LISTED, Message, parseFrame, PROTOCOL_VERSION, SignalRecord } from './messages';
import { DEFAULTS, EndpointOptions, ResolvedEndpointOptions, resolveEndpointOptions } from './options';
import { hasOwn, isPlainObject, setOwn } from '../record';
import { Peer, PeerInfo } from './peers';
import { ShapeReader } from './shape';
import { NameCache, newNameCache, SignalDeclaration, SignalTable, UNCHANGED } from './signals';
import { SignalValue } from './values';
import { dataEvent, ShapeToken, SignalBatch } from './batch';

export { EndpointState, EndpointStatus };

/** Values received in one `data` or `snapshot` message. */
export interface DataEvent {
  type: 'data' | 'snapshot';
  peer: PeerInfo;
  /** The applied values (coerced to each signal's type); rejected ones are left out. Shared by every listener: read-only. */
  values: SignalRecord;
  /** Names whose value differs from the one the table held before. */
  changed: string[];
  /** The same values as two lists in the order of the message, and a token of that order (see SignalBatch). */
  batch: SignalBatch;
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
  /** Bytes of JSON the configuration may hold; a `config_set` beyond it is refused. Default 256 KiB. */
  maxConfigBytes?: number;
  /**
   * What peers may do: "read-write" (default), "read-only" (`config_set` refused) or
   * "off" (`config_get` answered with `{}`, `config_set` refused).
   */
  remoteConfig?: RemoteConfigMode;
}

const MAX_REPORTED_PER_PEER = 1000;

/**
 * Everything server and client have in common: the signal table, the cyclic exchange,
 * message handling, import and remote configuration. Transports add the sockets.
 */
export abstract class Endpoint extends EndpointShell<Peer, EndpointEvents> {
  readonly table = new SignalTable();
  protected readonly settings: ResolvedEndpointOptions;
  protected readonly exchange: Exchange;
  /** Per peer: the signals its last message named, by position (see SignalTable.receiveExact), and its shape. */
  private readonly nameCaches = new WeakMap<Peer, ReceiveCache>();
  /** The signals of the last object written, by position (see SignalTable.writeExact). */
  private readonly writeCache = newNameCache();
  private configObject: ConfigObject;
  private readonly onConfigSet: ConfigSetHandler | undefined;
  private readonly maxConfigBytes: number;
  private readonly remoteConfig: RemoteConfigMode;

  /** `retry`: the client's reconnects, or the server's listen retries. */
  constructor(options: EndpointOptions & ConfigOptions, role: EndpointRole, retry: ReconnectOptions) {
    const settings = resolveEndpointOptions(options);
    super({ role, logger: settings.logger, clock: settings.clock, retry });
    this.settings = settings;
    const { maxSignals, maxTextBytes, maxNameLength, maxTableBytes } = this.settings;
    this.table.limits = { maxSignals, maxTextBytes, maxNameLength, maxTableBytes };
    for (const declaration of this.settings.signals) this.declareOrThrow(declaration);
    this.exchange = new Exchange(
      this.table,
      { ...this.settings },
      {
        slowPeer: (peer, slowForMs) => this.dropSlowPeer(peer, slowForMs),
        transitionsDropped: (name, dropped) =>
          this.report(new SignalError('ERR_INVALID_VALUE', name, `signal "${name}": transition queue full (${this.settings.maxTransitions}), dropped ${dropped} oldest value(s)`)),
      },
      this.settings.clock,
    );
    this.configObject = { ...(options.config ?? {}), publishIntervalMs: this.settings.cycleMs };
    this.onConfigSet = options.onConfigSet;
    this.maxConfigBytes = checkNumber('maxConfigBytes', options.maxConfigBytes ?? DEFAULTS.maxConfigBytes, 1, true);
    const remoteConfig = options.remoteConfig ?? DEFAULTS.remoteConfig;
    if (!isRemoteConfigMode(remoteConfig)) throw new OptionError(`remoteConfig must be "read-write", "read-only" or "off", got ${JSON.stringify(remoteConfig)}`);
    this.remoteConfig = remoteConfig;
  }

  get cycleMs(): number {
    return this.exchange.cycleMs;
  }

  /** Counters of the cyclic exchange (cycles, encodes, frames, bytes). */
  get stats(): Readonly<Exchange['stats']> {
    return this.exchange.stats;
  }

  /** Changes the cycle period live (also what a remote `publishIntervalMs` does). */
  setCycleMs(cycleMs: number): void {
    checkCycleMs('cycleMs', cycleMs);
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
    if (isPlainObject(values)) {
      const names = Object.keys(values);
      // An object's names are distinct.
      this.exchange.beginBatch();
      for (let i = 0; i < names.length; i++) this.writeOne(names[i], values[names[i]], applied, errors, i);
    } else {
      for (const [name, value] of values as Iterable<[string, unknown]>) this.writeOne(name, value, applied, errors, -1);
    }
    this.exchange.commit();
    return { applied, errors };
  }

  /** `index`: the position of the name in a written object (its signal is found by position, see writeExact), or -1. */
  private writeOne(name: string, value: unknown, applied: string[], errors: SignalError[], index: number): void {
    const previous = index < 0 ? this.table.writeExact(name, value) : this.table.writeExact(name, value, this.writeCache, index);
    if (previous !== undefined) {
      applied.push(name);
      if (previous !== UNCHANGED) this.exchange.writtenValue(name, value as SignalValue, previous);
      return;
    }
    const update = this.table.write(name, value);
    if (update instanceof SignalError) {
      errors.push(update);
      return;
    }
    applied.push(name);
    if (update.changed) this.exchange.written(update);
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
   * Merges keys into the configuration. A `publishIntervalMs` changes the cycle live.
   * A result over the limits (see checkConfig) or an invalid interval throws, and
   * nothing is merged.
   */
  mergeConfig(partial: ConfigObject): ConfigObject {
    if (!isPlainObject(partial)) throw new OptionError('a configuration must be an object');
    const merged: ConfigObject = { ...this.configObject };
    for (const key of Object.keys(partial)) setOwn(merged, key, partial[key]);
    checkConfig(merged, this.maxConfigBytes);
    const interval = hasOwn(partial, 'publishIntervalMs') ? partial.publishIntervalMs : undefined;
    this.configObject = merged;
    if (typeof interval === 'number' && interval !== this.exchange.cycleMs) this.setCycleMs(interval);
    return this.config;
  }

  protected override beforeClose(): void {
    this.exchange.close();
  }

  protected async requestImportFrom(peer: Peer, timeoutMs = this.settings.requestTimeoutMs): Promise<ImportResult> {
    const answer = peer.requests.wait<ImportResult>('import', checkNumber('timeoutMs', timeoutMs, 1), () => peer.name);
    this.sendText(peer, encode.importRequest());
    return answer;
  }

  /**
   * Declares imported signals in the table (what the import node's "declare" does). Unlike
   * a user's declarations they must fit the limits (maxSignals, maxTableBytes, maxNameLength,
   * maxTextBytes): each one that does not is returned as a SignalError, the others are declared.
   */
  declareImported(signals: readonly ImportedSignal[]): SignalError[] {
    const errors: SignalError[] = [];
    const declared: string[] = [];
    for (const declaration of toDeclarations(signals)) {
      const result = this.table.declare(declaration, true);
      if (result instanceof SignalError) errors.push(result);
      else declared.push(declaration.name);
    }
    this.exchange.touched(declared);
    this.exchange.commit();
    return errors;
  }

  protected override addPeer(peer: Peer): void {
    this.exchange.addPeer(peer);
    super.addPeer(peer);
  }

  protected override removePeer(peer: Peer, reason: string): boolean {
    if (this.peers.get(peer.id) !== peer) return false;
    this.exchange.removePeer(peer);
    peer.requests.rejectAll(`${peer.name} disconnected (${reason})`);
    return super.removePeer(peer, reason);
  }

  protected sendText(peer: Peer, text: string): void {
    peer.link.send(Buffer.from(text));
    this.afterSend(peer);
    // Answers (snapshots, catalogs, config) are not conflated like data: a peer that keeps
    // asking but never reads is dropped once its unsent bytes pass this hard bound.
    const limit = this.settings.slowPeerBytes + this.settings.maxPayload;
    if (peer.link.bufferedBytes > limit && this.peers.get(peer.id) === peer) {
      this.disconnectSlowPeer(peer, `has more than ${limit} bytes unsent (slowPeerBytes + maxPayload): it is not reading`);
    }
  }

  /** Transports override this to note activity (the client's keep-alive). */
  protected afterSend(_peer: Peer): void {}

  /**
   * Reports a problem: every occurrence reaches 'problem' listeners; the log gets a line
   * only once per peer and `onceKey`, so that a misbehaving peer cannot flood it.
   */
  protected override report(error: RealvirtualError, peer?: Peer, onceKey?: string): void {
    let log = true;
    if (peer && onceKey !== undefined) {
      const key = boundedKey(onceKey);
      log = !peer.reported.has(key);
      if (log && peer.reported.size < MAX_REPORTED_PER_PEER) peer.reported.add(key);
    }
    this.reportProblem(error, peer, log);
  }

  /** A debug line once per peer and key (keys are bounded per peer), so that debug logging cannot be flooded either. */
  private debugOnce(peer: Peer, key: string, text: () => string): void {
    const bounded = boundedKey(`debug:${key}`);
    if (peer.reported.has(bounded) || peer.reported.size >= MAX_REPORTED_PER_PEER) return;
    peer.reported.add(bounded);
    this.logger.debug(text());
  }

  private dropSlowPeer(peer: Peer, slowForMs: number): void {
    this.disconnectSlowPeer(peer, `read nothing for ${Math.round(slowForMs)} ms while over slowPeerBytes (${this.settings.slowPeerBytes} bytes unsent)`);
  }

  /** Disconnects a peer that does not read, with a reason it (and the log) can see. */
  private disconnectSlowPeer(peer: Peer, why: string): void {
    const error = new ConnectionError('ERR_SLOW_PEER', `peer ${clip(peer.name, 100)} ${why}: disconnected`);
    this.report(error, peer);
    peer.link.close(1008, 'too slow: not reading');
    this.removePeer(peer, error.message);
  }

  private declareOrThrow(declaration: SignalDeclaration): void {
    const result = this.table.declare(declaration);
    if (result instanceof SignalError) throw result;
  }

  /**
   * Handles one frame from a peer. Never throws: every problem is reported and the session
   * goes on. Whatever throws while handling it (a listener, a RangeError from deep data)
   * costs that frame only, and one ERR_HANDLER_FAILED report.
   */
  protected handleFrame(peer: Peer, frame: Buffer | string, isBinary: boolean): void {
    try {
      this.handleFrameUnguarded(peer, frame, isBinary);
    } catch (error) {
      this.reportHandlerFailure(peer, error);
    }
  }

  /** Reports what a frame's handling threw; a 'problem' listener that throws again is not called twice. */
  private reportHandlerFailure(peer: Peer, error: unknown): void {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    const failure = new ProtocolError('ERR_HANDLER_FAILED', `handling a frame from ${clip(peer.name, 100)} failed (${clip(what, 200)}): that frame was dropped, the connection goes on`, {
      cause: error,
    });
    try {
      this.report(failure, peer, 'ERR_HANDLER_FAILED');
    } catch {
      // The 'problem' listener itself threw: the line is logged already (report logs before it emits).
    }
  }

  private handleFrameUnguarded(peer: Peer, frame: Buffer | string, isBinary: boolean): void {
    // A peer already dropped (too slow) may still have frames in flight: they count no more.
    if (this.peers.get(peer.id) !== peer) return;
    if (!isBinary && typeof frame !== 'string' && this.readShaped(peer, frame)) return;
    const text = isBinary || typeof frame === 'string' ? frame : frame.toString('utf8');
    const parsed = parseFrame(text, isBinary);
    if (parsed instanceof ProtocolError) {
      this.report(parsed, peer, parsed.code);
      return;
    }
    if (parsed.kind === 'unknown') {
      this.debugOnce(
        peer,
        `unknown:${parsed.type}`,
        () => `ignored a message of unknown type ${clip(JSON.stringify(parsed.type), 100)} from ${clip(peer.name, 100)} (further ones are ignored silently)`,
      );
      return;
    }
    const version = parsed.kind === 'signals' ? parsed.version : parsed.message.version;
    if (version !== undefined && version > PROTOCOL_VERSION && !peer.versionWarned) {
      peer.versionWarned = true;
      this.logger.warn(`${clip(peer.name, 100)} speaks protocol version ${version}; this engine speaks ${PROTOCOL_VERSION} and reads what it knows`);
    }
    for (const error of parsed.rejected) this.report(error, peer, `${error.code}:${error.signal}`);
    if (parsed.kind === 'signals') this.receive(peer, parsed.type, parsed.names, null, parsed.signals);
    else this.dispatch(peer, parsed.message);
  }

  private dispatch(peer: Peer, message: Message): void {
    switch (message.type) {
      case 'init':
        if (message.name !== undefined) peer.name = this.peerNameFrom(peer, message.name);
        this.emit('init', peer.info);
        this.onInit(peer);
        return;
      case 'data':
      case 'snapshot':
        this.receive(peer, message.type, Object.keys(message.signals), null, message.signals);
        return;
      case 'subscribe':
        this.onSubscribe(peer, message.subscribe);
        return;
      case 'import_request': {
        const { signals, signalTypes } = this.table.catalog();
        this.sendText(peer, encode.importAnswer(signals, signalTypes));
        this.onImportAnswered(peer);
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
        // "off": an empty configuration rather than silence, so that a client waiting for the answer does not time out.
        this.sendText(peer, encode.configAnswer(this.remoteConfig === 'off' ? {} : this.config));
        return;
      case 'config_set':
        void this.applyRemoteConfig(peer, message.config);
        return;
      case 'config_answer':
        if (!peer.requests.settle('config_get', message.config)) this.debugOnce(peer, 'unrequested:config_answer', () => `unrequested config_answer from ${clip(peer.name, 100)}`);
        return;
      case 'config_result':
        if (!peer.requests.settle('config_set', { success: message.success, message: message.message })) {
          this.debugOnce(peer, 'unrequested:config_result', () => `unrequested config_result from ${clip(peer.name, 100)}`);
        }
        return;
    }
  }

  /**
   * The name a peer gave in `init`, within maxClientName: a longer one is clipped (reported
   * once per peer) to a copy that shares no memory with the frame it came in.
   */
  private peerNameFrom(peer: Peer, name: string): string {
    const max = this.settings.maxClientName;
    if (name.length <= max) return name;
    // Once per peer: a client repeats its init as a keep-alive.
    const key = 'ERR_NAME_TOO_LONG:init';
    if (!peer.reported.has(key) && peer.reported.size < MAX_REPORTED_PER_PEER)
      this.report(
        new ProtocolError('ERR_NAME_TOO_LONG', `"init" message: a peer name of ${name.length} characters is longer than maxClientName (${max}): clipped to "${clip(name, 100)}"`),
        peer,
        'ERR_NAME_TOO_LONG:init',
      );
    return flatCopy(name.slice(0, max));
  }

  /** Server side: a subscribe. The client ignores it (the reference gives clients no subscribe to answer). */
  protected onSubscribe(peer: Peer, _names: string[]): void {
    this.debugOnce(peer, 'subscribe', () => `ignored a subscribe from ${clip(peer.name, 100)}: only a server filters what it sends`);
  }

  protected onInit(_peer: Peer): void {}

  /** Server side: we answered a peer's import_request (a subscribe may follow). */
  protected onImportAnswered(_peer: Peer): void {}

  /**
   * The fast path of handleFrame: a `data` or `snapshot` frame with the same signals, in
   * the same order, as the peer's last two, read by those names (see shape.ts). False
   * when the frame is anything else: the general parser reads it.
   */
  private readShaped(peer: Peer, frame: Buffer): boolean {
    const cache = this.nameCaches.get(peer);
    const reader = cache?.reader;
    if (!reader) return false;
    const values = new Array<SignalValue>(reader.names.length);
    const type = reader.read(frame, values);
    if (type === null) return false;
    this.receive(peer, type, reader.names, values, null, cache);
    return true;
  }

  private receiveCache(peer: Peer): ReceiveCache {
    let cache = this.nameCaches.get(peer);
    if (cache === undefined) {
      cache = { ...newNameCache(), sent: { shape: null, previous: null }, reader: null, applied: { shape: null, previous: null } };
      this.nameCaches.set(peer, cache);
    }
    return cache;
  }

  /**
   * Applies the values of a `data` or `snapshot` message: `names` in the order of the
   * message, with their values either in `list` (aligned, and this method's to change)
   * or in `record` (the parsed message).
   */
  private receive(peer: Peer, type: 'data' | 'snapshot', names: readonly string[], list: SignalValue[] | null, record: SignalRecord | null, cache: ReceiveCache = this.receiveCache(peer)): void {
    const changed: string[] = [];
    // The applied values, aligned with `names` until one is left out: from then on with `kept`.
    const values: SignalValue[] = list ?? new Array<SignalValue>(names.length);
    let kept: string[] | null = null;
    let coerced = false;
    let errors: SignalError[] | null = null;
    let rejected = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const raw = list !== null ? list[i] : record![name];
      let value: SignalValue | undefined = raw;
      const exact = this.table.receiveExact(name, raw, cache, i);
      if (exact !== undefined) {
        if (exact) changed.push(name);
      } else {
        // Beyond the values listed one by one, rejections are only counted: no error is built.
        const update = this.table.receive(name, raw, rejected < MAX_REJECTED_LISTED);
        if (update === undefined) {
          value = undefined;
          const key = boundedKey(`write:${name}`);
          if (!peer.reported.has(key) && peer.reported.size < MAX_REPORTED_PER_PEER) {
            peer.reported.add(key);
            this.logger.debug(`${clip(peer.name, 100)} sent "${clip(name, 100)}", a signal we write: its value was ignored`);
          }
        } else if (update instanceof SignalError) {
          value = undefined;
          // Listed one by one up to a bound per message, then counted (see MAX_REJECTED_LISTED).
          if (++rejected <= MAX_REJECTED_LISTED) (errors ??= []).push(update);
        } else {
          if (update.changed) changed.push(name);
          if (update.signal.value !== raw) {
            value = update.signal.value;
            coerced = true;
          }
        }
      }
      if (value === undefined) {
        kept ??= names.slice(0, i);
      } else if (kept === null) {
        values[i] = value;
      } else {
        values[kept.length] = value;
        kept.push(name);
      }
    }
    if (kept !== null) values.length = kept.length;
    if (errors !== null) for (const error of errors) this.report(error, peer, `${error.code}:${error.signal}`);
    if (rejected > MAX_REJECTED_LISTED) {
      this.report(
        new SignalError('ERR_TYPE_MISMATCH', '', `"${type}" message from ${clip(peer.name, 100)}: ${rejected - MAX_REJECTED_LISTED} more values were rejected (not listed one by one)`),
        peer,
        `more:${type}`,
      );
    }
    const before = cache.sent.shape;
    const sent = noteShape(cache.sent, names);
    if (sent !== before) cache.reader = sent === null ? null : new ShapeReader(sent.names);
    // With values left out the batch is a list of its own, with tokens of its own.
    const shape = kept === null ? sent : noteShape(cache.applied, kept);
    if (this.listenerCount('data') === 0) return;
    this.emit('data', dataEvent(type, peer.info, { names: shape?.names ?? kept ?? names, values, shape }, changed, kept === null && !coerced ? record : null));
  }

  private async applyRemoteConfig(peer: Peer, config: ConfigObject): Promise<void> {
    let result: ConfigResult;
    const refusal = remoteConfigRefusal(this.remoteConfig);
    try {
      if (refusal) {
        result = { success: false, message: refusal };
      } else if (this.onConfigSet) {
        result = await this.onConfigSet(config, peer.info);
      } else {
        this.mergeConfig(config);
        result = { success: true, message: 'Configuration saved and applied' };
      }
    } catch (error) {
      result = { success: false, message: (error as Error).message };
      // Logged once per peer and kind of refusal; every one is answered and reaches 'problem'.
      if (error instanceof RealvirtualError) this.report(error, peer, `config_set:${error.code}`);
    }
    if (!peer.link || !this.peers.has(peer.id)) return;
    try {
      this.sendText(peer, encode.configResult(result.success, result.message));
      this.emit('configSet', peer.info, this.config, result);
    } catch (error) {
      // Asynchronous: what throws here would become an unhandled rejection, which ends the process.
      this.reportHandlerFailure(peer, error);
    }
  }

  /** Sends a snapshot frame of the given values to one peer. */
  protected sendSnapshot(peer: Peer, values: SignalRecord): void {
    this.sendText(peer, encodeSignals('snapshot', values));
  }
}

/**
 * A key of a peer's `reported` set: keys hold names a peer chooses, so they are kept
 * short, and a clipped one is a copy (a slice would keep the whole name alive).
 */
function boundedKey(key: string): string {
  return key.length > 200 ? flatCopy(key.slice(0, 200)) : key;
}

/** What the endpoint keeps of a peer's messages to read the next ones fast. */
interface ReceiveCache extends NameCache {
  /** The names of its messages as sent. */
  sent: ShapeMemory;
  /** Reads frames of `sent.shape` (see shape.ts); null while there is none. */
  reader: ShapeReader | null;
  /** The names of the values applied, when some of a message were left out. */
  applied: ShapeMemory;
}

/** The lists of names of a peer's last messages. */
interface ShapeMemory {
  /** The token of the list its last two had in common; null when they differed. */
  shape: ShapeToken | null;
  /** The last list, when it differed from the one before. */
  previous: readonly string[] | null;
}

/**
 * Notes a list of names: the token of its shape when the list before was the same (a new
 * token when that is new), else null.
 */
function noteShape(memory: ShapeMemory, names: readonly string[]): ShapeToken | null {
  const shape = memory.shape;
  if (shape !== null && sameNames(shape.names, names)) return shape;
  const previous = memory.previous;
  if (previous !== null && sameNames(previous, names)) {
    memory.shape = new ShapeToken(previous);
    memory.previous = null;
    return memory.shape;
  }
  memory.shape = null;
  memory.previous = names;
  return null;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
