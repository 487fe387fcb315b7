import { MinVRConnection } from './lib/minvr-connection';
import { registerMonitor } from './lib/monitor';
import { Node, NodeAPI, NodeDefinition } from './lib/red';

interface MinVRConnectionNode extends Node {
  connection: MinVRConnection;
}

export = function register(RED: NodeAPI): void {
  function MinVRConnectionNode(this: MinVRConnectionNode, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    this.connection = new MinVRConnection(this, RED, definition);
    this.on('close', (_removed: boolean, done: () => void) => {
      this.connection.close().then(done, done);
    });
  }
  RED.nodes.registerType('minvr-connection', MinVRConnectionNode);
  registerMonitor(RED);
};
