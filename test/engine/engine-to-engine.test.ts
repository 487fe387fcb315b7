/**
 * Our server and our client together over real sockets on 127.0.0.1: values,
 * import and remote configuration both ways, and a reconnect to a new server.
 */
import assert from 'assert/strict';
import { ClientOptions, RealvirtualClient, RealvirtualServer, ServerOptions } from '../../engine';
import { nextEvent, Resources, until, within } from '../helpers/events';

describe('RealvirtualServer and RealvirtualClient together', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  async function startServer(options: ServerOptions = {}): Promise<RealvirtualServer> {
    const server = resources.add(new RealvirtualServer({ port: 0, cycleMs: 10, ...options }));
    await server.listen();
    return server;
  }

  async function connectClient(server: RealvirtualServer, options: ClientOptions = {}): Promise<RealvirtualClient> {
    const client = resources.add(
      new RealvirtualClient({
        host: '127.0.0.1',
        port: server.port,
        clientName: 'Twin',
        cycleMs: 10,
        reconnectIntervalMs: 30,
        maxReconnectIntervalMs: 150,
        reconnectJitter: 0,
        ...options,
      }),
    );
    const initialised = nextEvent(server, 'init', (peer) => peer.name === (options.clientName ?? 'Twin'));
    await within(client.connect(), 'client.connect()');
    await initialised;
    return client;
  }

  it('exchanges values both ways', async function () {
    const server = await startServer({
      signals: [
        { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 },
        { name: 'Start', type: 'Bool', direction: 'read' },
      ],
    });
    const client = await connectClient(server, {
      signals: [
        { name: 'Start', type: 'Bool', direction: 'write', value: true },
        { name: 'Speed', type: 'Float', direction: 'read' },
      ],
    });
    // Each side gets the other's state on connecting.
    await until(() => client.values().Speed === 1.5, 'the client has the server state');
    await until(() => server.values().Start === true, 'the server has the client state');

    const atClient = nextEvent(client, 'data', (event) => event.values.Speed === 2.25);
    server.write('Speed', 2.25);
    const [clientEvent] = await atClient;
    assert.deepEqual(clientEvent.peer, { id: 'server', name: `127.0.0.1:${server.port}` });
    assert.deepEqual(client.values(), { Speed: 2.25 });

    const atServer = nextEvent(server, 'data', (event) => event.values.Start === false);
    client.write('Start', false);
    const [serverEvent] = await atServer;
    assert.equal(serverEvent.peer.name, 'Twin');
    assert.deepEqual(serverEvent.changed, ['Start']);
    assert.deepEqual(server.values(), { Start: false });
  });

  it('a client subscription limits what the server sends it', async function () {
    const server = await startServer({
      signals: [
        { name: 'Wanted', type: 'Int', direction: 'write', value: 1 },
        { name: 'Other', type: 'Int', direction: 'write', value: 1 },
      ],
    });
    const subscribed = nextEvent(server, 'subscribe');
    const client = await connectClient(server, { subscribe: ['Wanted'] });
    assert.deepEqual((await subscribed)[1], ['Wanted']);
    await until(() => client.values().Wanted === 1, 'the snapshot arrived');
    server.writeMany({ Other: 2, Wanted: 2 });
    await until(() => client.values().Wanted === 2, 'the change of Wanted arrived');
    // Changes of Other are not sent. (The full state the server sends a new client may
    // reach it before its subscribe does, so Other may be known with its first value.)
    assert.notEqual(client.values().Other, 2);
    server.write('Wanted', 3);
    await until(() => client.values().Wanted === 3, 'the next change of Wanted arrived');
    assert.notEqual(client.values().Other, 2);
  });

  it('imports both ways, with directions inverted', async function () {
    const server = await startServer({
      signals: [
        { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 },
        { name: 'Cmd', type: 'Bool', direction: 'read' },
      ],
    });
    const client = await connectClient(server, {
      signals: [
        { name: 'Lamp', type: 'Bool', direction: 'write', value: true },
        { name: 'Temp', type: 'Float', direction: 'read' },
      ],
    });

    // Each catalog also lists what that side has received from the other (wait for it, so that it is deterministic).
    await until(() => server.values().Lamp === true, 'the server received Lamp');
    await until(() => client.values().Speed === 1.5, 'the client received Speed');

    const fromServer = await within(client.requestImport(), 'client.requestImport()');
    const serverCatalog = Object.fromEntries(fromServer.signals.map((s) => [s.name, [s.direction, s.localType, s.value]]));
    assert.deepEqual(serverCatalog, {
      Speed: ['read', 'PLCInputFloat', 1.5],
      Cmd: ['write', 'PLCOutputBool', false],
      Lamp: ['write', 'PLCOutputBool', true],
    });

    const fromClients = await within(server.requestImport(), 'server.requestImport()');
    assert.equal(fromClients.length, 1);
    assert.equal(fromClients[0].peer.name, 'Twin');
    const clientCatalog = Object.fromEntries(fromClients[0].signals.map((s) => [s.name, [s.direction, s.localType, s.value]]));
    assert.deepEqual(clientCatalog, {
      Lamp: ['read', 'PLCInputBool', true],
      Temp: ['write', 'PLCOutputFloat', 0],
      Speed: ['write', 'PLCOutputFloat', 1.5],
    });

    // The imported catalog, declared, mirrors the other side.
    server.declareImported(fromClients[0].signals);
    assert.equal(server.table.get('Temp')?.rvType, 'PLCOutputFloat');
    const atClient = nextEvent(client, 'data', (event) => event.values.Temp === 21.5);
    server.write('Temp', 21.5);
    await atClient;
  });

  it('reads and changes the server configuration remotely', async function () {
    const server = await startServer({ config: { loggingLevel: 'Information' } });
    const client = await connectClient(server);
    assert.deepEqual(await within(client.getConfig(), 'getConfig()'), { loggingLevel: 'Information', publishIntervalMs: 10 });

    const configSet = nextEvent(server, 'configSet');
    const result = await within(client.setConfig({ publishIntervalMs: 30, loggingLevel: 'Debug' }), 'setConfig()');
    assert.equal(result.success, true);
    assert.equal(server.cycleMs, 30);
    const [peer, config] = await configSet;
    assert.equal(peer.name, 'Twin');
    assert.deepEqual(config, { loggingLevel: 'Debug', publishIntervalMs: 30 });
    assert.deepEqual(await client.getConfig(), { loggingLevel: 'Debug', publishIntervalMs: 30 });

    const refused = await within(client.setConfig({ publishIntervalMs: 'fast' }), 'setConfig() with a bad interval');
    assert.equal(refused.success, false);
    assert.match(refused.message, /publishIntervalMs/);
    assert.equal(server.cycleMs, 30);
  });

  it('after the server is closed and a new one listens on the same port, the final value of each side arrives', async function () {
    const first = await startServer();
    const port = first.port;
    const client = await connectClient(first, { subscribe: ['FromServer'] });
    first.write('FromServer', 1);
    client.write('FromClient', 1);
    await until(() => client.values().FromServer === 1 && first.values().FromClient === 1, 'the first values arrived');

    const reconnecting = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
    await within(first.close(), 'closing the first server');
    await reconnecting;
    client.write('FromClient', 2);
    client.write('FromClient', 3);

    const second = resources.add(new RealvirtualServer({ port, cycleMs: 10 }));
    second.write('FromServer', 42);
    const subscribed = nextEvent(second, 'subscribe');
    const connected = nextEvent(client, 'status', (status) => status.state === 'connected');
    await second.listen();
    await connected;
    const [peer, names] = await subscribed;
    assert.equal(peer.name, 'Twin');
    assert.deepEqual(names, ['FromServer']);
    await until(() => second.values().FromClient === 3, 'the final client value reached the new server');
    await until(() => client.values().FromServer === 42, 'the new server value reached the client');

    // And the exchange goes on.
    second.write('FromServer', 43);
    client.write('FromClient', 4);
    await until(() => client.values().FromServer === 43 && second.values().FromClient === 4, 'values after the reconnect');
    assert.equal(second.status.clients, 1);
  });
});
