import { registerAdminEndpoints } from './lib/admin';
import { Connection } from './lib/connection';
import { Node, NodeAPI, NodeDefinition } from './lib/red';

interface ConnectionNode extends Node {
  connection: Connection;
}

export = function register(RED: NodeAPI): void {
  function RealvirtualConnectionNode(this: ConnectionNode, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    this.connection = new Connection(this, RED, definition);
    this.on('close', (removed: boolean, done: () => void) => {
      this.connection.close(removed).then(done, done);
    });
  }
  RED.nodes.registerType('realvirtual-connection', RealvirtualConnectionNode);
  registerAdminEndpoints(RED);
};
