import { splitList } from '../engine/realvirtual/catalog';
import { DataEvent } from '../engine/realvirtual/endpoint';
import { SignalRecord } from '../engine/realvirtual/messages';
import { setOwn } from '../engine/realvirtual/record';
import { SignalValue } from '../engine/realvirtual/values';
import { ConnectionUser } from './lib/connection';
import { Node, NodeAPI, NodeDefinition, NodeMessage } from './lib/red';
import { connectionOf } from './lib/user';

type OutputMode = 'changes' | 'state' | 'signal';

export = function register(RED: NodeAPI): void {
  function RealvirtualInNode(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    const output: OutputMode = definition.output === 'state' || definition.output === 'signal' ? definition.output : 'changes';
    const names = splitList(typeof definition.signals === 'string' ? definition.signals : '');
    const filter = names.length > 0 ? new Set(names) : null;
    const connection = connectionOf(RED, node, definition);
    if (!connection) return;
    /** What this node last reported per signal: "changes" compares against it, so the first message reports all. */
    const lastKnown = new Map<string, SignalValue>();

    const user: ConnectionUser = {
      node,
      signals: filter ? [...filter] : null,
      onData(event: DataEvent) {
        const changed: SignalRecord = {};
        const entries: Array<[string, SignalValue]> = [];
        let touched = false;
        for (const name of Object.keys(event.values)) {
          if (filter && !filter.has(name)) continue;
          touched = true;
          const value = event.values[name];
          if (lastKnown.get(name) === value && lastKnown.has(name)) continue;
          lastKnown.set(name, value);
          setOwn(changed, name, value);
          entries.push([name, value]);
        }
        const rv = { type: event.type, peer: event.peer };
        if (output === 'state') {
          if (!touched) return;
          const all = connection.receivedValues();
          const state: SignalRecord = {};
          for (const name of Object.keys(all)) if (!filter || filter.has(name)) setOwn(state, name, all[name]);
          node.send({ topic: 'realvirtual', payload: state, rv });
          return;
        }
        if (entries.length === 0) return;
        if (output === 'changes') {
          node.send({ topic: 'realvirtual', payload: changed, rv });
          return;
        }
        const messages: NodeMessage[] = entries.map(([name, value]) => ({ topic: name, payload: value, rv: { ...rv } }));
        node.send([messages]);
      },
    };
    connection.register(user);
    node.on('close', (removed: boolean, done: () => void) => connection.deregister(user, removed, done));
  }
  RED.nodes.registerType('realvirtual-in', RealvirtualInNode);
};
