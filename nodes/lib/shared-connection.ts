import { internals, Logger, OptionError, RealvirtualError } from '../../engine';
import { Node, NodeAPI, NodeStatus } from './red';
import { errorStatus } from './status';

const { escapeUnprintable } = internals;

/** A node that uses a connection: it registers when it starts and deregisters when it closes. */
export interface SharedUser {
  node: Node;
}

/** What the shared connection uses of an engine endpoint; `Events` maps each of its events to the listener's type. */
export interface SharedEndpoint<Events> {
  readonly url: string;
  readonly status: { clients: number };
  on<K extends keyof Events & string>(event: K, listener: Events[K]): unknown;
  off<K extends keyof Events & string>(event: K, listener: Events[K]): unknown;
  close(): Promise<void>;
}

/** The texts of a connection node type, from its message catalog. */
export interface ConnectionTexts {
  /** The status while the endpoint connects or starts listening. */
  connecting: string;
  /** The error for settings the connection cannot use. */
  invalid(error: string): string;
}

/**
 * The session behind a connection config node, shared by every node that uses it (as Node-RED's
 * MQTT broker node shares its client): one engine endpoint, opened when the first node registers
 * and closed only when the last one is removed, so that a partial deploy keeps it. Every user
 * shows the connection's status.
 */
export abstract class SharedConnection<Settings, Events, E extends SharedEndpoint<Events>, U extends SharedUser> {
  readonly settings: Settings | null;
  readonly settingsError: OptionError | null;
  protected endpoint: E | null = null;
  protected readonly users = new Map<string, U>();
  private status: NodeStatus;
  /** Why the endpoint could not be created from valid-looking settings (e.g. a bad declared value). */
  private openError: RealvirtualError | null = null;
  private closing: Promise<void> | null = null;
  private readonly detach: Array<() => void> = [];

  constructor(
    protected readonly node: Node,
    protected readonly RED: NodeAPI,
    private readonly texts: ConnectionTexts,
    readSettings: () => Settings,
  ) {
    let settings: Settings | null = null;
    let settingsError: OptionError | null = null;
    try {
      settings = readSettings();
    } catch (error) {
      settingsError = error instanceof OptionError ? error : new OptionError((error as Error).message);
      node.error(texts.invalid(settingsError.message));
    }
    this.settings = settings;
    this.settingsError = settingsError;
    this.status = settingsError ? errorStatus(settingsError) : { fill: 'yellow', shape: 'ring', text: texts.connecting };
  }

  /** The status every user node shows. */
  get currentStatus(): NodeStatus {
    return this.status;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** The open engine endpoint, or null: the signal monitor follows it. */
  get engine(): E | null {
    return this.endpoint;
  }

  /** Where the endpoint listens (server mode) or what it connects to (client mode), once open. */
  get url(): string {
    return this.endpoint ? this.endpoint.url : '';
  }

  get clientCount(): number {
    return this.endpoint ? this.endpoint.status.clients : 0;
  }

  /** Adds a user, which shows the current status at once; the first user opens the endpoint. */
  register(user: U): void {
    this.users.set(user.node.id, user);
    user.node.status(this.status);
    if (!this.settings) return;
    if (!this.endpoint && !this.closing && !this.openError) this.open(this.settings);
    this.usersChanged();
  }

  /** Removes a user; the endpoint closes when the last user is removed (not merely redeployed). */
  deregister(user: U, removed: boolean, done: () => void): void {
    this.users.delete(user.node.id);
    user.node.status({});
    this.usersChanged();
    if (removed && this.users.size === 0 && this.endpoint) {
      this.shutdown().then(done, done);
      return;
    }
    done();
  }

  /** Closes the endpoint for good: the config node itself is closing. */
  close(): Promise<void> {
    return this.shutdown();
  }

  /** Creates the endpoint (not yet started); what it throws becomes the connection's error. */
  protected abstract createEndpoint(settings: Settings): E;

  /** Follows the new endpoint's events (through `listen`) and starts it. */
  protected abstract opened(endpoint: E): void;

  /** The error of a use while no endpoint is open. */
  protected abstract closedError(): RealvirtualError;

  /** After a user came or went. */
  protected usersChanged(): void {}

  /** The endpoint starts closing. */
  protected closingEndpoint(_endpoint: E): void {}

  protected requireEndpoint(): E {
    if (this.endpoint) return this.endpoint;
    throw this.settingsError ?? this.openError ?? this.closedError();
  }

  /** Adds a listener to the endpoint that is removed once it has closed. */
  protected listen<K extends keyof Events & string>(endpoint: E, event: K, listener: Events[K]): void {
    endpoint.on(event, listener);
    this.detach.push(() => endpoint.off(event, listener));
  }

  /** Every user shows `status` from now on, as does each user that registers later. */
  protected setStatus(status: NodeStatus): void {
    this.status = status;
    for (const user of this.users.values()) user.node.status(status);
  }

  /** The engine's log lines in the config node's log. */
  protected logger(debug = false): Logger {
    const node = this.node;
    return {
      debug: debug ? (message) => node.log(escapeUnprintable(message)) : () => undefined,
      // Engine lines quote what peers chose: none may start a line of its own.
      info: (message) => node.log(escapeUnprintable(message)),
      warn: (message) => node.warn(escapeUnprintable(message)),
      error: (message) => node.error(escapeUnprintable(message)),
    };
  }

  protected shutdown(): Promise<void> {
    if (this.closing) return this.closing;
    const endpoint = this.endpoint;
    if (!endpoint) return Promise.resolve();
    this.closingEndpoint(endpoint);
    this.closing = endpoint.close().then(() => {
      for (const detach of this.detach.splice(0)) detach();
      this.endpoint = null;
      this.closing = null;
    });
    return this.closing;
  }

  private open(settings: Settings): void {
    let endpoint: E;
    try {
      endpoint = this.createEndpoint(settings);
    } catch (error) {
      const failure = error instanceof RealvirtualError ? error : new OptionError((error as Error).message);
      this.openError = failure;
      this.node.error(this.texts.invalid(failure.message));
      this.setStatus(errorStatus(failure));
      return;
    }
    this.endpoint = endpoint;
    this.opened(endpoint);
  }
}
