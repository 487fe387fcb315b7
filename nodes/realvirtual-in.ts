import { DataEvent, internals, SignalRecord, splitList } from '../engine';
import { ConnectionUser, RecordClaim } from './lib/connection';
import { Node, NodeAPI, NodeDefinition, NodeMessage } from './lib/red';
import { renamesOf } from './lib/signal-renames';
import { connectionOf } from './lib/config-node';
import { ReportedValues, WantedPositions } from './lib/received-batch';

const { hasOwn, setOwn } = internals;

type OutputMode = 'changes' | 'state' | 'signal';

/** A realvirtual-in node; `reported` is there for tests to see how messages were compared. */
interface RealvirtualInNode extends Node {
  reported?: ReportedValues;
}

/**
 * The "state" output: one record of every received signal (of the filter) per node, kept
 * up to date with each message's values and sent itself as msg.payload, so that a message
 * costs what changed, not the number of signals. The messages of one turn of the event
 * loop (a burst read from the socket at once) become one message, sent in the next turn.
 * Its keys are the names of the node's rename table (`keyOf`).
 */
function stateOutput(node: Node, filter: ReadonlySet<string> | null, receivedValues: () => SignalRecord, keyOf: (name: string) => string) {
  let record: SignalRecord | null = null;
  let rv: { type: DataEvent['type']; peer: DataEvent['peer'] } | null = null;
  let pending: NodeJS.Immediate | null = null;
  const wanted = new WantedPositions(filter);
  const send = (): void => {
    pending = null;
    node.send({ topic: 'realvirtual', payload: record, rv });
  };
  return {
    received(event: DataEvent): void {
      const { names, values } = event.batch;
      const positions = wanted.of(event.batch);
      if (filter !== null && positions.length === 0) return;
      if (record === null) {
        // Everything received so far (also before this node started), once; from now on only what changes.
        const all = receivedValues();
        record = {};
        for (const name of filter ?? Object.keys(all)) if (hasOwn(all, name)) setOwn(record, keyOf(name), all[name]);
      } else {
        for (let k = 0; k < positions.length; k++) setOwn(record, keyOf(names[positions[k]]), values[positions[k]]);
      }
      rv = { type: event.type, peer: event.peer };
      if (pending === null) pending = setImmediate(send);
    },
    close(): void {
      if (pending !== null) clearImmediate(pending);
      pending = null;
    },
  };
}

export = function register(RED: NodeAPI): void {
  function RealvirtualInNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const output: OutputMode = definition.output === 'state' || definition.output === 'signal' ? definition.output : 'changes';
    const wantedNames = splitList(typeof definition.signals === 'string' ? definition.signals : '');
    const filter = wantedNames.length > 0 ? new Set(wantedNames) : null;
    const renames = renamesOf(node, definition);
    if (renames === undefined) return;
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    const keyOf = renames ? (name: string): string => renames.toExternal(name) : (name: string): string => name;
    const state = output === 'state' ? stateOutput(node, filter, () => connection.receivedValues(), keyOf) : null;
    const reported = output === 'state' ? null : new ReportedValues(filter);
    if (reported) (node as RealvirtualInNode).reported = reported;

    const user: ConnectionUser = {
      node,
      signals: filter ? [...filter] : null,
      onData(event: DataEvent, record: RecordClaim) {
        if (state) {
          state.received(event);
          return;
        }
        const { names, values } = event.batch;
        const count = reported!.compare(event.batch);
        if (count === 0) return;
        const positions = reported!.positions;
        const rv = { type: event.type, peer: event.peer };
        if (output === 'changes') {
          // Every signal of the message changed: the event's record is the payload, unless another node has claimed it.
          const claimed = count === names.length && !renames ? record.take() : null;
          if (claimed !== null) {
            node.send({ topic: 'realvirtual', payload: claimed, rv });
            return;
          }
          const payload: SignalRecord = {};
          for (let k = 0; k < count; k++) setOwn(payload, keyOf(names[positions[k]]), values[positions[k]]);
          node.send({ topic: 'realvirtual', payload, rv });
          return;
        }
        const messages: NodeMessage[] = [];
        for (let k = 0; k < count; k++) messages.push({ topic: keyOf(names[positions[k]]), payload: values[positions[k]], rv: { ...rv } });
        node.send([messages]);
      },
    };
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => {
      state?.close();
      connection.deregister(user, removed, done);
    });
  }
  RED.nodes.registerType('realvirtual-in', RealvirtualInNode);
};
