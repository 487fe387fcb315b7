/**
 * The realvirtual-sim command as users run it: the compiled dist/sim/cli.js started as a
 * real child process, with our engine (or a raw WebSocket peer) in the other role, over
 * real sockets on 127.0.0.1.
 */
import assert from 'assert/strict';
import fs from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import path from 'path';
import { DataEvent, RealvirtualClient, RealvirtualServer } from '../../engine';
import { collectEvents, freePort, nextEvent, RawServer, Resources, until, within } from '../helpers/events';
import { SIM_CLI, SimProcess } from '../helpers/sim';
import { repoRoot } from '../repo';

const WRITES = ['Sensor1', 'Counter', 'DrivePosition', 'Status'];

/** The catalog the sim answers, as our side imports it: [remoteType, our direction]. */
const EXPECTED_IMPORT: Record<string, [string, string, string]> = {
  Sensor1: ['PLCOutputBool', 'Bool', 'read'],
  Counter: ['PLCOutputInt', 'Int', 'read'],
  DrivePosition: ['PLCOutputFloat', 'Float', 'read'],
  Status: ['PLCOutputText', 'Text', 'read'],
  MotorOn: ['PLCInputBool', 'Bool', 'write'],
  DriveSpeed: ['PLCInputFloat', 'Float', 'write'],
  ResetCounter: ['PLCInputBool', 'Bool', 'write'],
};

/** Records every data/snapshot event of an endpoint. */
function record(endpoint: RealvirtualClient | RealvirtualServer): DataEvent[] {
  const events: DataEvent[] = [];
  endpoint.on('data', (event) => events.push(event));
  return events;
}

/** Every value a signal took in the recorded events, in order. */
function valuesOf(events: DataEvent[], name: string): unknown[] {
  return events.filter((event) => Object.prototype.hasOwnProperty.call(event.values, name)).map((event) => event.values[name]);
}

