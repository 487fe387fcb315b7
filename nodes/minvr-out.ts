import { MinVRUser } from './lib/minvr-connection';
import { outgoingEvent } from './lib/minvr-outgoing';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage, SendFunction } from './lib/red';
import { minvrConnectionOf } from './lib/config-node';
import { InputErrors } from './lib/input-errors';

export = function register(RED: NodeAPI): void {
  function MinVROutNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const dataType = typeof definition.dataType === 'string' ? definition.dataType : '';
    const connection = minvrConnectionOf(RED, node, definition);
    if (!connection) return;
    const user: MinVRUser = { node };
    const errors = new InputErrors(node, () => node.status(connection.currentStatus));

    node.on('input', (msg: NodeMessage, _send: SendFunction, done: DoneFunction) => {
      // Not connected is not an error: MinVR3 does not queue events, and the status shows it.
      errors.attempt(done, () => connection.send(outgoingEvent(msg, dataType, RED._)));
    });
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('minvr-out', MinVROutNode);
};
