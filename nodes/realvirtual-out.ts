import { ConnectionUser } from './lib/connection';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage, SendFunction } from './lib/red';
import { renamesOf } from './lib/signal-renames';
import { connectionOf } from './lib/config-node';
import { combineSignalErrors, InputErrors } from './lib/input-errors';

function isPrimitive(value: unknown): boolean {
  return typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string';
}

export = function register(RED: NodeAPI): void {
  function RealvirtualOutNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const signal = typeof definition.signal === 'string' ? definition.signal.trim() : '';
    const renames = renamesOf(node, definition);
    if (renames === undefined) return;
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    const user: ConnectionUser = { node };
    const errors = new InputErrors(node, () => node.status(connection.currentStatus));

    node.on('input', (msg: NodeMessage, _send: SendFunction, done: DoneFunction) => {
      const payload = msg.payload;
      let values: Record<string, unknown> | Array<[string, unknown]>;
      if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
        values = payload as Record<string, unknown>;
      } else if (isPrimitive(payload) && typeof msg.topic === 'string' && msg.topic !== '') {
        values = [[renames ? renames.toRealvirtual(msg.topic) : msg.topic, payload]];
      } else if (isPrimitive(payload) && signal !== '') {
        values = [[signal, payload]];
      } else {
        const reason = isPrimitive(payload)
          ? RED._('realvirtual-out.errors.no-topic')
          : RED._('realvirtual-out.errors.bad-payload', { type: payload === null ? 'null' : Array.isArray(payload) ? 'array' : typeof payload });
        errors.fail(new Error(reason), done);
        return;
      }
      if (renames && !Array.isArray(values)) {
        const record = values;
        values = Object.keys(record).map((name): [string, unknown] => [renames.toRealvirtual(name), record[name]]);
      }
      errors.attempt(done, () => {
        const result = connection.write(values);
        if (result.errors.length > 0) throw combineSignalErrors(result.errors);
      });
    });
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('realvirtual-out', RealvirtualOutNode);
};
