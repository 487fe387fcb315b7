/**
 * RealvirtualClient over real sockets on 127.0.0.1, against servers written here:
 * a raw `ws` WebSocketServer that records every frame, and TCP servers that
 * misbehave below the WebSocket layer (silent, hanging, resetting).
 */
import assert from 'assert/strict';
import { ClientOptions, EndpointStatus, PeerInfo, RealvirtualClient, RealvirtualError } from '../../engine';
import { delay, Frame, FrameLog, freePort, nextEvent, RawServer, rejectionOf, Resources, SilentServer, until, WAIT_MS, within } from '../helpers/events';

/** Quick retries without jitter, so that reconnect tests stay short. */
const FAST_RETRY: ClientOptions = { reconnectIntervalMs: 30, maxReconnectIntervalMs: 150, reconnectJitter: 0 };

/** Pending timers of this process (mocha sets its own test timer once a test function has returned its promise). */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('RealvirtualClient over real sockets (raw ws servers)', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  async function startRaw(port = 0): Promise<RawServer> {
    return resources.add(await RawServer.start(port));
  }

  function newClient(options: ClientOptions): RealvirtualClient {
    return resources.add(new RealvirtualClient({ host: '127.0.0.1', ...FAST_RETRY, ...options }));
  }

  /** Sends `request` and resolves once the client's answer of type `answer` arrived: every frame the client sent before it is then in the log. */
  async function barrier(connection: FrameLog): Promise<number> {
    const from = connection.mark();
    connection.send({ type: 'import_request', version: 2 });
    await connection.waitFor((f) => f.type === 'import_answer', 'the import_answer used as a barrier', WAIT_MS, from);
    return connection.frames.findIndex((f, i) => i >= from && f.type === 'import_answer');
  }

  const count = (frames: Frame[], type: string): number => frames.filter((f) => f.type === type).length;

  describe('opening a connection', function () {
    it('sends init with its clientName on open, on its path', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, clientName: 'Twin', path: 'bridge/ws' });
      await within(client.connect(), 'client.connect()');
      const connection = await raw.connection(0);
      await connection.waitFor((f) => f.type === 'init', 'the init');
      assert.deepEqual(connection.frames[0], { type: 'init', version: 2, name: 'Twin' });
      assert.equal(raw.paths[0], '/bridge/ws');
      assert.equal(client.status.state, 'connected');
      assert.equal(client.status.peerName, `127.0.0.1:${raw.port}`);
      assert.ok(client.connected);

      const unnamed = newClient({ port: raw.port });
      await unnamed.connect();
      const second = await raw.connection(1);
      assert.deepEqual(await second.waitFor((f) => f.type === 'init', 'the second init'), { type: 'init', version: 2, name: 'Node-RED' });
    });

    it('sends subscribe right after init when a subscription is set', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, clientName: 'Sub', subscribe: ['A', 'B'] });
      await client.connect();
      const connection = await raw.connection(0);
      await connection.waitForCount('subscribe', 1);
      assert.deepEqual(connection.frames.slice(0, 2), [
        { type: 'init', version: 2, name: 'Sub' },
        { type: 'subscribe', version: 2, subscribe: ['A', 'B'] },
      ]);

      // A new subscription is sent at once on the same connection.
      client.setSubscription(['C']);
      const changed = await connection.waitFor((f) => f.type === 'subscribe' && Array.isArray(f.subscribe) && f.subscribe[0] === 'C', 'the new subscribe');
      assert.deepEqual(changed, { type: 'subscribe', version: 2, subscribe: ['C'] });
      assert.equal(raw.connections.length, 1);
    });

    it('sends no subscribe when no subscription is set (and reconnects to drop one)', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, clientName: 'All' });
      await client.connect();
      const connection = await raw.connection(0);
      const end = await barrier(connection);
      assert.equal(count(connection.frames.slice(0, end), 'subscribe'), 0, 'no subscribe before the answer to a later request');
      assert.deepEqual(connection.frames[0], { type: 'init', version: 2, name: 'All' });

      // Subscribing and then going back to "all signals" needs a new connection: the protocol has no unsubscribe.
      client.setSubscription(['X']);
      await connection.waitForCount('subscribe', 1);
      client.setSubscription(null);
      const fresh = await raw.connection(1);
      const freshEnd = await barrier(fresh);
      assert.equal(fresh.frames[0].type, 'init');
      assert.equal(count(fresh.frames.slice(0, freshEnd), 'subscribe'), 0);
      await within(connection.closed, 'the old connection closing');
    });

    it('after the server accepts, sends its full write state, then changes', async function () {
      const raw = await startRaw();
      const client = newClient({
        port: raw.port,
        cycleMs: 10,
        signals: [{ name: 'R', type: 'Int', direction: 'read' }],
      });
      client.write('A', 1);
      client.write('B', 'two');
      await client.connect();
      const connection = await raw.connection(0);
      const full = await connection.waitFor((f) => f.type === 'data', 'the full write state');
      assert.deepEqual(full, { type: 'data', signals: { A: 1, B: 'two' } });
      const from = connection.mark();
      client.write('A', 2);
      assert.deepEqual((await connection.waitFor((f) => f.type === 'data', 'the change', WAIT_MS, from)).signals, { A: 2 });
    });
  });

  describe('reconnecting', function () {
    it('after a restart of the server re-sends init, its subscription and its final values exactly once each', async function () {
      const first = await startRaw();
      const port = first.port;
      const client = newClient({ port, clientName: 'Again', subscribe: ['S'], cycleMs: 10 });
      const connects: PeerInfo[] = [];
      client.on('connect', (peer) => connects.push(peer));
      client.writeMany({ A: 1, B: 1 });
      await client.connect();
      const before = await first.connection(0);
      await before.waitFor((f) => f.type === 'data', 'the first full state');

      const reconnecting = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
      const disconnected = nextEvent(client, 'disconnect');
      await first.close();
      await reconnecting;
      await disconnected;
      assert.equal(client.connected, false);

      // Written while the server is down: only the final values count.
      client.write('A', 2);
      client.write('A', 3);
      client.writeMany({ B: 5, C: 'new' });

      const connected = nextEvent(client, 'status', (status) => status.state === 'connected');
      const second = await startRaw(port);
      await connected;
      const after = await second.connection(0);
      await after.waitFor((f) => f.type === 'data' && f.signals?.A === 3, 'the final value of A');
      const end = await barrier(after);
      const frames = after.frames.slice(0, end);
      assert.deepEqual(frames[0], { type: 'init', version: 2, name: 'Again' });
      assert.deepEqual(frames[1], { type: 'subscribe', version: 2, subscribe: ['S'] });
      assert.equal(count(frames, 'init'), 1, 'init sent once');
      assert.equal(count(frames, 'subscribe'), 1, 'subscribe sent once');
      const data = frames.filter((f) => f.type === 'data');
      assert.deepEqual(
        data.map((f) => f.signals),
        [{ A: 3, B: 5, C: 'new' }],
        'the final write state, once',
      );
      assert.equal(second.connections.length, 1, 'one connection');
      assert.equal(connects.length, 2);
    });

    it('keep-alive: repeats init while nothing is sent for keepAliveMs', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, clientName: 'Idle', keepAliveMs: 200 });
      await client.connect();
      const connection = await raw.connection(0);
      const inits = await connection.waitForCount('init', 3);
      for (const frame of inits) assert.deepEqual(frame, { type: 'init', version: 2, name: 'Idle' });
      assert.equal(count(connection.frames, 'data'), 0);
      assert.equal(raw.connections.length, 1, 'the keep-alive does not reconnect');
    });

    it('heartbeat: reconnects when the server stops answering pings', async function () {
      const silent = resources.add(await SilentServer.start('upgrade'));
      const client = newClient({ port: silent.port, heartbeatMs: 100 });
      await within(client.connect(), 'connecting to a server that completes the upgrade by hand');
      const reconnecting = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
      const disconnected = nextEvent(client, 'disconnect');
      const [status] = await reconnecting;
      assert.equal(status.error?.code, 'ERR_HEARTBEAT_TIMEOUT');
      assert.match(String(status.error?.message), /ping/);
      const [peer, reason] = await disconnected;
      assert.equal(peer.id, 'server');
      assert.equal(typeof reason, 'string');
      await until(() => silent.connections >= 2, 'the client dialled again');
      await nextEvent(client, 'status', (s) => s.state === 'connected');
    });

    it('heartbeat: keeps a connection whose server answers pings, even when it sends nothing', async function () {
      const raw = await startRaw();
      // Periods long enough that a busy machine (the other lane of npm test) does not miss a pong.
      const client = newClient({ port: raw.port, heartbeatMs: 150 });
      let disconnects = 0;
      client.on('disconnect', () => disconnects++);
      await client.connect();
      await delay(1500); // ten heartbeat periods with a server that only answers pings
      assert.equal(disconnects, 0);
      assert.equal(client.status.state, 'connected');
      assert.equal(raw.connections.length, 1);
    });

    it('maxReconnectAttempts: 2 against a closed port ends in failed with ERR_GAVE_UP', async function () {
      const port = await freePort();
      const client = newClient({ port, maxReconnectAttempts: 2, reconnectIntervalMs: 10, maxReconnectIntervalMs: 20 });
      const failed = nextEvent(client, 'status', (status) => status.state === 'failed');
      const error = await rejectionOf(client.connect(), 'connect() to a closed port');
      const [status] = await failed;
      assert.equal(status.error?.code, 'ERR_GAVE_UP');
      assert.match(String(status.error?.message), /gave up after 2 reconnect attempts/);
      assert.match(String(status.error?.message), /ECONNREFUSED/);
      assert.equal(error.code, 'ERR_GAVE_UP');
      assert.equal(client.status.state, 'failed');
    });

    it('maxReconnectAttempts: 2 makes exactly three attempts', async function () {
      const reset = resources.add(await SilentServer.start('reset'));
      const client = newClient({ port: reset.port, maxReconnectAttempts: 2, reconnectIntervalMs: 10, maxReconnectIntervalMs: 20 });
      await rejectionOf(client.connect(), 'connect() to a server that resets every connection');
      assert.equal(client.status.error?.code, 'ERR_GAVE_UP');
      await delay(100); // several retry intervals: a fourth attempt would show
      assert.equal(reset.connections, 3, 'the first attempt and two retries');

      // connect() after giving up starts over with the full number of retries.
      await rejectionOf(client.connect(), 'a second connect()');
      assert.equal(client.status.error?.code, 'ERR_GAVE_UP');
      await delay(100);
      assert.equal(reset.connections, 6, 'again the first attempt and two retries');
    });

    it('a frame larger than maxPayload from the server is reported and the client reconnects', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, maxPayload: 1024 });
      await client.connect();
      const connection = await raw.connection(0);
      const problem = nextEvent(client, 'problem');
      const reconnecting = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
      connection.send({ type: 'data', signals: { Big: 'x'.repeat(4000) } });
      assert.equal((await within(connection.closed, 'the oversized frame closing the connection')).code, 1009);
      assert.equal((await problem)[0].code, 'ERR_PAYLOAD_TOO_LARGE');
      assert.equal((await reconnecting)[0].error?.code, 'ERR_PAYLOAD_TOO_LARGE');
      await raw.connection(1);
      assert.equal(client.values().Big, undefined);
    });

    it('a refused connection gives one reconnecting status while retrying, not one per attempt', async function () {
      const port = await freePort();
      const client = newClient({ port, maxReconnectAttempts: 4, reconnectIntervalMs: 10, maxReconnectIntervalMs: 40 });
      const statuses: EndpointStatus[] = [];
      client.on('status', (status) => statuses.push(status));
      await rejectionOf(client.connect(), 'connect() to a closed port');
      assert.deepEqual(
        statuses.map((s) => s.state),
        ['connecting', 'reconnecting', 'failed'],
      );
      const retrying = statuses[1];
      assert.equal(retrying.error?.code, 'ERR_CONNECTION');
      assert.match(String(retrying.error?.message), /refused/);
      assert.equal(typeof retrying.retryInMs, 'number');
      assert.match(String(statuses[2].error?.message), /gave up after 4 reconnect attempts/);
    });

    it('close() during reconnect resolves quickly and leaves no timers', async function () {
      const port = await freePort();
      const timersBefore = activeTimers(); // after an await: mocha's own test timer is set by now
      // A one-minute retry interval: a timer left behind would keep this process alive.
      const client = new RealvirtualClient({ host: '127.0.0.1', port, reconnectIntervalMs: 60000, reconnectJitter: 0 });
      resources.add(client);
      const connecting = client.connect();
      const [status] = await nextEvent(client, 'status', (s) => s.state === 'reconnecting');
      assert.equal(status.retryInMs, 60000);
      assert.ok(activeTimers() > timersBefore, 'the retry timer is pending');
      await within(client.close(), 'client.close() during reconnect', 1000);
      assert.equal(client.status.state, 'closed');
      const error = await rejectionOf(connecting, 'connect() of a client closed before it connected');
      assert.equal(error.code, 'ERR_CLOSED');
      assert.equal(activeTimers(), timersBefore, 'no timer left behind');
    });

    it('close() during a pending handshake resolves quickly and leaves no timers', async function () {
      const hang = resources.add(await SilentServer.start('hang'));
      const timersBefore = activeTimers();
      const client = new RealvirtualClient({ host: '127.0.0.1', port: hang.port, handshakeTimeoutMs: 60000 });
      resources.add(client);
      const accepted = nextEvent(hang, 'connection');
      const connecting = client.connect();
      const [socket] = await accepted;
      const socketClosed = nextEvent(socket, 'close');
      await within(client.close(), 'client.close() during the opening handshake', 1000);
      await socketClosed;
      assert.equal(client.status.state, 'closed');
      assert.equal((await rejectionOf(connecting)).code, 'ERR_CLOSED');
      assert.equal(activeTimers(), timersBefore, 'no timer left behind');
    });
  });

  describe('receiving', function () {
    it('emits data and snapshot frames and merges them into values()', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, signals: [{ name: 'W', type: 'Int', direction: 'write', value: 1 }] });
      await client.connect();
      const connection = await raw.connection(0);
      const peer = { id: 'server', name: `127.0.0.1:${raw.port}` };

      const snapshot = nextEvent(client, 'data');
      connection.send({ type: 'snapshot', signals: { S1: 1, S2: 'a' } });
      const [first] = await snapshot;
      assert.deepEqual(first, { type: 'snapshot', peer, values: { S1: 1, S2: 'a' }, changed: ['S1', 'S2'], batch: { names: ['S1', 'S2'], values: [1, 'a'], shape: null } });

      const data = nextEvent(client, 'data');
      connection.send({ type: 'data', signals: { S2: 'b', S3: true, S1: 1, W: 99 } });
      const [second] = await data;
      assert.equal(second.type, 'data');
      assert.deepEqual(second.peer, peer);
      assert.deepEqual(second.values, { S2: 'b', S3: true, S1: 1 }, 'a value for a signal we write is ignored');
      assert.deepEqual([...second.changed].sort(), ['S2', 'S3']);
      assert.deepEqual(client.values(), { S1: 1, S2: 'b', S3: true });
      assert.deepEqual(client.values('write'), { W: 1 });
    });

    it('requestImport resolves with the catalog, directions inverted', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port });
      await assert.rejects(client.requestImport(), (error: RealvirtualError) => error.code === 'ERR_NOT_CONNECTED');
      await client.connect();
      const connection = await raw.connection(0);
      connection.on('frame', (frame: Frame) => {
        if (frame.type !== 'import_request') return;
        connection.send({
          type: 'import_answer',
          version: 2,
          signals: { Speed: 1.5, Enable: true, Count: 3, Name: 'x', Neutral: 2.5 },
          signalTypes: { Speed: 'PLCOutputFloat', Enable: 'PLCInputBool', Count: 'PLCOutputInt', Name: 'PLCInputText', Neutral: 'Float' },
        });
      });
      const event = nextEvent(client, 'importAnswer');
      const result = await within(client.requestImport(), 'requestImport()');
      assert.deepEqual(await connection.waitFor((f) => f.type === 'import_request', 'the import_request'), { type: 'import_request', version: 2 });
      assert.deepEqual(result.peer, { id: 'server', name: `127.0.0.1:${raw.port}` });
      assert.deepEqual(result.rejected, []);
      const byName = Object.fromEntries(result.signals.map((s) => [s.name, s]));
      assert.deepEqual(byName.Speed, { name: 'Speed', remoteType: 'PLCOutputFloat', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 1.5 });
      assert.deepEqual(byName.Enable, { name: 'Enable', remoteType: 'PLCInputBool', localType: 'PLCOutputBool', valueType: 'Bool', direction: 'write', value: true });
      assert.deepEqual(byName.Count, { name: 'Count', remoteType: 'PLCOutputInt', localType: 'PLCInputInt', valueType: 'Int', direction: 'read', value: 3 });
      assert.deepEqual(byName.Name, { name: 'Name', remoteType: 'PLCInputText', localType: 'PLCOutputText', valueType: 'Text', direction: 'write', value: 'x' });
      assert.deepEqual(byName.Neutral, { name: 'Neutral', remoteType: 'Float', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 2.5 });
      assert.equal(result.signals.length, 5);
      assert.deepEqual((await event)[0], result);
    });

    it('getConfig and setConfig resolve with the answers', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port });
      await client.connect();
      const connection = await raw.connection(0);
      connection.on('frame', (frame: Frame) => {
        if (frame.type === 'config_get') {
          connection.send({ type: 'config_answer', version: 2, config: { publishIntervalMs: 5, loggingLevel: 'Information' } });
        } else if (frame.type === 'config_set') {
          const config = frame.config as Record<string, unknown>;
          if (config.publishIntervalMs === 10) connection.send({ type: 'config_result', version: 2, success: true, message: 'Configuration saved and applied' });
          else connection.send({ type: 'config_result', version: 2, success: false });
        }
      });
      assert.deepEqual(await within(client.getConfig(), 'getConfig()'), { publishIntervalMs: 5, loggingLevel: 'Information' });
      assert.deepEqual(await within(client.setConfig({ publishIntervalMs: 10 }), 'setConfig()'), { success: true, message: 'Configuration saved and applied' });
      const sent = await connection.waitFor((f) => f.type === 'config_set', 'the config_set');
      assert.deepEqual(sent, { type: 'config_set', version: 2, config: { publishIntervalMs: 10 } });
      assert.deepEqual(await within(client.setConfig({ publishIntervalMs: 1 }), 'setConfig() refused'), { success: false, message: '' });
      assert.equal(count(connection.frames, 'config_get'), 1);
    });

    it('getConfig, setConfig and requestImport reject with ERR_TIMEOUT when the server never answers', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, requestTimeoutMs: 100 });
      await assert.rejects(client.getConfig(), (error: RealvirtualError) => error.code === 'ERR_NOT_CONNECTED');
      await client.connect();
      const connection = await raw.connection(0);
      const [get, set, imported] = await Promise.all([
        rejectionOf(client.getConfig(), 'getConfig()'),
        rejectionOf(client.setConfig({ a: 1 }), 'setConfig()'),
        rejectionOf(client.requestImport(), 'requestImport()'),
      ]);
      assert.equal(get.code, 'ERR_TIMEOUT');
      assert.match(get.message, /config_answer/);
      assert.equal(set.code, 'ERR_TIMEOUT');
      assert.match(set.message, /config_result/);
      assert.equal(imported.code, 'ERR_TIMEOUT');
      assert.match(imported.message, /import_answer/);
      // The requests did go out; the connection is still up.
      await connection.waitFor((f) => f.type === 'config_get', 'the config_get');
      await connection.waitFor((f) => f.type === 'config_set', 'the config_set');
      await connection.waitFor((f) => f.type === 'import_request', 'the import_request');
      assert.ok(client.connected);
    });

    it('a pending request is rejected with ERR_NOT_CONNECTED when the connection drops', async function () {
      const raw = await startRaw();
      const client = newClient({ port: raw.port, requestTimeoutMs: 5000 });
      await client.connect();
      const connection = await raw.connection(0);
      const pending = client.getConfig();
      await connection.waitFor((f) => f.type === 'config_get', 'the config_get');
      connection.ws.close(1011, 'going away');
      const error = await within(rejectionOf(pending), 'the pending getConfig() failing');
      assert.equal(error.code, 'ERR_NOT_CONNECTED');
    });
  });
});
