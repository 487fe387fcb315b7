import { DataEvent, internals, SignalRecord, SignalValue, splitList } from '../engine';
import { ConnectionUser } from './lib/connection';
import { Node, NodeAPI, NodeDefinition, NodeMessage } from './lib/red';
import { renameKeys, renamesOf } from './lib/signal-renames';
import { connectionOf } from './lib/config-node';

const { hasOwn, setOwn, signalNames, signalValueList } = internals;

type OutputMode = 'changes' | 'state' | 'signal';

/** Received records that a node sent on as its payload: flows may change a payload, so no second node sends the same one. */
const sent = new WeakSet<SignalRecord>();

function copyFirst(values: SignalRecord, names: readonly string[], count: number): SignalRecord {
  const copy: SignalRecord = {};
  for (let i = 0; i < count; i++) setOwn(copy, names[i], values[names[i]]);
  return copy;
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
  const send = (): void => {
    pending = null;
    node.send({ topic: 'realvirtual', payload: record, rv });
  };
  return {
    received(event: DataEvent): void {
      const values = event.values;
      const names = signalNames(values);
      // A filter smaller than the message is looked up in the message, else the message's names in the filter.
      const byFilter = filter !== null && filter.size < names.length;
      if (filter && !(byFilter ? [...filter].some((name) => hasOwn(values, name)) : names.some((name) => filter.has(name)))) return;
      if (record === null) {
        // Everything received so far (also before this node started), once; from now on only what changes.
        const all = receivedValues();
        record = {};
        for (const name of filter ?? Object.keys(all)) if (hasOwn(all, name)) setOwn(record, keyOf(name), all[name]);
      } else if (byFilter) {
        for (const name of filter) if (hasOwn(values, name)) setOwn(record, keyOf(name), values[name]);
      } else {
        const list = signalValueList(values);
        for (let i = 0; i < names.length; i++) {
          const name = names[i];
          if (!filter || filter.has(name)) setOwn(record, keyOf(name), list !== undefined ? list[i] : values[name]);
        }
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
    const names = splitList(typeof definition.signals === 'string' ? definition.signals : '');
    const filter = names.length > 0 ? new Set(names) : null;
    const renames = renamesOf(node, definition);
    if (renames === undefined) return;
    /** The payload record under the external names of the rename table. */
    const named = (record: SignalRecord): SignalRecord => (renames ? renameKeys(record, (name) => renames.toExternal(name)) : record);
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    /** What this node last reported per signal: "changes" compares against it, so the first message reports all. */
    const lastKnown = new Map<string, SignalValue>();
    /**
     * While messages name the same signals in the same order (the engine then hands the
     * same list of names, see signalNames), lastKnown is kept by position instead, in
     * `shapeLast`: comparing by position needs no lookups. It is written back when the
     * names change.
     */
    let shapeNames: readonly string[] | null = null;
    let shapeLast: Array<SignalValue | undefined> = [];
    let shapeWanted: boolean[] = [];
    let previousNames: readonly string[] | null = null;

    const leaveShape = (): void => {
      if (shapeNames === null) return;
      for (let i = 0; i < shapeNames.length; i++) {
        const last = shapeLast[i];
        if (last !== undefined) lastKnown.set(shapeNames[i], last);
      }
      shapeNames = null;
      shapeLast = [];
      shapeWanted = [];
    };

    const keyOf = renames ? (name: string): string => renames.toExternal(name) : (name: string): string => name;
    const state = output === 'state' ? stateOutput(node, filter, () => connection.receivedValues(), keyOf) : null;

    const user: ConnectionUser = {
      node,
      signals: filter ? [...filter] : null,
      onData(event: DataEvent) {
        if (state) {
          state.received(event);
          return;
        }
        const entries: Array<[string, SignalValue]> | null = output === 'signal' ? [] : null;
        // The payload of "changes" is built only from the first signal left out on: while
        // every signal of the message is reported, the message's own record serves.
        let changed: SignalRecord | null = null;
        let count = 0;
        const values = event.values;
        const names = signalNames(values);
        const list = signalValueList(values);
        if (names !== shapeNames || list === undefined) leaveShape();
        const byPosition = shapeNames !== null;
        for (let i = 0; i < names.length; i++) {
          const name = names[i];
          const value = byPosition ? list![i] : values[name];
          let report = false;
          if (byPosition) {
            if (shapeWanted[i]) {
              if (shapeLast[i] !== value) {
                shapeLast[i] = value;
                report = true;
              }
            }
          } else if (!filter || filter.has(name)) {
            if (lastKnown.get(name) !== value || !lastKnown.has(name)) {
              lastKnown.set(name, value);
              report = true;
            }
          }
          if (report) {
            count++;
            if (changed !== null) setOwn(changed, name, value);
            if (entries) entries.push([name, value]);
          } else if (changed === null && output === 'changes') {
            changed = copyFirst(values, names, i);
          }
        }
        if (!byPosition && names === previousNames && list !== undefined) {
          // The second message in a row with the engine's same list of names: keep by position from now on.
          shapeNames = names;
          shapeLast = names.map((name) => lastKnown.get(name));
          shapeWanted = names.map((name) => !filter || filter.has(name));
        }
        previousNames = names;
        const rv = { type: event.type, peer: event.peer };
        if (count === 0) return;
        if (output === 'changes') {
          let payload = changed;
          if (payload === null) {
            // Every signal of the message changed: one node may send the record itself, the others a copy.
            if (sent.has(values)) {
              payload = copyFirst(values, names, names.length);
            } else {
              sent.add(values);
              payload = values;
            }
          }
          node.send({ topic: 'realvirtual', payload: named(payload), rv });
          return;
        }
        const messages: NodeMessage[] = entries!.map(([name, value]) => ({ topic: renames ? renames.toExternal(name) : name, payload: value, rv: { ...rv } }));
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
