/**
 * Redeploy soak (npm run test:soak): 200 partial ("nodes" and "flows") and 50 full
 * deploys of a flow with a server-mode and a client-mode connection, each with peers
 * connected, values checked end to end along the way. After a warm-up the listener
 * counts, the open handles (sockets, servers, timers) and the heap after GC are measured;
 * at the end the listeners and handles must be exactly as before and the heap within
 * DEPLOYS.heapToleranceMiB.
 */
import assert from 'assert/strict';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { DEPLOYS } from '../helpers/counts';
import { handleCounts, heapSpacesAfterGc } from '../helpers/faults';
import { Resources } from '../helpers/events';
import { connection, deploy, DeployType, FlowNode, freePort, helper, helperNode, load, node, TAB, unload, until, user, waitForStatus, within } from '../nodes/harness';

const ENDPOINT_EVENTS = ['status', 'data', 'configSet', 'connect', 'disconnect', 'init', 'subscribe', 'importAnswer', 'problem'];
const WARM_UP = DEPLOYS.warmUp;

interface Snapshot {
  listeners: Record<string, number>;
  handles: Record<string, number>;
  heap: { total: number; data: number; code: number };
}

function listenerCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  // (Ids that are no property values: Node-RED takes a string property equal to a config node's id for a reference.)
  for (const id of ['conn-s', 'conn-c']) {
    const endpoint = (node(id).connection as any).endpoint;
    assert.ok(endpoint, `connection ${id} has an endpoint`);
    for (const event of ENDPOINT_EVENTS) counts[`${id}.${event}`] = endpoint.listenerCount(event);
  }
  for (const event of process.eventNames()) counts[`process.${String(event)}`] = process.listenerCount(event);
  return counts;
}

/** The next message at helper node `id` that passes `predicate`; its listener is removed again (an Inbox would stay). */
function nextInput(id: string, predicate: (msg: any) => boolean, what: string): Promise<void> {
  const target = node(id);
  let onInput: (msg: any) => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    onInput = (msg) => {
      if (predicate(msg)) resolve();
    };
    target.on('input', onInput);
  });
  return within(arrived, what).finally(() => target.removeListener('input', onInput));
}

function ourHandles(): Record<string, number> {
  const counts = handleCounts();
  return { sockets: counts.TCPSocketWrap ?? 0, servers: counts.TCPServerWrap ?? 0, timers: counts.Timeout ?? 0 };
}

