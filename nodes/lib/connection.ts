import {
  ConfigObject,
  ConfigResult,
  ConnectionError,
  DataEvent,
  Endpoint,
  EndpointEvents,
  EndpointStatus,
  ImportedSignal,
  ImportResult,
  OptionError,
  PeerInfo,
  RealvirtualClient,
  RealvirtualError,
  RealvirtualServer,
  realvirtualType,
  ServerTlsOptions,
  SignalError,
  SignalRecord,
  WriteResult,
} from '../../engine';
import { ConfigStore } from './config-store';
import { PeerLog } from './monitor/peers';
import { CONNECTION_DEFAULTS, ConnectionSettings, Mode, readConnectionSettings } from './connection-settings';
import { Node, NodeAPI, NodeDefinition, NodeStatus } from './red';
import { SharedConnection, SharedUser } from './shared-connection';
import { nodeStatusFor } from './status';

/**
 * Who may send a data event's `values` record itself as msg.payload: every user gets the
 * same event, and a flow may change a payload, so only the first user that claims the
 * record gets it; the others build their own.
 */
export class RecordClaim {
  private claimed = false;

  constructor(private readonly event: DataEvent) {}

  /** The event's record for the first caller, null for every later one. */
  take(): SignalRecord | null {
    if (this.claimed) return null;
    this.claimed = true;
    return this.event.values;
  }
}

/** A node that uses the connection. It registers on start and deregisters on close. */
export interface ConnectionUser extends SharedUser {
  /** realvirtual-in only: the names it wants, or null for all. */
  signals?: readonly string[] | null;
  onData?(event: DataEvent, record: RecordClaim): void;
  onConfigSet?(peer: PeerInfo, config: ConfigObject): void;
}

interface TlsConfigNode extends Node {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

/** The shared session behind a `realvirtual-connection` config node (see SharedConnection). */
export class Connection extends SharedConnection<ConnectionSettings, EndpointEvents, RealvirtualServer | RealvirtualClient, ConnectionUser> {
  private config: ConfigObject = {};
  private readonly store: ConfigStore;
  /** The values the flow wrote, kept while the endpoint is closed between its last user and the next. */
  private retained: SignalRecord | null = null;
  /** The tls-config node id ("" = none): part of the target the edit dialog compares with the deployed one. */
  readonly tlsConfigId: string;
  /** The open endpoint's peers, for the signal monitor. */
  peerLog: PeerLog | null = null;
  /** Told the names of every applied write and who wrote them ("flow", "editor:<user>"): the signal monitor, only while it needs to. */
  readonly writeObservers = new Set<(applied: readonly string[], origin: string) => void>();

  constructor(node: Node, RED: NodeAPI, definition: NodeDefinition) {
    const texts = {
      connecting: RED._('realvirtual-connection.status.connecting'),
      invalid: (error: string) => RED._('realvirtual-connection.errors.invalid', { error }),
    };
    super(node, RED, texts, () => readConnectionSettings(definition, node.credentials?.secret ?? ''));
    const settings = this.settings;
    this.tlsConfigId = typeof definition.tls === 'string' ? definition.tls : '';
    const userDir = RED.settings.userDir;
    const maxConfigBytes = settings?.server.maxConfigBytes ?? CONNECTION_DEFAULTS.maxConfigBytes;
    this.store = new ConfigStore(typeof userDir === 'string' && userDir ? userDir : null, node.id, maxConfigBytes, (message) => node.warn(message));
    if (settings && settings.mode === 'server') this.config = this.store.load(settings.server.cycleMs ?? CONNECTION_DEFAULTS.cycleMs);
  }

  get mode(): Mode | null {
    return this.settings ? this.settings.mode : null;
  }

  get connected(): boolean {
    const state = this.endpoint?.status.state;
    return state === 'connected' || (state === 'listening' && this.endpoint!.status.clients > 0);
  }

