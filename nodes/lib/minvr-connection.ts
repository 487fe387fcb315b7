import { internals, Logger, MinVRClient, MinVREndpoint, MinVRPeerInfo, MinVRServer, MinVRStatus, OptionError, OutgoingEvent, ProtocolError, RealvirtualError, VREvent } from '../../engine';
import { MinVRSettings, readMinVRSettings } from './minvr-settings';
import { Node, NodeAPI, NodeDefinition, NodeStatus } from './red';
import { errorStatus, nodeStatusFor } from './status';

const { clip, escapeUnprintable, LogBudget } = internals;

const USER_ERRORS_PER_MINUTE = 20;

/** A node that uses the connection: it registers on start and deregisters on close. */
export interface MinVRUser {
  node: Node;
  onEvent?(event: VREvent, peer: MinVRPeerInfo): void;
}

/**
 * The shared endpoint behind a `minvr-connection` config node. It opens when the first node
 * registers and closes only when the last one is removed, so a partial deploy keeps it
 * (as Node-RED's MQTT broker node does).
 */
export class MinVRConnection {
  readonly settings: MinVRSettings | null;
  readonly settingsError: OptionError | null;
  private endpoint: MinVREndpoint | null = null;
  private readonly users = new Map<string, MinVRUser>();
  private status: NodeStatus;
  private openError: RealvirtualError | null = null;
  private closing: Promise<void> | null = null;
  private readonly detach: Array<() => void> = [];
  private readonly userErrorBudget = new LogBudget(USER_ERRORS_PER_MINUTE, 60000, (count) =>
    this.node.warn(`${count} more MinVR3 event${count === 1 ? '' : 's'} could not be passed on to a node in the last minute (not reported one by one)`),
  );

  constructor(
    private readonly node: Node,
    private readonly RED: NodeAPI,
    definition: NodeDefinition,
  ) {
    let settings: MinVRSettings | null = null;
    let settingsError: OptionError | null = null;
    try {
      settings = readMinVRSettings(definition);
    } catch (error) {
      settingsError = error instanceof OptionError ? error : new OptionError((error as Error).message);
      node.error(RED._('minvr-connection.errors.invalid', { error: settingsError.message }));
    }
    this.settings = settings;
    this.settingsError = settingsError;
    this.status = settingsError ? errorStatus(settingsError) : { fill: 'yellow', shape: 'ring', text: RED._('minvr-connection.status.connecting') };
  }

  get currentStatus(): NodeStatus {
    return this.status;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** tcp://… or ws://… of the server (server mode: ours), once open. */
  get url(): string {
    return this.endpoint ? this.endpoint.url : '';
  }

  /** The open engine endpoint, or null: the signal monitor follows its events. */
  get engine(): MinVREndpoint | null {
    return this.endpoint;
  }

  get peerCount(): number {
    return this.endpoint ? this.endpoint.status.clients : 0;
  }

  register(user: MinVRUser): void {
    this.users.set(user.node.id, user);
    user.node.status(this.status);
    if (this.settings && !this.endpoint && !this.closing && !this.openError) this.open(this.settings);
  }

  /** Removes a user; the connection closes when the last user is removed (not merely redeployed). */
  deregister(user: MinVRUser, removed: boolean, done: () => void): void {
    this.users.delete(user.node.id);
    user.node.status({});
    if (removed && this.users.size === 0 && this.endpoint) {
      this.shutdown().then(done, done);
      return;
    }
    done();
  }

  close(): Promise<void> {
    this.userErrorBudget.dispose();
    return this.shutdown();
  }

  /** Sends to every connected peer; returns how many it went to. Throws for an event that cannot be encoded. */
  send(event: VREvent): number {
    const outgoing = OutgoingEvent.of(event);
    if (!this.endpoint) throw this.settingsError ?? this.openError ?? new RealvirtualError('ERR_CLOSED', this.RED._('minvr-connection.errors.closed'));
    return this.endpoint.sendEncoded(outgoing);
  }

  private logger(): Logger {
    const node = this.node;
    return {
      debug: () => undefined,
      // Engine lines quote what peers chose: none may start a line of its own.
      info: (message) => node.log(escapeUnprintable(message)),
      warn: (message) => node.warn(escapeUnprintable(message)),
      error: (message) => node.error(escapeUnprintable(message)),
    };
  }

  private open(settings: MinVRSettings): void {
    let endpoint: MinVREndpoint;
    try {
      const options = { ...settings.options, logger: this.logger() };
      endpoint = settings.mode === 'server' ? new MinVRServer(options) : new MinVRClient(options);
    } catch (error) {
      const failure = error instanceof RealvirtualError ? error : new OptionError((error as Error).message);
      this.openError = failure;
      this.node.error(this.RED._('minvr-connection.errors.invalid', { error: failure.message }));
      this.setStatus(errorStatus(failure));
      return;
    }
    this.endpoint = endpoint;
    const onStatus = (status: MinVRStatus): void => this.setStatus(nodeStatusFor(status, this.RED._, 'minvr-connection'));
    const onEvent = (event: VREvent, peer: MinVRPeerInfo): void => {
      for (const user of this.users.values()) {
        if (!user.onEvent) continue;
        try {
          user.onEvent(event, peer);
        } catch (error) {
          this.userFailed(user, event, error);
        }
      }
    };
    endpoint.on('status', onStatus);
    endpoint.on('event', onEvent);
    this.detach.push(
      () => endpoint.off('status', onStatus),
      () => endpoint.off('event', onEvent),
    );
    if (endpoint instanceof MinVRServer) void endpoint.listen();
    else void (endpoint as MinVRClient).connect();
  }

  /** A node failed on one event: the others still get it; a Catch node gets the coded error, the log at most 20 lines a minute. */
  private userFailed(user: MinVRUser, event: VREvent, error: unknown): void {
    const failure = new ProtocolError('ERR_MINVR_EVENT', `MinVR3 event ${clip(JSON.stringify(event.name), 100)} could not be passed on: ${clip(String((error as Error)?.message ?? error))}`, {
      cause: error,
    });
    if (this.userErrorBudget.take() === 'quiet') return;
    // Node-RED gives the Catch node msg.error with the message and the code.
    user.node.error(failure, { topic: event.name, payload: null });
  }

  private shutdown(): Promise<void> {
    if (this.closing) return this.closing;
    const endpoint = this.endpoint;
    if (!endpoint) return Promise.resolve();
    this.closing = endpoint.close().then(() => {
      for (const detach of this.detach.splice(0)) detach();
      this.endpoint = null;
      this.closing = null;
    });
    return this.closing;
  }

  private setStatus(status: NodeStatus): void {
    this.status = status;
    for (const user of this.users.values()) user.node.status(status);
  }
}
