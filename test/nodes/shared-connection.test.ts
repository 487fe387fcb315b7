/**
 * What both connection config nodes promise the nodes that use them (nodes/lib/shared-connection.ts):
 * a node shows the connection's current status as soon as it registers; a "nodes" deploy keeps the
 * endpoint while a user is left; removing the last user, or the config node closing in a full
 * deploy, closes it and takes off every listener the connection put on it.
 */
import assert from 'assert/strict';
import { RealvirtualClient } from '../../engine';
import { isListening } from '../helpers/events';
import { connection, deploy, errorsOf, FlowNode, freePort, load, node, RedNode, runtimeResources, statuses, Status, TAB, until, user, waitForStatus, within } from './harness';

interface Protocol {
  name: string;
  connection(port: number): FlowNode;
  /** A node that receives (kind "in") or sends ("out") through the connection. */
  user(kind: 'in' | 'out', id: string): FlowNode;
  /** The endpoint events the connection follows. */
  followed: string[];
}

const PROTOCOLS: Protocol[] = [
  {
    name: 'realvirtual',
    connection: (port) => connection({ port, cycleMs: 0 }),
    user: (kind, id) => user(kind, id),
    followed: ['status', 'data', 'configSet'],
  },
  {
    name: 'MinVR3',
    connection: (port) => ({ id: 'conn', type: 'minvr-connection', port }),
    user: (kind, id) => ({ id, z: 'f1', type: `minvr-${kind}`, x: 0, y: 0, connection: 'conn', wires: kind === 'in' ? [[]] : [] }),
    followed: ['status', 'event'],
  },
];

const LISTENING = (status: Status): boolean => status.fill === 'green' && status.shape === 'ring';

function endpointOf(conn: RedNode): any {
  return (conn.connection as any).endpoint;
}

function listenerCounts(endpoint: any, events: string[]): Record<string, number> {
  return Object.fromEntries(events.map((event) => [event, endpoint.listenerCount(event) as number]));
}

describe('nodes: the shared connection of both protocols', function () {
  const resources = runtimeResources();

  for (const protocol of PROTOCOLS) {
    it(`${protocol.name}: a node registered later shows the current status first; "nodes" deploys keep the endpoint while a user is left and close it with the last; full deploys close it too; every listener is taken off`, async function () {
      this.timeout(20000);
      const port = await freePort();
      const flow = (...users: FlowNode[]): FlowNode[] => [TAB, protocol.connection(port), ...users];
      const none = Object.fromEntries(protocol.followed.map((event) => [event, 0]));

      await load(flow(protocol.user('in', 'a')));
      const current = await waitForStatus(node('a'), LISTENING, 'listening');
      const conn = node('conn');
      const endpoint = endpointOf(conn);
      const following = listenerCounts(endpoint, protocol.followed);
      for (const event of protocol.followed) assert.ok(following[event] > 0, `the connection follows "${event}"`);

      // A user added later starts with the status the others show.
      await deploy(flow(protocol.user('in', 'a'), protocol.user('out', 'b')), 'nodes');
      assert.deepEqual(statuses(node('b'))[0], current, 'the first status of the new node');
      assert.equal(endpointOf(conn), endpoint);
      assert.deepEqual(listenerCounts(endpoint, protocol.followed), following);

      // Removing one user keeps the endpoint; its status is cleared.
      const a = node('a');
      await deploy(flow(protocol.user('out', 'b')), 'nodes');
      assert.deepEqual(statuses(a).slice(-1)[0], {}, 'the removed node shows no status');
      assert.equal(endpointOf(conn), endpoint);
      assert.equal(conn.connection.userCount, 1);
      assert.ok(await isListening(port));

      // Removing the last one closes it before the deploy returns.
      await deploy(flow(), 'nodes');
      assert.equal(node('conn'), conn);
      assert.equal(endpointOf(conn), null);
      assert.equal(await isListening(port), false, 'the port is free');
      assert.deepEqual(listenerCounts(endpoint, protocol.followed), none, 'the closed endpoint keeps no listener of the connection');

      // A new user opens a new endpoint.
      await deploy(flow(protocol.user('in', 'c')), 'nodes');
      await waitForStatus(node('c'), LISTENING, 'listening again');
      const reopened = endpointOf(conn);
      assert.notEqual(reopened, endpoint);
      assert.deepEqual(listenerCounts(reopened, protocol.followed), following);

      // A full deploy restarts the config node: the old one closes its endpoint, the new one opens another.
      await deploy(flow(protocol.user('in', 'c')), 'full');
      assert.notEqual(node('conn'), conn);
      assert.equal(endpointOf(conn), null);
      assert.deepEqual(listenerCounts(reopened, protocol.followed), none, 'the endpoint of the replaced config node keeps no listener');
      await waitForStatus(node('c'), LISTENING, 'listening after the full deploy');
      assert.deepEqual(errorsOf(conn), []);
    });
  }

  it('realvirtual: what the flow wrote is kept while no node uses the connection, and served again when one does', async function () {
    const port = await freePort();
    const flow = (...users: FlowNode[]): FlowNode[] => [TAB, connection({ port, cycleMs: 0 }), ...users];
    await load(flow(user('out', 'out')));
    await waitForStatus(node('out'), LISTENING, 'listening');
    node('out').receive({ payload: { Kept: 5, Label: 'before' } });
    await until(() => endpointOf(node('conn')).values('write').Kept === 5, 'the value written');

    await deploy(flow(), 'nodes');
    assert.equal(endpointOf(node('conn')), null, 'closed with its last user');
    await deploy(flow(user('in', 'in')), 'nodes');
    await waitForStatus(node('in'), LISTENING, 'listening again');

    const client = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
    await within(client.connect(), 'the client to connect');
    await until(
      () => client.values('read').Kept === 5 && client.values('read').Label === 'before',
      () => `the kept values at the client (got ${JSON.stringify(client.values('read'))})`,
    );
  });
});