  /** Server mode: true while the server is bound. */
  get listening(): boolean {
    return this.endpoint instanceof RealvirtualServer && this.endpoint.status.state === 'listening';
  }

  /** Every signal the connection knows (declared, imported or seen), for the editor's signal picker. */
  catalog(): Array<{ name: string; valueType: string; direction: string; rvType: string; declared: boolean }> {
    if (!this.endpoint)
      return (this.settings?.server.signals ?? []).map((signal) => ({
        name: signal.name,
        valueType: signal.type,
        direction: signal.direction,
        rvType: realvirtualType(signal.direction, signal.type),
        declared: true,
      }));
    return [...this.endpoint.table].map((signal) => ({ name: signal.name, valueType: signal.valueType, direction: signal.direction, rvType: signal.rvType, declared: signal.declared }));
  }

  /**
   * Closes the endpoint for good (the config node itself is closing), then writes the
   * configuration's last state; a removed connection forgets its stored configuration.
   */
  override async close(removed = false): Promise<void> {
    await this.shutdown();
    await (removed ? this.store.remove() : this.store.flush());
  }

  /** Applies values; returns what was applied and the per-signal errors. */
  write(values: Record<string, unknown> | Array<[string, unknown]>, origin = 'flow'): WriteResult {
    const result = this.requireEndpoint().writeMany(values);
    if (this.writeObservers.size > 0) for (const observe of this.writeObservers) observe(result.applied, origin);
    return result;
  }

  /** The last values received, for realvirtual-in's "state" output. */
  receivedValues(): SignalRecord {
    return this.endpoint ? this.endpoint.values('read') : {};
  }

  /** Client mode: one result from the server. Server mode: one per client, delivered as each answers. */
  async requestImport(onResult: (result: ImportResult) => void, timeoutMs?: number): Promise<RealvirtualError[]> {
    const endpoint = this.requireEndpoint();
    if (endpoint instanceof RealvirtualClient) {
      onResult(await endpoint.requestImport(timeoutMs));
      return [];
    }
    const clients = endpoint.clients;
    if (clients.length === 0) throw new ConnectionError('ERR_NOT_CONNECTED', this.RED._('realvirtual-connection.errors.no-clients'));
    const errors: RealvirtualError[] = [];
    await Promise.all(
      clients.map((peer) =>
        endpoint.requestImportFromPeer(peer.id, timeoutMs).then(onResult, (error: RealvirtualError) => {
          errors.push(error);
        }),
      ),
    );
    return errors;
  }

  /** Declares what an import found; returns a SignalError for each signal beyond the connection's limits. */
  declareImported(signals: readonly ImportedSignal[]): SignalError[] {
    return this.requireEndpoint().declareImported(signals);
  }

  /** Client mode: asks the server. Server mode: the stored configuration. */
  async getConfig(): Promise<ConfigObject> {
    const endpoint = this.requireEndpoint();
    if (endpoint instanceof RealvirtualClient) return endpoint.getConfig();
    return { ...this.config };
  }

  /** Client mode: sends config_set. Server mode: merges, applies and stores. */
  async setConfig(partial: ConfigObject): Promise<ConfigResult | ConfigObject> {
    const endpoint = this.requireEndpoint();
    if (endpoint instanceof RealvirtualClient) return endpoint.setConfig(partial);
    return this.applyConfig(endpoint, partial);
  }

  protected closedError(): RealvirtualError {
    return new ConnectionError('ERR_CLOSED', this.RED._('realvirtual-connection.errors.closed'));
  }

  /** Merges (throwing a coded error over the limits, with nothing merged), applies and stores in the background. */
  private applyConfig(endpoint: Endpoint, partial: ConfigObject): ConfigObject {
    this.config = endpoint.mergeConfig(partial);
    this.store.save(this.config, this.settings?.server.cycleMs ?? CONNECTION_DEFAULTS.cycleMs);
    return { ...this.config };
  }

