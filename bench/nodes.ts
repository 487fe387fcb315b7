/**
 * Two node types for the benchmark flows, the same in our flow and in the hand-built
 * one: `bench-source` feeds prepared payloads as fast as the runtime delivers them,
 * `bench-sink` is the downstream node where ingest is counted.
 */
import type { Node, NodeAPI, NodeDefinition, NodeMessage } from '../nodes/lib/red';

/** What arrived at every bench-sink. */
export const sink = {
  messages: 0,
  /** Every 64th message is checked to carry `expectSignals` signals; each that does not counts here. */
  wrong: 0,
  expectSignals: 0,
  lastWrong: '',
};

/** What every bench-source sent. */
export const source = {
  messages: 0,
  payloads: [] as object[],
  /** Messages per burst; the next burst is queued behind the deliveries of this one. */
  burst: 1,
};

const sources = new Set<() => void>();
let running = false;

/** Starts every bench-source of the running flow. */
export function startSources(): void {
  running = true;
  for (const start of sources) start();
}

export function stopSources(): void {
  running = false;
}

function countKeys(payload: unknown): number {
  if (payload === null || typeof payload !== 'object') return -1;
  let count = 0;
  for (const _ in payload as object) count++;
  return count;
}

export function benchNodes(RED: NodeAPI): void {
  function BenchSink(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    this.on('input', (msg: NodeMessage, _send, done) => {
      if ((sink.messages & 63) === 0 && sink.expectSignals > 0) {
        const count = countKeys(msg.payload);
        if (count !== sink.expectSignals) {
          sink.wrong++;
          sink.lastWrong = `a message carried ${count} signal(s), expected ${sink.expectSignals}`;
        }
      }
      sink.messages++;
      done();
    });
  }

  function BenchSource(this: Node, definition: NodeDefinition): void {
    RED.nodes.createNode(this, definition);
    const node = this;
    let next = 0;
    let closed = false;
    const burst = (): void => {
      if (!running || closed) return;
      const { payloads } = source;
      for (let i = 0; i < source.burst; i++) {
        node.send({ payload: payloads[next] });
        next = next + 1 === payloads.length ? 0 : next + 1;
        source.messages++;
      }
      // Queued behind the deliveries this burst just queued: the flow sets the pace.
      setImmediate(burst);
    };
    const start = (): void => {
      if (source.payloads.length > 0) setImmediate(burst);
    };
    sources.add(start);
    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      sources.delete(start);
      done();
    });
  }

  RED.nodes.registerType('bench-sink', BenchSink);
  RED.nodes.registerType('bench-source', BenchSource);
}
