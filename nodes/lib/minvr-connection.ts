import { internals, MinVRClient, MinVREndpoint, MinVREvents, MinVRPeerInfo, MinVRServer, MinVRStatus, OutgoingEvent, ProtocolError, RealvirtualError, VREvent } from '../../engine';
import { MinVRSettings, readMinVRSettings } from './minvr-settings';
import { Node, NodeAPI, NodeDefinition } from './red';
import { SharedConnection, SharedUser } from './shared-connection';
import { nodeStatusFor } from './status';

const { clip, LogBudget } = internals;

const USER_ERRORS_PER_MINUTE = 20;

/** A node that uses the connection: it registers on start and deregisters on close. */
export interface MinVRUser extends SharedUser {
  onEvent?(event: VREvent, peer: MinVRPeerInfo): void;
}

/** The shared endpoint behind a `minvr-connection` config node (see SharedConnection). */
export class MinVRConnection extends SharedConnection<MinVRSettings, MinVREvents, MinVREndpoint, MinVRUser> {
  private readonly userErrorBudget = new LogBudget(USER_ERRORS_PER_MINUTE, 60000, (count) =>
    this.node.warn(`${count} more MinVR3 event${count === 1 ? '' : 's'} could not be passed on to a node in the last minute (not reported one by one)`),
  );

  constructor(node: Node, RED: NodeAPI, definition: NodeDefinition) {
    const texts = {
      connecting: RED._('minvr-connection.status.connecting'),
      invalid: (error: string) => RED._('minvr-connection.errors.invalid', { error }),
    };
    super(node, RED, texts, () => readMinVRSettings(definition));
  }

  override close(): Promise<void> {
    this.userErrorBudget.dispose();
    return super.close();
  }

  /** Sends to every connected peer; returns how many it went to. Throws for an event that cannot be encoded. */
  send(event: VREvent): number {
    const outgoing = OutgoingEvent.of(event);
    return this.requireEndpoint().sendEncoded(outgoing);
  }

  protected createEndpoint(settings: MinVRSettings): MinVREndpoint {
    const options = { ...settings.options, logger: this.logger() };
    return settings.mode === 'server' ? new MinVRServer(options) : new MinVRClient(options);
  }

  protected opened(endpoint: MinVREndpoint): void {
    this.listen(endpoint, 'status', (status: MinVRStatus) => this.setStatus(nodeStatusFor(status, this.RED._, 'minvr-connection')));
    this.listen(endpoint, 'event', (event: VREvent, peer: MinVRPeerInfo) => {
      for (const user of this.users.values()) {
        if (!user.onEvent) continue;
        try {
          user.onEvent(event, peer);
        } catch (error) {
          this.userFailed(user, event, error);
        }
      }
    });
    if (endpoint instanceof MinVRServer) void endpoint.listen();
    else void (endpoint as MinVRClient).connect();
  }

  protected closedError(): RealvirtualError {
    return new RealvirtualError('ERR_CLOSED', this.RED._('minvr-connection.errors.closed'));
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
}
