/**
 * Deploys: partial ("nodes") deploys of the nodes using a connection leave it as it
 * was (same session, same listeners, peers stay connected), and full deploys in server
 * mode release the port before the new flow binds it again.
 */
import assert from 'assert/strict';
import { RealvirtualClient } from '../../engine';
import { RawServer } from '../helpers/events';
import { connection, deploy, errorsOf, FlowNode, freePort, helperNode, Inbox, load, node, RedNode, statuses, TAB, runtimeResources, until, user, waitForStatus, within } from './harness';

const ENDPOINT_EVENTS = ['status', 'data', 'configSet', 'connect', 'disconnect', 'init', 'subscribe', 'importAnswer', 'problem'];

/** Listener counts of the connection's engine endpoint, per event. */
function listenerCounts(conn: RedNode): Record<string, number> {
  const endpoint = (conn.connection as any).endpoint;
  assert.ok(endpoint, 'the connection has an endpoint');
  const counts: Record<string, number> = {};
  for (const event of ENDPOINT_EVENTS) counts[event] = endpoint.listenerCount(event);
  return counts;
}

describe('nodes: deploys', function () {
  const resources = runtimeResources();

  it('server mode: 50 "nodes" deploys of the in/out nodes keep the session, its listeners and its clients; each message arrives once', async function () {
    this.timeout(60000);
    const port = await freePort();
    const flow = (i: number): FlowNode[] => [
      TAB,
      connection({ port, cycleMs: 0 }),
      user('in', 'in', { signals: `X,S${i}`, name: `in ${i}` }, ['h']),
      user('out', 'out', { name: `out ${i}` }),
      helperNode('h'),
    ];
    await load(flow(0));
    await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
    const client = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
    const received: unknown[] = [];
    client.on('data', (event) => {
      if ('Y' in event.values) received.push(event.values.Y);
    });
    await within(client.connect(), 'the client to connect');
    await waitForStatus(node('in'), (status) => status.text === '1 client', '"1 client"');

    const conn = node('conn');
    const endpoint = (conn.connection as any).endpoint;
    const baseline = listenerCounts(conn);
    assert.equal(conn.connection.userCount, 2);
    let previousIn = node('in');
    for (let i = 1; i <= 50; i++) {
      await deploy(flow(i), 'nodes');
      const inNode = node('in');
      assert.notEqual(inNode, previousIn, `deploy ${i}: the changed in node was restarted`);
      previousIn = inNode;
      assert.equal(node('conn'), conn, `deploy ${i}: the connection was not restarted`);
      assert.equal((conn.connection as any).endpoint, endpoint, `deploy ${i}: same engine endpoint`);
      assert.deepEqual(listenerCounts(conn), baseline, `deploy ${i}: endpoint listeners`);
      assert.equal(conn.connection.userCount, 2, `deploy ${i}: users`);
      assert.equal(endpoint.clients.length, 1, `deploy ${i}: the client stays connected`);
      assert.deepEqual(statuses(inNode)[0], { fill: 'green', shape: 'dot', text: '1 client' }, `deploy ${i}: a new node shows the current status at once`);
    }
    assert.ok(client.connected);

    // Each message reaches the (last) in node once, and the out node still writes.
    const inbox = new Inbox('h');
    client.write('X', 1);
    client.write('S50', 2);
    client.write('S1', 3);
    client.write('X', 4);
    await inbox.find((msg) => msg.payload.X === 4, 'X = 4');
    assert.deepEqual(
      inbox.messages.map((msg) => msg.payload),
      [{ X: 1 }, { S50: 2 }, { X: 4 }],
      'each message once, through the last filter only',
    );
    node('out').receive({ payload: { Y: 'after 50 deploys' } });
    await until(() => received.includes('after 50 deploys'), "the out node's value at the client");
    assert.deepEqual(errorsOf(conn), []);
  });

  it('client mode: 50 "nodes" deploys that change an in node\'s filter keep the connection and its listeners, and send each new subscription', async function () {
    this.timeout(60000);
    const raw = resources.add(await RawServer.start());
    const filters = ['A', 'A,B', 'B', 'C'];
    const flow = (i: number): FlowNode[] => [
      TAB,
      connection({ mode: 'client', port: raw.port, cycleMs: 0, reconnectInterval: 0.1 }),
      user('in', 'in', { signals: filters[i % filters.length] }, ['h']),
      user('out', 'out', { name: `out ${i}` }),
      helperNode('h'),
    ];
    await load(flow(0));
    const server = await raw.connection(0);
    await server.waitFor((frame) => frame.type === 'subscribe', 'the first subscribe');
    await waitForStatus(node('in'), (status) => status.fill === 'green', 'connected');
    const conn = node('conn');
    const endpoint = (conn.connection as any).endpoint;
    const baseline = listenerCounts(conn);
    for (let i = 1; i <= 50; i++) {
      const from = server.mark();
      await deploy(flow(i), 'nodes');
      const subscribe = await server.waitFor((frame) => frame.type === 'subscribe', `the subscribe after deploy ${i}`, undefined, from);
      assert.deepEqual(subscribe.subscribe, filters[i % filters.length].split(','), `deploy ${i}`);
      assert.equal(node('conn'), conn, `deploy ${i}: the connection was not restarted`);
      assert.equal((conn.connection as any).endpoint, endpoint, `deploy ${i}: same engine endpoint`);
      assert.deepEqual(listenerCounts(conn), baseline, `deploy ${i}: endpoint listeners`);
      assert.equal(conn.connection.userCount, 2, `deploy ${i}: users`);
      assert.deepEqual(statuses(node('in'))[0], { fill: 'green', shape: 'dot', text: `connected: 127.0.0.1:${raw.port}` }, `deploy ${i}: status`);
    }
    assert.equal(raw.connections.length, 1, 'the client reconnected during partial deploys');
    assert.ok(server.open);
    // Exactly one subscribe per deploy (the first on connect).
    assert.equal(server.ofType('subscribe').length, 51);
    // The last filter ("B" after 50 deploys) is in force, and data reaches the in node once.
    const inbox = new Inbox('h');
    server.send({ type: 'data', signals: { B: 1, A: 2 } });
    server.send({ type: 'data', signals: { B: 3 } });
    await inbox.find((msg) => msg.payload.B === 3, 'B = 3');
    assert.deepEqual(
      inbox.messages.map((msg) => msg.payload),
      [{ B: 1 }, { B: 3 }],
    );
  });

  it('server mode: full deploys release the port before the new flow binds it; a client can connect after each', async function () {
    this.timeout(60000);
    const port = await freePort();
    const flow = (i: number): FlowNode[] => [TAB, connection({ port, cycleMs: 0, name: `deploy ${i}` }), user('in', 'in', {}, ['h']), helperNode('h')];
    await load(flow(0));
    const connections: RedNode[] = [];
    for (let i = 0; i <= 10; i++) {
      if (i > 0) await deploy(flow(i), 'full');
      const conn = node('conn');
      assert.ok(!connections.includes(conn), `deploy ${i}: a new connection node`);
      connections.push(conn);
      await waitForStatus(node('in'), (status) => status.fill === 'green', `listening after deploy ${i}`);
      const client = resources.add(new RealvirtualClient({ port, clientName: `Twin ${i}`, cycleMs: 0, autoReconnect: false }));
      await within(client.connect(), `a client to connect after deploy ${i}`);
      const inbox = new Inbox('h');
      client.write('Round', i);
      const [msg] = await inbox.next(1);
      assert.deepEqual(msg.payload, { Round: i });
      assert.equal(msg.rv.peer.name, `Twin ${i}`);
      assert.deepEqual(errorsOf(conn), [], `deploy ${i}: the connection reported no error (a busy port would)`);
      assert.ok(!statuses(node('in')).some((status) => status.fill === 'red'), `deploy ${i}: no red status`);
    }
    // Every replaced connection closed its endpoint.
    for (const old of connections.slice(0, -1)) assert.equal((old.connection as any).endpoint, null);
  });
});