  private tlsOptions(): Record<string, unknown> | undefined {
    const id = this.tlsConfigId;
    if (!id) return undefined;
    const tlsNode = this.RED.nodes.getNode(id) as TlsConfigNode | null;
    if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') {
      throw new OptionError(this.RED._('realvirtual-connection.errors.tls-missing'));
    }
    return tlsNode.addTLSOptions({});
  }

  protected createEndpoint(settings: ConnectionSettings): RealvirtualServer | RealvirtualClient {
    const logger = this.logger(settings.debug);
    const tls = this.tlsOptions();
    if (settings.mode === 'client') return new RealvirtualClient({ ...settings.client, logger, tls });
    const server: RealvirtualServer = new RealvirtualServer({
      ...settings.server,
      cycleMs: typeof this.config.publishIntervalMs === 'number' ? this.config.publishIntervalMs : settings.server.cycleMs,
      logger,
      tls: tls as ServerTlsOptions | undefined,
      config: this.config,
      onConfigSet: (config) => {
        this.applyConfig(server, config);
        return { success: true, message: 'Configuration saved and applied' };
      },
    });
    return server;
  }

  protected opened(endpoint: RealvirtualServer | RealvirtualClient): void {
    this.peerLog = new PeerLog(endpoint);
    if (this.retained) endpoint.writeMany(this.retained);
    this.retained = null;
    this.listen(endpoint, 'status', (status: EndpointStatus) => this.setStatus(this.statusFor(endpoint, status)));
    this.listen(endpoint, 'data', (event: DataEvent) => {
      const record = new RecordClaim(event);
      for (const user of this.users.values()) if (user.onData) user.onData(event, record);
    });
    this.listen(endpoint, 'configSet', (peer: PeerInfo, config: ConfigObject, result: ConfigResult) => {
      // A refused config_set changed nothing: only its sender hears of it (success: false).
      if (!result.success) return;
      for (const user of this.users.values()) if (user.onConfigSet) user.onConfigSet(peer, config);
    });
    // Let every node of the flow register first, so that the first subscribe is already the union.
    setImmediate(() => {
      if (this.endpoint !== endpoint) return;
      // A busy port is retried by the engine (listenRetries); it logs each new error once and ends red when it gives up.
      if (endpoint instanceof RealvirtualServer) void endpoint.listen();
      else void endpoint.connect();
    });
  }

  /** Connected, but the secret travels in clear text to another machine: a yellow dot says so as long as it lasts. */
  private statusFor(endpoint: RealvirtualServer | RealvirtualClient, status: EndpointStatus): NodeStatus {
    if (status.state === 'connected' && endpoint instanceof RealvirtualClient && endpoint.sendsSecretInClearText) {
      return { fill: 'yellow', shape: 'dot', text: this.RED._('realvirtual-connection.status.insecure', { peer: status.peerName ?? '' }) };
    }
    return nodeStatusFor(status, this.RED._);
  }

  protected override closingEndpoint(endpoint: RealvirtualServer | RealvirtualClient): void {
    this.retained = endpoint.values('write');
  }

  /** Keeps a client's subscription the union of what the realvirtual-in nodes want. */
  protected override usersChanged(): void {
    const endpoint = this.endpoint;
    if (!(endpoint instanceof RealvirtualClient)) return;
    const wanted = [...this.users.values()].filter((user) => user.signals !== undefined);
    // With no realvirtual-in left (as between the stop and the start of a partial deploy),
    // nothing reads what the server sends: keep the subscription rather than widen it to
    // "all", which would make the client reconnect (a subscription cannot be undone).
    if (wanted.length === 0) return;
    let subscription: string[] | null = null;
    if (wanted.every((user) => user.signals !== null && user.signals!.length > 0)) {
      subscription = [...new Set(wanted.flatMap((user) => user.signals as string[]))].sort();
    }
    if (JSON.stringify(endpoint.subscribed) === JSON.stringify(subscription)) return;
    endpoint.setSubscription(subscription);
  }
}
