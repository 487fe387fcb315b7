/**
 * examples/modbus-bridge.json end to end: the real realvirtual-sim (server mode, free port),
 * a stand-in PLC on Modbus TCP built on pymodbus (another implementation than the
 * node-red-contrib-modbus nodes of the flow, free port), and the example flow in the
 * Node-RED runtime with both ports rewritten. The PLC's outputs drive the conveyor; the
 * conveyor's sensor and counter land in the PLC's inputs.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { ModbusPlc } from '../helpers/modbus-plc';
import { SimProcess } from '../helpers/sim';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, helper, load, node, RedNode, unload, until, waitForStatus } from './harness';

const EXAMPLE = path.join(repoRoot(), 'examples', 'modbus-bridge.json');

/** Polls `read` every 50 ms until `accept` holds; rejects with the last value after `timeoutMs`. */
async function plcUntil(read: () => Promise<number>, accept: (value: number) => boolean, what: string, timeoutMs = 8000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value ${value})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('nodes: Modbus TCP bridge example with realvirtual-sim and a pymodbus PLC', function () {
  this.timeout(40000);
  let sim: SimProcess | null = null;
  let plc: ModbusPlc | null = null;

  afterEach(async function () {
    await unload();
    if (sim) await sim.stop();
    if (plc) await plc.close();
    sim = null;
    plc = null;
  });

  it("the PLC's register and coil drive the belt; Sensor1 and Counter reach the PLC", async function () {
    plc = await ModbusPlc.start();
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
    for (const n of flow) {
      if (n.type === 'realvirtual-connection') n.port = port;
      if (n.type === 'modbus-client') {
        assert.equal(n.tcpHost, '127.0.0.1');
        n.tcpPort = String(plc.port);
      }
    }
    await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
    for (const n of flow.filter((n) => /^realvirtual-(in|out)$/.test(n.type))) {
      await waitForStatus(node(n.id), (status) => status.fill === 'green', 'connected to the simulator', 0, 8000);
    }

    // The PLC's outputs start at 0: the bridge stops the belt (MotorOn = false, DriveSpeed = 0).
    await sim.waitFor(/Node-RED set .*MotorOn = false/, 8000);
    await plc.set('hr', 0, 600);
    await plc.set('co', 0, 1);
    await sim.waitFor(/Node-RED set .*DriveSpeed = 600/, 8000);
    await sim.waitFor(/Node-RED set .*MotorOn = true/, 8000);

    // At 600 mm/s a part reaches the sensor within a second: the PLC sees Sensor1 and the count.
    await plcUntil(
      () => plc!.get('co', 16),
      (value) => value === 1,
      'coil 16 (Sensor1) = 1',
    );
    const counted = await plcUntil(
      () => plc!.get('hr', 16),
      (value) => value >= 1,
      'holding register 16 (Counter) >= 1',
    );
    assert.ok(counted >= 1);

    // The PLC stops the belt again.
    await plc.set('co', 0, 0);
    await until(
      () => (sim!.output.match(/Node-RED set .*MotorOn = false/g) ?? []).length === 2,
      () => `MotorOn = false a second time:\n${sim!.output}`,
      8000,
    );

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
