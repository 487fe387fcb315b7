import { ConfigObject, internals, PeerInfo } from '../engine';
import { ConnectionUser } from './lib/connection';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage, SendFunction } from './lib/red';
import { connectionOf } from './lib/config-node';
import { InputErrors } from './lib/input-errors';

const { isPlainObject } = internals;

export = function register(RED: NodeAPI): void {
  function RealvirtualConfigNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    const errors = new InputErrors(node, () => node.status(connection.currentStatus));
    const user: ConnectionUser = {
      node,
      onConfigSet(peer: PeerInfo, config: ConfigObject) {
        node.send({ topic: 'realvirtual', payload: config, rv: { type: 'config_set', peer } });
      },
    };

    node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
      const payload = msg.payload;
      let request: Promise<unknown>;
      if (isEmptyPayload(payload)) request = connection.getConfig();
      else if (isPlainObject(payload)) request = connection.setConfig(payload);
      else {
        errors.fail(new Error(RED._('realvirtual-config.errors.bad-payload')), done);
        return;
      }
      request.then(
        (answer) => {
          msg.payload = answer;
          send(msg);
          errors.succeeded();
          done();
        },
        (error: Error) => errors.fail(error, done),
      );
    });
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('realvirtual-config', RealvirtualConfigNode);
};

/** True for the empty payloads that mean "read" rather than "write": undefined, null, "" and {}. */
function isEmptyPayload(payload: unknown): boolean {
  if (payload === undefined || payload === null || payload === '') return true;
  return typeof payload === 'object' && !Array.isArray(payload) && Object.keys(payload as object).length === 0;
}