describe('sim: realvirtual-sim command', function () {
  this.timeout(20000);
  const resources = new Resources();

  afterEach(async function () {
    await resources.closeAll();
  });

  function start(args: string[], direct = false): SimProcess {
    return resources.add(SimProcess.start(args, direct));
  }

  describe('command line', () => {
    it('is an executable file with a #!/usr/bin/env node line, and --help prints the usage, options and signals', async () => {
      assert.ok(fs.readFileSync(SIM_CLI, 'utf8').startsWith('#!/usr/bin/env node\n'), 'dist/sim/cli.js starts with #!/usr/bin/env node');
      assert.ok((fs.statSync(SIM_CLI).mode & 0o111) !== 0, 'dist/sim/cli.js is executable');
      const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
      assert.equal(pkg.bin['realvirtual-sim'], 'dist/sim/cli.js');
      assert.ok(pkg.files.includes('dist/sim'), 'package.json "files" ships dist/sim');

      const sim = start(['--help'], true);
      assert.deepEqual(await sim.waitForExit(), { code: 0, signal: null });
      for (const text of [
        'Usage: realvirtual-sim',
        '--mode server|client',
        '--host',
        '--port',
        '--path',
        '--name',
        '--cycle',
        '--duration',
        '--quiet',
        ...WRITES,
        'MotorOn',
        'DriveSpeed',
        'PLCInputBool',
        'PLCOutputFloat',
      ]) {
        assert.ok(sim.stdout.includes(text), `--help mentions ${text}\n${sim.output}`);
      }
    });

    it('rejects bad options with a clear message and exit code 2', async function () {
      this.timeout(60000); // seven processes, one after the other
      for (const [args, message] of [
        [['--bogus'], /unknown option --bogus/],
        [['--mode', 'peer'], /--mode must be "server" or "client"/],
        [['--port', '70000'], /--port must be a port number from 0 to 65535/],
        [['--cycle=-1'], /--cycle must be a number of ms >= 0/],
        [['--duration', '0'], /--duration must be a number of seconds > 0/],
        [['--mode', 'client', '--port', '0'], /--port 0 \(any free port\) only works in server mode/],
        [['--port'], /--port needs a value/],
      ] as Array<[string[], RegExp]>) {
        const sim = start(args);
        assert.deepEqual(await sim.waitForExit(), { code: 2, signal: null }, `${args.join(' ')}\n${sim.output}`);
        assert.match(sim.stderr, message);
        assert.match(sim.stderr, /--help/);
      }
    });

    it('a busy port: exits 1 at once with a message that names the port and what to do', async () => {
      const blocker = http.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      resources.add({ close: () => new Promise<void>((resolve) => blocker.close(() => resolve())) });
      const port = (blocker.address() as AddressInfo).port;
      const sim = start(['--port', String(port)]);
      assert.deepEqual(await sim.waitForExit(5000), { code: 1, signal: null });
      assert.match(sim.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
      assert.match(sim.stderr, /another port with --port/);
    });

    it('--duration: stops by itself and exits 0', async () => {
      const sim = start(['--port', '0', '--duration', '0.5']);
      await sim.listeningPort();
      assert.deepEqual(await sim.waitForExit(5000), { code: 0, signal: null });
      assert.match(sim.stdout, /stopping \(--duration 0\.5 s elapsed\)[\s\S]*stopped/);
    });

    it('--quiet prints nothing while it runs', async () => {
      const port = await freePort();
      const sim = start(['--port', String(port), '--quiet', '--duration', '0.5']);
      assert.deepEqual(await sim.waitForExit(5000), { code: 0, signal: null });
      assert.equal(sim.stdout, '');
      assert.equal(sim.stderr, '');
    });
  });

  describe('server mode, with our engine as the client', () => {
    it('a subscribe gets a snapshot; the scene then changes over time and follows the drive command', async () => {
      const sim = start(['--port', '0', '--cycle', '10']);
      const port = await sim.listeningPort();
      const client = resources.add(new RealvirtualClient({ port, clientName: 'PLC', subscribe: WRITES, autoReconnect: false }));
      const events = record(client);
      const snapshot = nextEvent(client, 'data', (event) => event.type === 'snapshot');
      await within(client.connect(), 'connecting to the sim');
      const [first] = await snapshot;
      assert.deepEqual(Object.keys(first.values).sort(), [...WRITES].sort());
      assert.equal(typeof first.values.Sensor1, 'boolean');
      assert.equal(typeof first.values.Counter, 'number');
      assert.equal(first.values.Status, 'Running');
      await sim.waitFor(/client connected: PLC/);
      await sim.waitFor(/PLC subscribed to Sensor1, Counter, DrivePosition, Status/);

      // The belt moves by itself (MotorOn true, DriveSpeed 200 mm/s until a PLC says otherwise).
      // From the snapshot on, each value sent is a change. (A full-state frame may come before the
      // snapshot when the sim flushes between reading our init and our subscribe.)
      const sinceSnapshot = (): DataEvent[] => events.slice(events.findIndex((event) => event.type === 'snapshot'));
      await until(
        () => valuesOf(sinceSnapshot(), 'DrivePosition').length >= 3,
        () => `3 DrivePosition values (got ${JSON.stringify(valuesOf(events, 'DrivePosition'))})`,
        3000,
      );
      const positions = valuesOf(sinceSnapshot(), 'DrivePosition') as number[];
      assert.ok(
        positions.every((p, i) => i === 0 || p > positions[i - 1]),
        `DrivePosition increases: ${positions}`,
      );

      // Faster parts, a faster belt: the counter counts and the sensor goes on and off.
      assert.deepEqual(await client.setConfig({ partSpacingMm: 100, partLengthMm: 50, tickMs: 20 }), { success: true, message: 'Configuration saved and applied' });
      client.write('DriveSpeed', 1500);
      await sim.waitFor(/PLC set DriveSpeed = 1500/);
      await until(
        () => {
          const counts = valuesOf(sinceSnapshot(), 'Counter') as number[];
          const sensor = valuesOf(sinceSnapshot(), 'Sensor1');
          return counts.length >= 4 && sensor.includes(true) && sensor.includes(false);
        },
        () => `Counter to count 4 parts and Sensor1 to toggle (Counter ${JSON.stringify(valuesOf(events, 'Counter'))}, Sensor1 ${JSON.stringify(valuesOf(events, 'Sensor1'))})`,
        5000,
      );
      const counts = valuesOf(sinceSnapshot(), 'Counter') as number[];
      assert.ok(
        counts.every((c, i) => i === 0 || c > counts[i - 1]),
        `Counter increases: ${counts}`,
      );

      // Motor off: Status "Stopped", the belt stands still.
      const stopped = nextEvent(client, 'data', (event) => event.values.Status === 'Stopped');
      client.write('MotorOn', false);
      await stopped;
      const still = client.values().DrivePosition;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(client.values().DrivePosition, still);
      // ResetCounter: the counter goes back to 0.
      const reset = nextEvent(client, 'data', (event) => event.values.Counter === 0);
      client.write('ResetCounter', true);
      await reset;
      await sim.waitFor(/PLC set ResetCounter = true/);
    });

    it('answers import_request with its catalog: types and directions invert correctly on our side', async () => {
      const sim = start(['--port', '0']);
      const port = await sim.listeningPort();
      const client = resources.add(new RealvirtualClient({ port, autoReconnect: false }));
      await within(client.connect(), 'connecting to the sim');
      const result = await client.requestImport();
      assert.deepEqual(result.rejected, []);
      const seen: Record<string, [string, string, string]> = {};
      for (const signal of result.signals) seen[signal.name] = [signal.remoteType, signal.valueType, signal.direction];
      assert.deepEqual(seen, EXPECTED_IMPORT);
      const values = Object.fromEntries(result.signals.map((signal) => [signal.name, signal.value]));
      assert.equal(values.MotorOn, true);
      assert.equal(values.DriveSpeed, 200);
      assert.equal(values.ResetCounter, false);
    });

    it('config_get answers publishIntervalMs and the scene settings; config_set applies them or says why not', async () => {
      const sim = start(['--port', '0', '--cycle', '25']);
      const port = await sim.listeningPort();
      const client = resources.add(new RealvirtualClient({ port, clientName: 'Configurator', autoReconnect: false }));
      await within(client.connect(), 'connecting to the sim');
      assert.deepEqual(await client.getConfig(), { publishIntervalMs: 25, partSpacingMm: 600, partLengthMm: 200, tickMs: 100 });

      assert.deepEqual(await client.setConfig({ publishIntervalMs: 50, partSpacingMm: 300, loggingLevel: 'Debug' }), { success: true, message: 'Configuration saved and applied' });
      assert.deepEqual(await client.getConfig(), { publishIntervalMs: 50, partSpacingMm: 300, partLengthMm: 200, tickMs: 100, loggingLevel: 'Debug' });
      await sim.waitFor(/config set by Configurator: \{"publishIntervalMs":50,"partSpacingMm":300,"loggingLevel":"Debug"\}/);

      const badLength = await client.setConfig({ partLengthMm: 300 });
      assert.equal(badLength.success, false);
      assert.match(badLength.message, /partLengthMm \(300\) must be less than partSpacingMm \(300\)/);
      const badInterval = await client.setConfig({ publishIntervalMs: -5, tickMs: 50 });
      assert.equal(badInterval.success, false);
      assert.match(badInterval.message, /publishIntervalMs/);
      assert.deepEqual(await client.getConfig(), { publishIntervalMs: 50, partSpacingMm: 300, partLengthMm: 200, tickMs: 100, loggingLevel: 'Debug' }, 'a rejected config_set changes nothing');
    });

    it('a publish interval set by config_set paces the data frames', async () => {
      const sim = start(['--port', '0', '--cycle', '0']);
      const port = await sim.listeningPort();
      const client = resources.add(new RealvirtualClient({ port, autoReconnect: false }));
      await within(client.connect(), 'connecting to the sim');
      // The scene steps every 20 ms; with publishIntervalMs 400 its changes still go out once per 400 ms.
      await client.setConfig({ publishIntervalMs: 400, tickMs: 20 });
      await nextEvent(client, 'data', undefined, 3000);
      const startedAt = Date.now();
      await collectEvents(client, 'data', 3, undefined, 5000);
      const took = Date.now() - startedAt;
      assert.ok(took >= 700, `three data frames took ${took} ms at publishIntervalMs 400`);
    });

    it('--path: accepts that path only', async () => {
      const sim = start(['--port', '0', '--path', 'rv/sim']);
      const port = await sim.listeningPort();
      assert.match(sim.stdout, new RegExp(`listening on ws://127\\.0\\.0\\.1:${port}/rv/sim`));
      const right = resources.add(new RealvirtualClient({ port, path: '/rv/sim', autoReconnect: false }));
      await within(right.connect(), 'connecting on /rv/sim');
      const wrong = resources.add(new RealvirtualClient({ port, path: '/other', autoReconnect: false }));
      await assert.rejects(wrong.connect(), /404|Unexpected server response/);
    });

    it('SIGTERM and SIGINT: closes its clients and exits 0', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const sim = start(['--port', '0']);
        const port = await sim.listeningPort();
        const client = resources.add(new RealvirtualClient({ port, autoReconnect: false }));
        await within(client.connect(), 'connecting to the sim');
        const gone = nextEvent(client, 'disconnect');
        sim.kill(signal);
        assert.deepEqual(await sim.waitForExit(5000), { code: 0, signal: null }, sim.output);
        await gone;
        assert.match(sim.stdout, new RegExp(`stopping \\(${signal}\\)[\\s\\S]*stopped`));
        assert.equal(sim.stderr, '');
      }
    });
  });

  describe('client mode, with our engine as the server', () => {
    it('connects with its name, subscribes to the drive command, sends the scene and follows the server', async () => {
      const server = resources.add(
        new RealvirtualServer({
          port: 0,
          signals: [
            { name: 'MotorOn', type: 'Bool', direction: 'write', value: true },
            { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 400 },
          ],
        }),
      );
      await server.listen();
      const events = record(server);
      const named = nextEvent(server, 'init', (peer) => peer.name === 'SimClient', 5000);
      const subscribed = nextEvent(server, 'subscribe', undefined, 5000);
      const sim = start(['--mode', 'client', '--port', String(server.port), '--name', 'SimClient']);
      await named;
      const [, names] = await subscribed;
      assert.deepEqual(names, ['MotorOn', 'DriveSpeed', 'ResetCounter']);
      await sim.waitFor(new RegExp(`connected to ws://127\\.0\\.0\\.1:${server.port}/`));

      await until(() => valuesOf(events, 'DrivePosition').length >= 3, 'three DrivePosition values from the sim', 3000);
      const positions = valuesOf(events, 'DrivePosition') as number[];
      assert.ok(
        positions.every((p, i) => i === 0 || p > positions[i - 1]),
        `DrivePosition increases: ${positions}`,
      );
      assert.equal(server.values().Status, 'Running');

      const stopped = nextEvent(server, 'data', (event) => event.values.Status === 'Stopped');
      server.write('DriveSpeed', 0);
      await stopped;
      await sim.waitFor(/set DriveSpeed = 0/);

      const [answer] = await server.requestImport();
      const seen: Record<string, [string, string, string]> = {};
      for (const signal of answer.signals) seen[signal.name] = [signal.remoteType, signal.valueType, signal.direction];
      assert.deepEqual(seen, EXPECTED_IMPORT);

      const gone = nextEvent(server, 'disconnect', undefined, 5000);
      sim.kill('SIGTERM');
      assert.deepEqual(await sim.waitForExit(5000), { code: 0, signal: null }, sim.output);
      await gone;
    });

    it('answers import_request, config_get and config_set from the server (a raw WebSocket server)', async () => {
      const raw = resources.add(await RawServer.start(0));
      start(['--mode', 'client', '--port', String(raw.port), '--name', 'RawSim']);
      const peer = await raw.connection(0, 5000);
      const init = await peer.waitFor((frame) => frame.type === 'init', 'init');
      assert.deepEqual(init, { type: 'init', version: 2, name: 'RawSim' });

      peer.send({ type: 'import_request', version: 2 });
      const catalog = await peer.waitFor((frame) => frame.type === 'import_answer', 'import_answer');
      assert.deepEqual(catalog.signalTypes, Object.fromEntries(Object.entries(EXPECTED_IMPORT).map(([name, [type]]) => [name, type])));

      peer.send({ type: 'config_get', version: 2 });
      const answer = await peer.waitFor((frame) => frame.type === 'config_answer', 'config_answer');
      assert.deepEqual(answer.config, { publishIntervalMs: 10, partSpacingMm: 600, partLengthMm: 200, tickMs: 100 });
      peer.send({ type: 'config_set', version: 2, config: { publishIntervalMs: 20 } });
      const result = await peer.waitFor((frame) => frame.type === 'config_result', 'config_result');
      assert.equal(result.success, true);
      const from = peer.mark();
      peer.send({ type: 'config_get', version: 2 });
      const after = await peer.waitFor((frame) => frame.type === 'config_answer', 'config_answer after config_set', 3000, from);
      assert.equal((after.config as Record<string, unknown>).publishIntervalMs, 20);
    });

    it('keeps retrying until the server is up, then connects', async () => {
      const port = await freePort();
      const sim = start(['--mode', 'client', '--port', String(port)]);
      await sim.waitFor(/cannot connect to ws:\/\/127\.0\.0\.1:\d+\/: connection refused/, 5000, 'stderr');
      const server = resources.add(new RealvirtualServer({ port }));
      const connected = nextEvent(server, 'init', (peer) => peer.name === 'realvirtual-sim', 8000);
      await server.listen();
      await connected;
      assert.ok(sim.running);
    });
  });
});
