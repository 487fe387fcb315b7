import { ImportResult, SignalError } from '../engine';
import { ConnectionUser } from './lib/connection';
import { readImportTimeoutMs } from './lib/import-settings';
import { DoneFunction, Node, NodeAPI, NodeDefinition, NodeMessage, SendFunction } from './lib/red';
import { errorStatus } from './lib/status';
import { connectionOf } from './lib/config-node';
import { combineErrors, combineSignalErrors, InputErrors } from './lib/input-errors';

export = function register(RED: NodeAPI): void {
  function RealvirtualImportNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const declare = definition.declare === true || definition.declare === 'true';
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    const user: ConnectionUser = { node };
    const errors = new InputErrors(node, () => node.status(connection.currentStatus));
    let timeoutMs = 0;
    let settingsError: Error | null = null;
    try {
      timeoutMs = readImportTimeoutMs(definition.timeout);
    } catch (error) {
      settingsError = error as Error;
      node.error(settingsError);
    }

    node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
      if (settingsError) {
        errors.fail(settingsError, done);
        return;
      }
      const rejected: SignalError[] = [];
      const deliver = (result: ImportResult): void => {
        if (declare) rejected.push(...connection.declareImported(result.signals));
        const out = RED.util.cloneMessage(msg);
        out.payload = { peer: result.peer, signals: result.signals };
        out.rv = { type: 'import_answer', peer: result.peer };
        send(out);
      };
      connection.requestImport(deliver, timeoutMs).then(
        (failures) => {
          if (failures.length > 0) {
            errors.fail(combineErrors(failures), done);
            return;
          }
          if (rejected.length > 0) {
            errors.fail(combineSignalErrors(rejected), done);
            return;
          }
          errors.succeeded();
          done();
        },
        (error: Error) => errors.fail(error, done),
      );
    });
    connection.register(user);
    if (settingsError) node.status(errorStatus(settingsError));
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('realvirtual-import', RealvirtualImportNode);
};
