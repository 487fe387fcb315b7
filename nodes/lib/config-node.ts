import { Connection } from './connection';
import { MinVRConnection } from './minvr-connection';
import { Node, NodeAPI, NodeDefinition } from './red';

/** Messages shared by every node live in the connection node's catalog. */
export const CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/realvirtual-connection';

/** Messages shared by every MinVR3 node live in the minvr-connection node's catalog. */
export const MINVR_CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/minvr-connection';

/** Finds the connection a node is configured with; reports a clear error when there is none. */
export function connectionOf(RED: NodeAPI, node: Node, definition: NodeDefinition): Connection | null {
  return sharedConnectionOf<Connection>(RED, node, definition, 'realvirtual-connection', `${CONNECTION_NAMESPACE}:realvirtual-connection.errors.no-connection`);
}

/** Finds the MinVR3 connection a node is configured with; reports a clear error when there is none. */
export function minvrConnectionOf(RED: NodeAPI, node: Node, definition: NodeDefinition): MinVRConnection | null {
  return sharedConnectionOf<MinVRConnection>(RED, node, definition, 'minvr-connection', `${MINVR_CONNECTION_NAMESPACE}:minvr-connection.errors.no-connection`);
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
