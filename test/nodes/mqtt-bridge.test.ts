/**
 * examples/mqtt-bridge.json end to end: a real mosquitto broker (started here on a free
 * loopback port), the example flow in the Node-RED runtime with its ports moved to free
 * ones, our engine as the realvirtual client of the example's server connection, and the
 * `mqtt` package as the external MQTT client. MQTT rv/<signal> feeds realvirtual;
 * realvirtual feeds MQTT rv/<signal>/state (retained).
 */
import assert from 'assert/strict';
import fs from 'fs';
import mqtt, { IClientPublishOptions, MqttClient } from 'mqtt';
import path from 'path';
import { RealvirtualClient } from '../../engine';
import { Resources } from '../helpers/events';
import { Mosquitto } from '../helpers/mosquitto';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, freePort, helper, load, node, RedNode, unload, until, waitForStatus, within } from './harness';

const EXAMPLE = path.join(repoRoot(), 'examples', 'mqtt-bridge.json');

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An MQTT client of the broker that records every message it receives. */
async function mqttClient(broker: Mosquitto, id: string): Promise<{ client: MqttClient; received: Received[]; close(): Promise<void> }> {
  const client = await within(mqtt.connectAsync(broker.url, { clientId: id, reconnectPeriod: 0, connectTimeout: 5000 }), `MQTT client ${id} to connect`);
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
  return { client, received, close: () => client.endAsync(true) };
}

