import { RealvirtualError, SignalError, SignalErrors } from '../../engine';
import { Connection } from './connection';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage } from './red';
import { errorStatus } from './status';

/** Messages shared by every node live in the connection node's catalog. */
export const CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/realvirtual-connection';

/** Messages shared by every MinVR3 node live in the minvr-connection node's catalog. */
export const MINVR_CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/minvr-connection';

/** Finds the connection a node is configured with; reports a clear error when there is none. */
export function connectionOf(RED: NodeAPI, node: Node, definition: NodeDefinition): Connection | null {
  return sharedConnectionOf<Connection>(RED, node, definition, 'realvirtual-connection', `${CONNECTION_NAMESPACE}:realvirtual-connection.errors.no-connection`);
}

/**
 * The shared object (`connection`) of the config node in `definition.connection`, which must be
 * of `configType` (a hand-edited flow may point elsewhere); null, with the error `missingKey`
 * reported, when there is none.
 */
export function sharedConnectionOf<T>(RED: NodeAPI, node: Node, definition: NodeDefinition, configType: string, missingKey: string): T | null {
  const id = typeof definition.connection === 'string' ? definition.connection : '';
  const configNode = id ? (RED.nodes.getNode(id) as (Node & { connection?: T }) | null) : null;
  if (!configNode || configNode.type !== configType || !configNode.connection) {
    const text = RED._(missingKey);
    node.status({ fill: 'red', shape: 'ring', text });
    node.error(text);
    return null;
  }
  return configNode.connection;
}

/**
 * Reports a bad input message to a Catch node (through done) and on the node's status;
 * the connection's status comes back with the next good message.
 */
export class InputErrors {
  private showing = false;

  constructor(
    private readonly node: Node,
    private readonly restore: () => void,
  ) {}

  fail(error: Error, done: DoneFunction): void {
    this.showing = true;
    this.node.status(errorStatus(error));
    done(error);
  }

  /** Runs the node's work for one message: done() when it succeeds, fail() with what it threw. */
  attempt(done: DoneFunction, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error as Error, done);
      return;
    }
    this.succeeded();
    done();
  }

  succeeded(): void {
    if (!this.showing) return;
    this.showing = false;
    this.restore();
  }
}

/** One Error for a message whose signals were partly rejected: it names each signal and why. */
export function combineSignalErrors(errors: SignalError[]): Error {
  return errors.length === 1 ? errors[0] : new SignalErrors(errors);
}

/** One Error for several failures (e.g. clients that did not answer), keeping the first one's code for Catch nodes. */
export function combineErrors(errors: RealvirtualError[]): RealvirtualError {
  if (errors.length === 1) return errors[0];
  return new RealvirtualError(errors[0].code, errors.map((error) => error.message).join('; '));
}

/** True for the empty payloads that mean "read" rather than "write": undefined, null, "" and {}. */
export function isEmptyPayload(payload: unknown): boolean {
  if (payload === undefined || payload === null || payload === '') return true;
  return typeof payload === 'object' && !Array.isArray(payload) && Object.keys(payload as object).length === 0;
}

export type { NodeMessage };
