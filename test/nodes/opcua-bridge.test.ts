/**
 * examples/opcua-bridge.json end to end: the real realvirtual-sim (server mode, free port),
 * a real OPC UA server built on node-opcua's server (security None, 127.0.0.1, free port,
 * its PKI in a temporary folder), and the example flow with node-red-contrib-opcua's
 * client nodes in the Node-RED runtime, ports rewritten. OPC UA variables drive the
 * conveyor; its sensor and counter are written back to OPC UA.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { OpcuaTestServer } from '../helpers/opcua-server';
import { SimProcess } from '../helpers/sim';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, helper, load, node, RedNode, unload, until, waitForStatus } from './harness';

const EXAMPLE = path.join(repoRoot(), 'examples', 'opcua-bridge.json');

describe('nodes: OPC UA bridge example with realvirtual-sim and a node-opcua server', function () {
  this.timeout(60000);
  let sim: SimProcess | null = null;
  let server: OpcuaTestServer | null = null;

  afterEach(async function () {
    await unload();
    if (sim) await sim.stop();
    if (server) await server.close();
    sim = null;
    server = null;
  });

  it('subscribed variables drive the belt; Sensor1 and Counter are written to their variables', async function () {
    server = await OpcuaTestServer.start();
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
    for (const n of flow) {
      if (n.type === 'realvirtual-connection') n.port = port;
      if (n.type === 'OpcUa-Endpoint') {
        assert.equal(n.endpoint, 'opc.tcp://127.0.0.1:4840');
        n.endpoint = server.endpointUrl;
      }
    }
    await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
    for (const n of flow.filter((n) => /^realvirtual-(in|out)$/.test(n.type))) {
      await waitForStatus(node(n.id), (status) => status.fill === 'green', 'connected to the simulator', 0, 8000);
    }

    // The subscriptions deliver the variables' first values: the bridge stops the belt.
    await sim.waitFor(/Node-RED set .*MotorOn = false/, 15000);
    server.set('DriveSpeed', 600.5);
    server.set('MotorOn', true);
    await sim.waitFor(/Node-RED set .*DriveSpeed = 600\.5/, 8000);
    await sim.waitFor(/Node-RED set .*MotorOn = true/, 8000);

    // At 600 mm/s a part reaches the sensor within a second: its writes land in the variables.
    await until(
      () => server!.get('Sensor1') === true,
      () => `ns=1;s=Sensor1 = true (is ${server!.get('Sensor1')})`,
      8000,
    );
    await until(
      () => (server!.get('Counter') as number) >= 1,
      () => `ns=1;s=Counter >= 1 (is ${server!.get('Counter')})`,
      8000,
    );

    server.set('MotorOn', false);
    await until(
      () => (sim!.output.match(/Node-RED set .*MotorOn = false/g) ?? []).length === 2,
      () => `MotorOn = false a second time:\n${sim!.output}`,
      8000,
    );
    // The client's subscription id is no signal: only the node ids reached realvirtual.
    assert.doesNotMatch(sim.output, /subscriptionId/);

    const nodes = flow
      .filter((n) => n.type !== 'tab')
      .map((n) => helper.getNode(n.id))
      .filter((n): n is RedNode => n !== null);
    assert.deepEqual(
      nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`)),
      [],
    );
  });
});