describe('nodes: MQTT bridge example with a real broker (mosquitto)', function () {
  this.timeout(30000);
  const resources = new Resources();
  let broker: Mosquitto | null = null;

  // A fresh broker per test: no retained message of one test reaches the next.
  beforeEach(async function () {
    broker = await Mosquitto.start();
  });

  afterEach(async function () {
    await unload();
    await resources.closeAll();
    if (broker) await broker.close();
    broker = null;
  });

  /** Loads the example with the broker's port and a free realvirtual port; resolves with that port once every node is up. */
  async function loadBridge(): Promise<{ flow: FlowNode[]; port: number }> {
    assert.ok(broker);
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
    const port = await freePort();
    for (const n of flow) {
      if (n.type === 'mqtt-broker') {
        assert.equal(n.broker, '127.0.0.1');
        n.port = String(broker.port);
      }
      if (n.type === 'realvirtual-connection') n.port = port;
    }
    await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
    for (const n of flow.filter((n) => /^(mqtt in|mqtt out|realvirtual-in|realvirtual-out)$/.test(n.type))) {
      await waitForStatus(node(n.id), (status) => status.fill === 'green', `${n.type} up`, 0, 8000);
    }
    return { flow, port };
  }

  function errorsIn(flow: FlowNode[]): string[] {
    const nodes = flow
      .filter((n) => n.type !== 'tab')
      .map((n) => helper.getNode(n.id))
      .filter((n): n is RedNode => n !== null);
    return nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`));
  }

  it('MQTT rv/<signal> sets realvirtual signals, with the payload text read as Bool, number or text', async function () {
    const { flow, port } = await loadBridge();
    const unity = resources.add(new RealvirtualClient({ port, clientName: 'Unity', autoReconnect: false }));
    await within(unity.connect(), 'the realvirtual client to connect');
    const mq = await mqttClient(broker as Mosquitto, 'rv-test-publisher');
    resources.add(mq);

    const publish = (signal: string, text: string, options: IClientPublishOptions = {}): Promise<unknown> => mq.client.publishAsync(`rv/${signal}`, text, options);
    await publish('DriveSpeed', '150.5');
    await publish('MotorOn', 'true');
    await publish('Counter', ' 42 ');
    await publish('Status', 'Running');
    await publish('Label', '"42"'); // JSON-quoted: the text "42", not a number
    await publish('Code', '0x10'); // not a decimal number: stays text
    await publish('Ratio', '-.5');
    await publish('Big', '1e3');
    const expected = { DriveSpeed: 150.5, MotorOn: true, Counter: 42, Status: 'Running', Label: '42', Code: '0x10', Ratio: -0.5, Big: 1000 };
    await until(
      () => Object.keys(expected).every((name) => Object.prototype.hasOwnProperty.call(unity.values(), name)),
      () => `realvirtual to receive every published signal (got ${JSON.stringify(unity.values())})`,
      5000,
    );
    assert.deepEqual(unity.values(), expected);

    // A later value replaces the earlier one.
    await publish('DriveSpeed', '75');
    await until(
      () => unity.values().DriveSpeed === 75,
      () => `DriveSpeed 75 (got ${unity.values().DriveSpeed})`,
      5000,
    );

    // A JSON object on rv/<signal> is text for <signal>, never a way to set other signals.
    await publish('Note', '{"MotorOn": false}');
    await until(() => unity.values().Note !== undefined, 'Note to arrive', 5000);
    assert.equal(unity.values().Note, '{"MotorOn": false}');
    assert.equal(unity.values().MotorOn, true);

    // Deeper topics are not signals (rv/<signal>/state is the other direction).
    await publish('DriveSpeed/state', '999');
    await publish('DriveSpeed/extra', '999');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(unity.values().DriveSpeed, 75);
    assert.deepEqual(errorsIn(flow), []);
  });

  it('realvirtual signals go to MQTT rv/<signal>/state, retained, once per change, with no echo', async function () {
    const { flow, port } = await loadBridge();
    const subscriber = await mqttClient(broker as Mosquitto, 'rv-test-subscriber');
    resources.add(subscriber);
    await subscriber.client.subscribeAsync('rv/#');

    const unity = resources.add(
      new RealvirtualClient({
        port,
        clientName: 'Unity',
        autoReconnect: false,
        signals: [
          { name: 'Sensor1', type: 'Bool', direction: 'write', value: false },
          { name: 'PartCount', type: 'Int', direction: 'write', value: 0 },
          { name: 'Temperature', type: 'Float', direction: 'write', value: 20.5 },
          { name: 'Mode', type: 'Text', direction: 'write', value: 'Auto' },
        ],
      }),
    );
    await within(unity.connect(), 'the realvirtual client to connect');
    const state = (signal: string): string[] => subscriber.received.filter((m) => m.topic === `rv/${signal}/state`).map((m) => m.payload);
    // On connect the client sends its whole state: each signal once.
    await until(
      () => ['Sensor1', 'PartCount', 'Temperature', 'Mode'].every((s) => state(s).length > 0),
      () => `every signal on rv/<signal>/state (got ${JSON.stringify(subscriber.received)})`,
      5000,
    );
    assert.deepEqual(
      ['Sensor1', 'PartCount', 'Temperature', 'Mode'].map((s) => state(s)),
      [['false'], ['0'], ['20.5'], ['Auto']],
    );

    unity.write('Sensor1', true);
    unity.write('PartCount', 7);
    await until(
      () => state('Sensor1').length === 2 && state('PartCount').length === 2,
      () => `the changes on MQTT (got ${JSON.stringify(subscriber.received)})`,
      5000,
    );
    assert.deepEqual(state('Sensor1'), ['false', 'true']);
    assert.deepEqual(state('PartCount'), ['0', '7']);

    // Nothing loops: after a quiet moment no further messages appeared, and only state topics were published.
    const count = subscriber.received.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(subscriber.received.length, count, `no echo: ${JSON.stringify(subscriber.received.slice(count))}`);
    assert.ok(
      subscriber.received.every((m) => m.topic.endsWith('/state')),
      JSON.stringify(subscriber.received),
    );

    // The state is retained: a client that subscribes later gets the last values at once.
    const late = await mqttClient(broker as Mosquitto, 'rv-test-late');
    resources.add(late);
    await late.client.subscribeAsync('rv/+/state');
    await until(
      () => late.received.length >= 4,
      () => `the retained states (got ${JSON.stringify(late.received)})`,
      5000,
    );
    const retained = Object.fromEntries(late.received.map((m) => [m.topic, [m.payload, m.retain]]));
    assert.deepEqual(retained, {
      'rv/Sensor1/state': ['true', true],
      'rv/PartCount/state': ['7', true],
      'rv/Temperature/state': ['20.5', true],
      'rv/Mode/state': ['Auto', true],
    });
    assert.deepEqual(errorsIn(flow), []);
  });

  it("round trip: an MQTT command reaches realvirtual and realvirtual's answer comes back on MQTT", async function () {
    const { flow, port } = await loadBridge();
    const mq = await mqttClient(broker as Mosquitto, 'rv-test-roundtrip');
    resources.add(mq);
    await mq.client.subscribeAsync('rv/+/state');
    const unity = resources.add(new RealvirtualClient({ port, clientName: 'Unity', autoReconnect: false, signals: [{ name: 'ActualSpeed', type: 'Float', direction: 'write', value: 0 }] }));
    // realvirtual answers each DriveSpeed command with its ActualSpeed.
    unity.on('data', (event) => {
      if (typeof event.values.DriveSpeed === 'number') unity.write('ActualSpeed', event.values.DriveSpeed / 2);
    });
    await within(unity.connect(), 'the realvirtual client to connect');
    await mq.client.publishAsync('rv/DriveSpeed', '300');
    await until(
      () => mq.received.some((m) => m.topic === 'rv/ActualSpeed/state' && m.payload === '150'),
      () => `rv/ActualSpeed/state 150 (got ${JSON.stringify(mq.received)})`,
      5000,
    );
    assert.ok(!mq.received.some((m) => m.topic === 'rv/DriveSpeed/state'), 'a command is not echoed as a state');
    assert.deepEqual(errorsIn(flow), []);
  });
});
