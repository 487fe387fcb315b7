/**
 * Every example flow in examples/ deploys into the runtime, with the core nodes it
 * uses (inject, debug, function, mqtt, tcp…), and runs without an error. Ports are moved to
 * free ones; a client-mode connection (realvirtual or MinVR3) with no server in its own
 * flow gets our engine as its server.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { MinVRServer, RealvirtualServer } from '../../engine';
import { OpcuaTestServer } from '../helpers/opcua-server';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, freePort, helper, load, node, RedNode, sentBy, runtimeResources, until, waitForStatus, within } from './harness';

const examplesDir = path.join(repoRoot(), 'examples');
const exampleFiles = fs.existsSync(examplesDir)
  ? fs
      .readdirSync(examplesDir)
      .filter((file) => file.endsWith('.json'))
      .sort()
  : [];

/** Node types of the node packages that examples use besides Node-RED's core nodes. */
const INTEGRATION_TYPES = new Set(['sqlite', 'sqlitedb', 'ui-base', 'ui-page', 'ui-group', 'ui-theme']);
const USER_TYPES = new Set(['realvirtual-in', 'realvirtual-out', 'realvirtual-import', 'realvirtual-config', 'minvr-in', 'minvr-out']);

/** What listens on or connects to a port, so that its port moves to a free one: the key keeps apart ports of different kinds. */
function portKind(n: FlowNode): string | null {
  switch (n.type) {
    case 'realvirtual-connection':
      return 'rv';
    case 'minvr-connection':
      return 'minvr';
    case 'mqtt-broker':
      return 'mqtt';
    case 'tcp in':
      return n.server === 'server' ? 'tcp' : null;
    default:
      return null;
  }
}

describe('nodes: example flows', function () {
  const resources = runtimeResources();

  if (exampleFiles.length === 0) {
    it.skip('deploys every example flow (SKIPPED: no examples/*.json)');
    return;
  }

  for (const file of exampleFiles) {
    it(`${file} deploys and runs without an error`, async function () {
      // Starting an OPC UA server makes its certificates: seconds of CPU on a busy machine.
      this.timeout(60000);
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[];
      assert.ok(Array.isArray(flow) && flow.length > 0, `${file} is not a flow (an array of nodes)`);
      // Examples with nodes of other packages (dashboard, databases…) or function nodes that load
      // npm modules run end to end in test/integrations and test/browser, with those installed.
      if (flow.some((n) => INTEGRATION_TYPES.has(n.type) || (n.type === 'function' && Array.isArray(n.libs) && n.libs.length > 0))) this.skip();

      // No fixed ports: every distinct port of the flow's connections, brokers and TCP servers moves
      // to a free one (kept a string where the flow has one, as the mqtt and tcp nodes do).
      const ports = new Map<string, number>();
      for (const n of flow) {
        const kind = portKind(n);
        if (!kind) continue;
        const key = `${kind}:${n.port}`;
        if (!ports.has(key)) ports.set(key, await freePort());
        n.port = typeof n.port === 'string' ? String(ports.get(key)) : ports.get(key);
      }
      const connections = flow.filter((n) => n.type === 'realvirtual-connection');
      for (const client of connections.filter((n) => n.mode === 'client')) {
        const served = connections.some((n) => n.mode !== 'client' && n.port === client.port);
        if (served) continue;
        const server = resources.add(new RealvirtualServer({ port: client.port as number, signals: [{ name: 'Example', type: 'Int', direction: 'write', value: 1 }] }));
        await within(server.listen(), `a server for ${client.id}`);
      }
      const minvrConnections = flow.filter((n) => n.type === 'minvr-connection');
      const transportOf = (n: FlowNode): string => (typeof n.transport === 'string' && n.transport !== '' ? n.transport : 'tcp');
      for (const client of minvrConnections.filter((n) => n.mode === 'client')) {
        const served = minvrConnections.some((n) => n.mode !== 'client' && n.port === client.port && transportOf(n) === transportOf(client));
        if (served) continue;
        const transport = transportOf(client) === 'websocket' ? 'websocket' : 'tcp';
        const urlPath = typeof client.path === 'string' && client.path !== '' ? client.path : undefined;
        const server = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port: Number(client.port), path: urlPath }));
        await within(server.listen(), `a MinVR3 server for ${client.id}`);
      }

      // An OPC UA client's endpoint gets a real OPC UA server with the examples' conveyor variables.
      for (const endpoint of flow.filter((n) => n.type === 'OpcUa-Endpoint')) {
        const server = resources.add(await within(OpcuaTestServer.start(), `an OPC UA server for ${endpoint.id}`, 40000));
        endpoint.endpoint = server.endpointUrl;
      }

      await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
      const ids = flow.filter((n) => n.type !== 'tab').map((n) => n.id);
      const running = ids.map((id) => helper.getNode(id));
      assert.deepEqual(
        ids.filter((_id, i) => running[i] === null),
        [],
        'nodes that did not start',
      );
      const nodes = running as RedNode[];

      // Every realvirtual and MinVR3 node shows its connection up: listening, or connected to its server.
      for (const user of nodes.filter((n) => USER_TYPES.has(n.type))) {
        await waitForStatus(user, (status) => status.fill === 'green', 'green (listening or connected)', 0, 8000);
      }
      // Injects that fire once on deploy have fired (and their messages travelled on).
      for (const inject of flow.filter((n) => n.type === 'inject' && n.once === true)) {
        await until(() => sentBy(node(inject.id)).length > 0, `inject ${inject.id} to fire once`, 8000);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));

      const errors = nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`));
      assert.deepEqual(errors, [], "errors reported by the example's nodes");
    });
  }
});
