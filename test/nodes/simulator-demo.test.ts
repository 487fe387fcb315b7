/**
 * examples/simulator-demo.json (what `npm start` deploys) against the real
 * realvirtual-sim command: the simulator runs as a child process in server mode on a
 * free port, the demo's client connection is pointed at it, and the demo's own inject
 * buttons and debug nodes exchange data with it.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { SimProcess } from '../helpers/sim';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, helper, Inbox, load, Msg, node, RedNode, unload, waitForStatus } from './harness';

const DEMO = path.join(repoRoot(), 'examples', 'simulator-demo.json');

describe('nodes: simulator demo flow with realvirtual-sim', function () {
  this.timeout(30000);
  let sim: SimProcess | null = null;

  afterEach(async function () {
    await unload();
    if (sim) await sim.stop();
    sim = null;
  });

  it('npm start deploys it: a client connection to the simulator on 127.0.0.1:1234', () => {
    const flow = JSON.parse(fs.readFileSync(DEMO, 'utf8')) as FlowNode[];
    const connections = flow.filter((n) => n.type === 'realvirtual-connection');
    assert.deepEqual(
      connections.map((n) => [n.mode, n.host, n.port]),
      [['client', '127.0.0.1', 1234]],
    );
    const start = fs.readFileSync(path.join(repoRoot(), 'scripts', 'start.js'), 'utf8');
    assert.match(start, /examples', 'simulator-demo\.json'/);
    assert.match(start, /dist', 'sim', 'cli\.js'/);
  });

  it('shows the conveyor, drives it with its buttons, imports its catalog and reads and sets its config', async function () {
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    const flow = JSON.parse(fs.readFileSync(DEMO, 'utf8')) as FlowNode[];
    for (const n of flow) if (n.type === 'realvirtual-connection') n.port = port;
    await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));

    const users = flow.filter((n) => /^realvirtual-(in|out|import|config)$/.test(n.type)).map((n) => node(n.id));
    for (const user of users) await waitForStatus(user, (status) => status.fill === 'green', 'connected to the simulator', 0, 8000);
    await sim.waitFor(/client connected: Node-RED/);
    await sim.waitFor(/Node-RED subscribed to .*Counter/);

    const sensorAndStatus = new Inbox('rvex.sim.d1');
    const counter = new Inbox('rvex.sim.d2');
    const position = new Inbox('rvex.sim.d3');
    const catalog = new Inbox('rvex.sim.d4');
    const config = new Inbox('rvex.sim.d5');
    const press = (id: string): void => node(id).receive({});
    const values = (inbox: Inbox, topic: string, from = 0): unknown[] =>
      inbox.messages
        .slice(from)
        .filter((m: Msg) => m.topic === topic)
        .map((m: Msg) => m.payload);

    // The belt moves by itself: DrivePosition keeps arriving, growing.
    await position.next(3, 0, 5000);
    const positions = values(position, 'DrivePosition') as number[];
    assert.ok(
      positions.every((p, i) => i === 0 || p > positions[i - 1]),
      `DrivePosition grows: ${positions}`,
    );

    // "parts every 300 mm" (config_set) and "600 mm/s": parts soon pass the sensor and are counted.
    press('rvex.sim.i8');
    const [setResult] = await config.next(1);
    assert.deepEqual(setResult.payload, { success: true, message: 'Configuration saved and applied' });
    await sim.waitFor(/config set by Node-RED: \{"partSpacingMm":300\}/);
    press('rvex.sim.i4');
    await sim.waitFor(/Node-RED set DriveSpeed = 600/);
    await counter.find((m) => m.topic === 'Counter' && m.payload >= 2, 'Counter >= 2', 0, 5000);
    await sensorAndStatus.find((m) => m.topic === 'Sensor1' && m.payload === true, 'Sensor1 true', 0, 5000);
    await sensorAndStatus.find((m) => m.topic === 'Sensor1' && m.payload === false, 'Sensor1 false', 0, 5000);

    // "reset counter" pulses ResetCounter: the counter goes back to 0.
    let from = counter.mark();
    press('rvex.sim.i5');
    await counter.find((m) => m.topic === 'Counter' && m.payload === 0, 'Counter 0 after the reset', from, 5000);
    await sim.waitFor(/Node-RED set ResetCounter = true[\s\S]*Node-RED set ResetCounter = false/);

    // "motor off" stops the conveyor, "motor on" starts it again.
    from = sensorAndStatus.mark();
    press('rvex.sim.i2');
    await sensorAndStatus.find((m) => m.topic === 'Status' && m.payload === 'Stopped', 'Status "Stopped"', from, 5000);
    from = sensorAndStatus.mark();
    press('rvex.sim.i1');
    await sensorAndStatus.find((m) => m.topic === 'Status' && m.payload === 'Running', 'Status "Running"', from, 5000);

    // "import signals": the simulator's catalog, with directions seen from Node-RED.
    press('rvex.sim.i6');
    const [imported] = await catalog.next(1);
    const directions = Object.fromEntries((imported.payload.signals as Array<{ name: string; direction: string; valueType: string }>).map((s) => [s.name, `${s.valueType} ${s.direction}`]));
    assert.deepEqual(directions, {
      Sensor1: 'Bool read',
      Counter: 'Int read',
      DrivePosition: 'Float read',
      Status: 'Text read',
      MotorOn: 'Bool write',
      DriveSpeed: 'Float write',
      ResetCounter: 'Bool write',
    });

    // "read config": the simulator's settings, including the one set above.
    from = config.mark();
    press('rvex.sim.i7');
    const [read] = await config.next(1, from);
    assert.deepEqual(read.payload, { publishIntervalMs: 10, partSpacingMm: 300, partLengthMm: 200, tickMs: 100 });

    const nodes = flow
      .filter((n) => n.type !== 'tab')
      .map((n) => helper.getNode(n.id))
      .filter((n): n is RedNode => n !== null);
    assert.deepEqual(
      nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`)),
      [],
      "errors reported by the demo's nodes",
    );
  });
});