describe(`soak: ${DEPLOYS.partial} partial and ${DEPLOYS.full} full deploys`, function () {
  this.timeout(240000);
  const resources = new Resources();

  afterEach(async function () {
    await unload();
    await resources.closeAll();
  });

  it('leave listener counts and open handles unchanged, and the heap after GC within the tolerance', async function () {
    const serverPort = await freePort();
    const remote = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0 }));
    await remote.listen();
    const filters = ['A', 'A,B', 'B'];
    const flow = (partial: number, full: number): FlowNode[] => [
      TAB,
      connection({ port: serverPort, cycleMs: 0, name: `server ${full}` }, 'conn-s'),
      connection({ mode: 'client', port: remote.port, cycleMs: 0, reconnectInterval: 0.02, name: `client ${full}` }, 'conn-c'),
      { ...user('in', 'in-s', { name: `in ${partial}` }, ['h-s']), connection: 'conn-s' },
      { ...user('out', 'out-s', { name: `out ${partial}` }), connection: 'conn-s' },
      { ...user('in', 'in-c', { signals: filters[partial % filters.length] }, ['h-c']), connection: 'conn-c' },
      { ...user('out', 'out-c', { name: `out ${partial}` }), connection: 'conn-c' },
      helperNode('h-s'),
      helperNode('h-c'),
    ];
    let partial = 0;
    let full = 0;
    await load(flow(partial, full));
    const twin = resources.add(
      new RealvirtualClient({ host: '127.0.0.1', port: serverPort, clientName: 'Twin', cycleMs: 0, reconnectIntervalMs: 20, maxReconnectIntervalMs: 100, reconnectJitter: 0 }),
    );
    await within(twin.connect(), 'the twin to connect');

    let round = 0;
    /** Values both ways through both connections. */
    const roundTrip = async (): Promise<void> => {
      round++;
      await until(() => twin.connected && remote.clients.length === 1, 'both peers connected', 10000);
      const atServer = nextInput('h-s', (msg) => msg.payload.FromTwin === round, `FromTwin = ${round} at the server-mode in node`);
      twin.write('FromTwin', round);
      await atServer;
      node('out-s').receive({ payload: { ToTwin: round } });
      await until(() => twin.values().ToTwin === round, `ToTwin = ${round} at the twin`);
      const signal = filters[partial % filters.length].split(',')[0];
      const atClient = nextInput('h-c', (msg) => msg.payload[signal] === round, `${signal} = ${round} at the client-mode in node`);
      remote.write(signal, round);
      await atClient;
      node('out-c').receive({ payload: { ToRemote: round } });
      await until(() => remote.values().ToRemote === round, `ToRemote = ${round} at the remote server`);
    };
    const partialDeploy = async (): Promise<void> => {
      partial++;
      const type: DeployType = partial % 2 === 0 ? 'nodes' : 'flows';
      await deploy(flow(partial, full), type);
      if (partial % 10 === 0) await roundTrip();
    };
    const fullDeploy = async (): Promise<void> => {
      full++;
      await deploy(flow(partial, full), 'full');
      await waitForStatus(node('in-s'), (status) => status.fill === 'green' && status.shape === 'dot', 'the server-mode connection with its client', 0, 10000);
      await waitForStatus(node('in-c'), (status) => status.fill === 'green' && status.shape === 'dot', 'the client-mode connection connected', 0, 10000);
      await roundTrip();
    };
    const measure = async (): Promise<Snapshot> => {
      await roundTrip();
      (helper as any)._sandbox.resetHistory(); // the test helper's spies record every call: not ours to count
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { listeners: listenerCounts(), handles: ourHandles(), heap: await heapSpacesAfterGc() };
    };

    // Warm-up: JIT, caches and Node-RED's own first-use allocations.
    for (let i = 0; i < WARM_UP.partial; i++) await partialDeploy();
    for (let i = 0; i < WARM_UP.full; i++) await fullDeploy();
    const before = await measure();

    const started = { partial, full };
    for (let i = 1; i <= DEPLOYS.partial; i++) {
      await partialDeploy();
      if (i % 4 === 0 && full - started.full < DEPLOYS.full) await fullDeploy();
    }
    while (full - started.full < DEPLOYS.full) await fullDeploy();
    assert.equal(partial - started.partial, DEPLOYS.partial);
    assert.equal(full - started.full, DEPLOYS.full);

    const after = await measure();
    assert.deepEqual(after.listeners, before.listeners, 'listener counts');
    await until(
      () => JSON.stringify(ourHandles()) === JSON.stringify(before.handles),
      () => `open handles back to ${JSON.stringify(before.handles)} (now ${JSON.stringify(ourHandles())})`,
    );
    const MiB = 1024 * 1024;
    const grown = (key: 'total' | 'data' | 'code'): string => `${after.heap[key] >= before.heap[key] ? '+' : ''}${((after.heap[key] - before.heap[key]) / MiB).toFixed(2)} MiB`;
    console.log(
      `      ${DEPLOYS.partial} partial + ${DEPLOYS.full} full deploys (after ${WARM_UP.partial} + ${WARM_UP.full} to warm up), ${round} round trips: ` +
        `listeners ${JSON.stringify(after.listeners) === JSON.stringify(before.listeners) ? 'unchanged' : 'CHANGED'}, handles ${JSON.stringify(after.handles)} (unchanged), ` +
        `heap after GC ${(before.heap.total / MiB).toFixed(1)} → ${(after.heap.total / MiB).toFixed(1)} MiB (${grown('total')}: data ${grown('data')}, compiled code ${grown('code')})`,
    );
    assert.ok((after.heap.total - before.heap.total) / MiB <= DEPLOYS.heapToleranceMiB, `the heap grew by ${grown('total')} (tolerance ${DEPLOYS.heapToleranceMiB} MiB)`);
    assert.ok((after.heap.data - before.heap.data) / MiB <= DEPLOYS.dataToleranceMiB, `the heap without compiled code grew by ${grown('data')} (tolerance ${DEPLOYS.dataToleranceMiB} MiB)`);
  });
});
