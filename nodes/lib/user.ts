import { RealvirtualError, SignalError, SignalErrors } from '../../engine/errors';
import { Connection } from './connection';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage } from './red';
import { errorStatus } from './status';

/** Messages shared by every node live in the connection node's catalog. */
export const CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/realvirtual-connection';

/** Finds the connection a node is configured with; reports a clear error when there is none. */
export function connectionOf(RED: NodeAPI, node: Node, definition: NodeDefinition): Connection | null {
  const id = typeof definition.connection === 'string' ? definition.connection : '';
  const configNode = id ? (RED.nodes.getNode(id) as (Node & { connection?: Connection }) | null) : null;
  if (!configNode || !configNode.connection) {
    const text = RED._(`${CONNECTION_NAMESPACE}:realvirtual-connection.errors.no-connection`);
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
