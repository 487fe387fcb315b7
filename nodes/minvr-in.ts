import { isUnknownEvent, MinVRPeerInfo, VREvent } from '../engine';
import { EventFilter } from './lib/event-filter';
import { MinVRUser } from './lib/minvr-connection';
import { Node, NodeAPI, NodeDefinition, NodeMessage } from './lib/red';
import { minvrConnectionOf } from './lib/config-node';

/**
 * Each node gets its own copy of structured data, so that one flow cannot change what another
 * sees. structuredClone recurses, which is safe: decoding refuses data nested deeper than MAX_RAW_DEPTH.
 */
function payloadOf(event: VREvent): unknown {
  const data = (event as { data?: unknown }).data;
  if (data === undefined || data === null) return null;
  return typeof data === 'object' ? structuredClone(data) : data;
}

export = function register(RED: NodeAPI): void {
  function MinVRInNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const connection = minvrConnectionOf(RED, node, definition);
    if (!connection) return;
    const filter = new EventFilter(typeof definition.events === 'string' ? definition.events : '');
    const user: MinVRUser = {
      node,
      onEvent(event: VREvent, peer: MinVRPeerInfo): void {
        if (!filter.matches(event.name)) return;
        const minvr: Record<string, unknown> = { dataType: event.type, peer: { ...peer } };
        if (isUnknownEvent(event)) minvr.unknownType = true;
        const msg: NodeMessage = { topic: event.name, payload: payloadOf(event), minvr };
        node.send(msg);
      },
    };
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('minvr-in', MinVRInNode);
};
