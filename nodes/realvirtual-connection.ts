import { registerAdminEndpoints } from './lib/admin';
import { Connection } from './lib/connection';
import { registerMonitor } from './lib/monitor';
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
  // The shared secret is a credential: stored apart from the flow (flows_cred.json, encrypted), never exported with it.
  RED.nodes.registerType('realvirtual-connection', RealvirtualConnectionNode, { credentials: { secret: { type: 'password' } } });
  registerAdminEndpoints(RED);
  registerMonitor(RED);
};
