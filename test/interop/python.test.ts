/**
 * Interop with realvirtual's own reference peers: the "Example: Python Client" and
 * "Example: Python Server" of the WebSocket Realtime Interface documentation, run
 * unmodified except host and port (see test/interop/peers/README.md).
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { DataEvent, PeerInfo, RealvirtualClient, RealvirtualError, RealvirtualServer } from '../../engine';
import { extractExample, PEER_FILES, peersDir, parsePythonLiteral, prepareSource, ReferencePeer, referenceMarkdownPath, usePythonPeers } from './python';
import { freePort, waits } from '../helpers/events';
import { repoRoot } from '../repo';

/** Bound of every single wait (the peers answer in milliseconds). */
const WAIT_MS = 8000;

const { within, until: waitUntil } = waits(WAIT_MS);

/** until() with the peer's output below the reason when it times out. */
function until<T>(condition: () => T | undefined, what: string, timeoutMs = WAIT_MS, details?: () => string): Promise<T> {
  return waitUntil(condition, () => (details ? `${what}\n${details()}` : what), timeoutMs);
}

/** Parses the value part of a line like `Received: {...}`. */
function printed(line: string, prefix: string): unknown {
  assert.ok(line.startsWith(prefix), `expected a line starting with ${JSON.stringify(prefix)}, got ${JSON.stringify(line)}`);
  return parsePythonLiteral(line.slice(prefix.length));
}

describe('interop: reference Python examples of the realvirtual documentation', function () {
  describe('vendored examples', function () {
    const reference = referenceMarkdownPath();
    const shown = path.relative(repoRoot(), reference);

    for (const peer of ['client', 'server'] as ReferencePeer[]) {
      const title = `${PEER_FILES[peer]} equals the reference's "Example: Python ${peer === 'client' ? 'Client' : 'Server'}" code block byte for byte`;
      if (!fs.existsSync(reference)) {
        it.skip(`${title} (SKIPPED: reference markdown not found at ${shown})`);
        continue;
      }
      it(title, function () {
        const expected = extractExample(fs.readFileSync(reference, 'utf8'), peer);
        const actual = fs.readFileSync(path.join(peersDir(), PEER_FILES[peer]), 'utf8');
        assert.equal(actual, expected, `${PEER_FILES[peer]} differs from the reference's code block`);
      });
    }

    it('the run-time copies change nothing but host and port', function () {
      for (const peer of ['client', 'server'] as ReferencePeer[]) {
        const original = fs.readFileSync(path.join(peersDir(), PEER_FILES[peer]), 'utf8').split('\n');
        const prepared = prepareSource(peer, 54321).split('\n');
        assert.equal(prepared.length, original.length);
        const changed = original.map((line, i) => [line, prepared[i]]).filter(([a, b]) => a !== b);
        assert.deepEqual(
          changed,
          peer === 'client'
            ? [['    uri = "ws://127.0.0.1:8080"', '    uri = "ws://127.0.0.1:54321"']]
            : [['    async with websockets.serve(handle_client, "0.0.0.0", 8080):', '    async with websockets.serve(handle_client, "127.0.0.1", 54321):']],
        );
      }
    });
  });

  describe('with Python', function () {
    const startPython = usePythonPeers();

    describe('our RealvirtualServer with the reference Python client', function () {
      let server: RealvirtualServer | null = null;

      afterEach(async function () {
        await server?.close();
        server = null;
      });

      it('answers init, import_request and subscribe, receives its data and sends it only subscribed changes', async function () {
        server = new RealvirtualServer({
          port: 0,
          cycleMs: 0,
          signals: [
            { name: 'Sensor1', type: 'Bool', direction: 'write', value: true },
            { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 12.5 },
            { name: 'Counter', type: 'Int', direction: 'write', value: 3 },
          ],
        });
        const inits: PeerInfo[] = [];
        const subscribes: Array<{ peer: PeerInfo; names: string[] }> = [];
        const data: DataEvent[] = [];
        const problems: RealvirtualError[] = [];
        server.on('init', (peer) => inits.push(peer));
        let dataFramesBeforeSubscribe = -1;
        server.on('subscribe', (peer, names) => {
          subscribes.push({ peer, names });
          dataFramesBeforeSubscribe = server!.stats.frames;
        });
        server.on('data', (event) => data.push(event));
        server.on('problem', (error) => problems.push(error));
        await within(server.listen(), 'our server to listen');

        const py = startPython('client', server.port);
        const output = (): string => `python client output:\n${py.transcript()}`;

        // 1. init: the client's name reaches us.
        const init = await until(() => inits.find((peer) => peer.name === 'PythonClient'), 'an init named "PythonClient"', WAIT_MS, output);
        assert.equal(init.name, 'PythonClient');
        await py.waitForLine(/^Connected and init sent$/, WAIT_MS);

        // 2./3. import_request is answered with our catalog.
        const available = await py.waitForLine(/^Available signals: /, WAIT_MS);
        const names = printed(available.text, 'Available signals: ');
        assert.ok(Array.isArray(names), `expected a list, got ${available.text}`);
        assert.deepEqual([...(names as string[])].sort(), ['Counter', 'DriveSpeed', 'Sensor1']);

        // 4. its subscribe arrives and is answered with a snapshot of exactly those signals.
        const subscribe = await until(() => subscribes[0], "the client's subscribe", WAIT_MS, output);
        assert.equal(subscribe.peer.name, 'PythonClient');
        assert.deepEqual(subscribe.names, ['Sensor1', 'DriveSpeed']);

        // Its full state waits for its subscribe (subscribeWaitMs): the first values it
        // receives are the snapshot of exactly what it subscribed to.
        const snapshot = await py.waitForLine(/^Received: /, WAIT_MS, available.index + 1);
        assert.deepEqual(printed(snapshot.text, 'Received: '), { Sensor1: true, DriveSpeed: 12.5 }, 'the first values the client receives are its snapshot');
        const beforeSnapshot = py.lines.slice(0, snapshot.index).filter((line) => line.stream === 'stdout' && line.text.startsWith('Received: '));
        assert.deepEqual(
          beforeSnapshot.map((line) => line.text),
          [],
          'nothing was received before the snapshot',
        );
        // The client drops what comes before its import_answer unseen: the server's count says none came.
        assert.equal(dataFramesBeforeSubscribe, 0, 'data frames sent to the client before its subscribe');

        // 5. its data (sent after every frame it receives) reaches us, from PythonClient.
        const fromClient = await until(() => data.find((event) => event.type === 'data' && event.peer.name === 'PythonClient'), 'data from PythonClient', WAIT_MS, output);
        assert.deepEqual(fromClient.values, { MyOutput: true, SetSpeed: 100.5 });
        assert.deepEqual([...fromClient.changed].sort(), ['MyOutput', 'SetSpeed']);
        assert.deepEqual(server.values('read'), { MyOutput: true, SetSpeed: 100.5 });

        // A change of Counter (not subscribed) is not sent; a change of DriveSpeed is.
        server.write('Counter', 4);
        server.write('DriveSpeed', 42.25);
        const update = await py.waitForLine(/^Received: .*'DriveSpeed': 42\.25/, WAIT_MS, snapshot.index + 1);
        assert.deepEqual(printed(update.text, 'Received: '), { DriveSpeed: 42.25 });
        const afterSnapshot = py.lines.slice(snapshot.index + 1, update.index + 1).filter((line) => line.stream === 'stdout');
        for (const line of afterSnapshot) {
          assert.ok(!line.text.includes('Counter'), `the client was sent Counter, which it did not subscribe to: ${line.text}`);
        }

        assert.ok(py.running, `the python client stopped early:\n${py.transcript()}`);
        assert.deepEqual(
          problems.map((error) => error.message),
          [],
        );
      });
    });

    describe('our RealvirtualClient with the reference Python server', function () {
      let client: RealvirtualClient | null = null;

      afterEach(async function () {
        await client?.close();
        client = null;
      });

      it('identifies itself, imports the catalog inverted, gets a snapshot of its subscription and exchanges data', async function () {
        const port = await freePort();
        const py = startPython('server', port);
        const output = (): string => `python server output:\n${py.transcript()}`;
        await py.waitForLine(/^WebSocket server running on /, WAIT_MS);

        const clientName = 'NodeRedInterop';
        client = new RealvirtualClient({ port, clientName, subscribe: ['PLC_Speed'], cycleMs: 0, autoReconnect: false });
        const data: DataEvent[] = [];
        const problems: RealvirtualError[] = [];
        client.on('data', (event) => data.push(event));
        client.on('problem', (error) => problems.push(error));
        await within(client.connect(), `our client to connect to the python server on port ${port}`);

        // init: our name reaches the server.
        await py.waitForLine(new RegExp(`^Client connected: ${clientName}$`), WAIT_MS);

        // subscribe: answered with a snapshot of only PLC_Speed.
        const snapshot = await until(() => data.find((event) => event.type === 'snapshot'), 'a snapshot from the python server', WAIT_MS, output);
        assert.deepEqual(snapshot.values, { PLC_Speed: 0 });
        assert.equal(snapshot.peer.id, 'server');

        // import: PLCOutput* over there become PLCInput* (read) signals here.
        const result = await within(client.requestImport(), 'the import_answer of the python server');
        assert.deepEqual(result.rejected, []);
        const imported = [...result.signals].sort((a, b) => a.name.localeCompare(b.name));
        assert.deepEqual(imported, [
          { name: 'PLC_Counter', remoteType: 'PLCOutputInt', localType: 'PLCInputInt', valueType: 'Int', direction: 'read', value: 0 },
          { name: 'PLC_Running', remoteType: 'PLCOutputBool', localType: 'PLCInputBool', valueType: 'Bool', direction: 'read', value: true },
          { name: 'PLC_Speed', remoteType: 'PLCOutputFloat', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 0 },
        ]);
        client.declareImported(result.signals);
        assert.equal(client.table.get('PLC_Speed')?.rvType, 'PLCInputFloat');

        // data: our write reaches the server, which answers with its subscribed values.
        const before = data.length;
        client.write('MyCommand', true);
        const line = await py.waitForLine(new RegExp(`^From ${clientName}: `), WAIT_MS);
        assert.deepEqual(printed(line.text, `From ${clientName}: `), { MyCommand: true });
        const answer = await until(() => data.slice(before).find((event) => event.type === 'data'), "the python server's data answer", WAIT_MS, output);
        assert.deepEqual(answer.values, { PLC_Speed: 0 });
        assert.equal(answer.peer.id, 'server');

        assert.ok(py.running, `the python server stopped early:\n${py.transcript()}`);
        assert.deepEqual(
          problems.map((error) => error.message),
          [],
        );
      });
    });
  });
});
