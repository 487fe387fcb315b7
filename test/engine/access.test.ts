/**
 * Access control of the server, checked with real upgrade requests on 127.0.0.1: the
 * default bind address, a shared secret (last path segment or Bearer header, 401 before
 * the upgrade otherwise), an allow-list of browser origins (403), a maximum client
 * count (503, unless a client that never spoke can give up its place) and the closing of
 * clients that send nothing (1008 "no init"). Refusals are logged once per kind and
 * address, never with the secret. A client warns once when its secret would travel in
 * clear text to another machine.
 */
import assert from 'assert/strict';
import { AddressInfo } from 'net';
import { RealvirtualClient, RealvirtualServer, ServerOptions } from '../../engine';
import { collectEvents, nextEvent, RawClient, Resources, silentClient, until, within } from '../helpers/events';
import { RecordingLogger, stubLookup, upgradeAnswer } from '../helpers/faults';

const SECRET = 's3cr/t ü+';

describe('access control', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  async function start(options: ServerOptions, logger = new RecordingLogger()): Promise<{ server: RealvirtualServer; logger: RecordingLogger; problems: string[] }> {
    const server = resources.add(new RealvirtualServer({ port: 0, logger, ...options }));
    const problems: string[] = [];
    server.on('problem', (error) => problems.push(error.code));
    await server.listen();
    return { server, logger, problems };
  }

  it('binds 127.0.0.1 by default', async function () {
    const { server } = await start({});
    assert.equal(server.host, '127.0.0.1');
    assert.equal(((server as any).httpServer.address() as AddressInfo).address, '127.0.0.1');
  });

  it('a secret: accepted as the last path segment or as a Bearer header; anything else gets 401 before the upgrade', async function () {
    const { server, logger, problems } = await start({ path: '/rv', secret: SECRET });
    const port = server.port;
    const encoded = encodeURIComponent(SECRET);
    const refused: Array<[string, string, Record<string, string>]> = [
      ['no secret', '/rv', {}],
      ['a wrong path segment', '/rv/wrong', {}],
      ['the secret with a different case', `/rv/${encodeURIComponent(SECRET.toUpperCase())}`, {}],
      ['a wrong Bearer header', '/rv', { Authorization: 'Bearer wrong' }],
      ['Basic authentication', '/rv', { Authorization: `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}` }],
      ['the secret in the query', `/rv?secret=${encoded}`, {}],
    ];
    for (const [what, path, headers] of refused) {
      const answer = await upgradeAnswer(port, path, headers);
      assert.equal(answer.status, 401, what);
      assert.equal(answer.headers['www-authenticate'], 'Bearer realm="realvirtual"', what);
      assert.match(answer.body, /wrong or missing secret/, what);
    }
    assert.equal((await upgradeAnswer(port, `/elsewhere/${encoded}`)).status, 404, 'another path');
    assert.equal((await upgradeAnswer(port, `/rv/x/${encoded}`)).status, 404, 'a deeper path');
    assert.equal(server.status.clients, 0, 'no refused request became a client');

    assert.equal((await upgradeAnswer(port, `/rv/${encoded}`)).status, 101, 'the secret as the last path segment');
    assert.equal((await upgradeAnswer(port, `/rv/${encoded}?x=1`)).status, 101, 'with a query string');
    assert.equal((await upgradeAnswer(port, '/rv', { Authorization: `Bearer ${SECRET}` })).status, 101, 'the secret as a Bearer header');
    assert.equal((await upgradeAnswer(port, `/rv/wrong`, { Authorization: `bearer ${SECRET}` })).status, 101, 'either credential is enough');

    // Six refusals from one address: reported each time, logged once, and never with the secret.
    assert.equal(problems.filter((code) => code === 'ERR_UNAUTHORIZED').length, refused.length);
    const lines = logger.visible.filter((line) => /refused/.test(line));
    assert.deepEqual(lines, ['refused a connection from 127.0.0.1: wrong or missing secret (HTTP 401)']);
    for (const line of logger.lines) assert.ok(!line.text.includes(SECRET) && !line.text.includes(encoded), `the secret was logged: ${line.text}`);
    // Only a digest of the secret is kept.
    assert.ok(!JSON.stringify(Object.values(server).filter((value) => typeof value === 'string')).includes(SECRET));
  });

  it('a secret on a server without a path: "/<secret>" or a Bearer header on any path', async function () {
    const { server } = await start({ secret: SECRET });
    assert.equal((await upgradeAnswer(server.port, '/')).status, 401);
    assert.equal((await upgradeAnswer(server.port, `/${encodeURIComponent(SECRET)}`)).status, 101);
    assert.equal((await upgradeAnswer(server.port, `/proxy/route/${encodeURIComponent(SECRET)}`)).status, 101);
    assert.equal((await upgradeAnswer(server.port, '/any', { Authorization: `Bearer ${SECRET}` })).status, 101);
  });

  it('our client sends its secret as a Bearer header; a client without it is refused with a clear error', async function () {
    const { server } = await start({ path: '/rv', secret: SECRET, cycleMs: 0 });
    const good = resources.add(new RealvirtualClient({ port: server.port, path: '/rv', secret: SECRET, clientName: 'Trusted', cycleMs: 0, autoReconnect: false }));
    await within(good.connect(), 'the client with the secret to connect');
    assert.equal(good.url, `ws://127.0.0.1:${server.port}/rv`, 'the secret is not in the URL');
    good.write('Hello', 1);
    await until(() => server.values().Hello === 1, 'its value at the server');

    const logger = new RecordingLogger();
    const stranger = resources.add(
      new RealvirtualClient({ port: server.port, path: '/rv', clientName: 'Stranger', reconnectIntervalMs: 10, maxReconnectIntervalMs: 20, maxReconnectAttempts: 3, logger }),
    );
    const failed = nextEvent(stranger, 'status', (status) => status.state === 'failed');
    const retrying = nextEvent(stranger, 'status', (status) => status.state === 'reconnecting');
    void stranger.connect();
    const [status] = await retrying;
    assert.equal(status.error?.code, 'ERR_UNAUTHORIZED');
    assert.match(String(status.error?.message), /refused the connection \(HTTP 401\): wrong or missing secret/);
    await failed;
    assert.deepEqual(
      server.clients.map((c) => c.name),
      ['Trusted'],
    );
    assert.equal(logger.visible.length, 2, `one line while retrying, one on giving up: ${JSON.stringify(logger.visible)}`);
  });

  it('allowed origins: a browser page from another origin gets 403; listed origins and clients without an Origin header connect', async function () {
    const { server, logger } = await start({ allowedOrigins: 'https://hmi.example.com, http://localhost:3000' });
    const port = server.port;
    const forbidden = await upgradeAnswer(port, '/', { Origin: 'https://evil.example.com' });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body, /origin "https:\/\/evil\.example\.com" is not in allowedOrigins/);
    assert.equal((await upgradeAnswer(port, '/', { Origin: 'null' })).status, 403, 'an opaque origin');
    assert.equal((await upgradeAnswer(port, '/', { Origin: 'https://HMI.example.com/' })).status, 101, 'case and trailing slash do not matter');
    assert.equal((await upgradeAnswer(port, '/', { Origin: 'http://localhost:3000' })).status, 101);
    assert.equal((await upgradeAnswer(port, '/')).status, 101, 'no Origin: not a browser');
    const raw = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`, { origin: 'https://hmi.example.com' }));
    assert.ok(raw.open);
    await assert.rejects(RawClient.connect(`ws://127.0.0.1:${port}/`, { origin: 'https://evil.example.com' }), /403/);
    assert.equal(logger.visible.filter((line) => /HTTP 403/.test(line)).length, 1, 'logged once for this address');
  });

  /** A raw client that has sent `init`, once the server has seen it. */
  async function speakingClient(server: RealvirtualServer, name: string, options: Parameters<typeof RawClient.connect>[1] = {}): Promise<RawClient> {
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`, options));
    client.init(name);
    await until(() => server.clients.some((peer) => peer.name === name), `${name} to be known by its init`);
    return client;
  }

  it('maxClients: further upgrades get 503 before the upgrade when every client has spoken; a freed place can be taken again', async function () {
    const { server, problems } = await start({ maxClients: 2, cycleMs: 0 });
    const first = await speakingClient(server, 'First');
    await speakingClient(server, 'Second');
    const full = await upgradeAnswer(server.port, '/');
    assert.equal(full.status, 503);
    assert.equal(full.headers['retry-after'], '5');
    assert.match(full.body, /maxClients \(2\) clients are connected, and all of them have sent messages/);
    const third = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false }));
    const error = await third.connect().then(
      () => null,
      (e: Error & { code?: string; cause?: Error & { code?: string } }) => e,
    );
    assert.equal(error?.cause?.code, 'ERR_TOO_MANY_CLIENTS');
    assert.match(String(error?.message), /refused the connection \(HTTP 503\): it has its maximum number of clients/);
    assert.ok(problems.includes('ERR_TOO_MANY_CLIENTS'));
    assert.equal(server.status.clients, 2);

    await first.close();
    await until(() => server.status.clients === 1, 'one place free');
    const again = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false }));
    await within(again.connect(), 'a client to take the free place');
  });

  it('checks in order: the secret (401) before the origin (403) before the client count (503)', async function () {
    const { server } = await start({ secret: SECRET, allowedOrigins: 'https://ok.example', maxClients: 1 });
    await speakingClient(server, 'Only', { headers: { Authorization: `Bearer ${SECRET}` } });
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://bad.example' })).status, 401);
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://bad.example', Authorization: `Bearer ${SECRET}` })).status, 403);
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://ok.example', Authorization: `Bearer ${SECRET}` })).status, 503);
  });

  it('maxClients with silent sockets: a real client takes the place of the oldest client that never spoke, until all have spoken', async function () {
    const logger = new RecordingLogger();
    const { server, problems } = await start({ maxClients: 3, cycleMs: 0, signals: [{ name: 'Speed', type: 'Float', direction: 'write', value: 1.5 }] }, logger);
    // Three sockets complete the upgrade and then never send anything (a ws client still answers pings).
    const silent: RawClient[] = [];
    for (let i = 0; i < 3; i++) silent.push(resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`)));
    await until(() => server.status.clients === 3, 'three silent clients');

    const twins: RealvirtualClient[] = [];
    for (let i = 0; i < 3; i++) {
      const twin = resources.add(new RealvirtualClient({ port: server.port, clientName: `Twin${i}`, cycleMs: 0, autoReconnect: false }));
      await within(twin.connect(), `real client ${i} to get in`);
      assert.deepEqual(await within(silent[i].closed, `silent client ${i} to be closed`), { code: 1008, reason: 'no init' });
      for (const later of silent.slice(i + 1)) assert.ok(later.open, 'only the oldest silent client makes room');
      twins.push(twin);
    }
    await until(() => server.clients.filter((peer) => peer.name.startsWith('Twin')).length === 3, 'the three real clients known by their init');
    assert.equal(server.status.clients, 3);
    server.write('Speed', 2.5);
    for (const twin of twins) await until(() => twin.values().Speed === 2.5, 'the value at every real client');

    // Every client has spoken now: the next one is refused as before.
    const fourth = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false }));
    const refused = await fourth.connect().then(
      () => null,
      (error: Error & { cause?: Error & { code?: string } }) => error,
    );
    assert.equal(refused?.cause?.code, 'ERR_TOO_MANY_CLIENTS');
    assert.equal(problems.filter((code) => code === 'ERR_NO_INIT').length, 3);
    const lines = logger.visible.filter((line) => /no init|sent nothing/.test(line));
    assert.equal(lines.length, 1, `logged once for this address: ${JSON.stringify(lines)}`);
    assert.match(lines[0], /had sent nothing when 127\.0\.0\.1 connected at maxClients \(3\): closed to make room \(close code 1008\)/);
  });

  it('initTimeout: a client that sends nothing is closed with 1008 "no init", also one that answers nothing; a client that spoke stays', async function () {
    const { server } = await start({ initTimeoutMs: 500, heartbeatMs: 0 });
    const problems = collectEvents(server, 'problem', 2, (error) => error.code === 'ERR_NO_INIT');
    const speaker = await speakingClient(server, 'Speaker');
    const quiet = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    const deaf = await silentClient(server.port);
    const deafClosed = new Promise<void>((resolve) => deaf.once('close', () => resolve()));
    assert.deepEqual(await within(quiet.closed, 'the quiet client to be closed'), { code: 1008, reason: 'no init' });
    await within(deafClosed, 'the socket that answers nothing to be closed');
    const [first] = (await problems)[0];
    assert.match(first.message, /sent nothing within 0\.5 s of connecting \(initTimeout\)/);
    // The speaker connected first: had it been subject to the timeout, it would be gone by now.
    assert.ok(speaker.open, 'the client that sent init is still connected');
    assert.deepEqual(
      server.clients.map((peer) => peer.name),
      ['Speaker'],
    );
  });

  it('a client that sends its secret over plain ws:// to another machine warns once (ERR_INSECURE_SECRET); to this machine, with TLS or without a secret it does not', async function () {
    const { server } = await start({ secret: SECRET, cycleMs: 0 });
    // "plant.invalid" is not loopback by name; a stand-in resolver sends the traffic to 127.0.0.1.
    const lookup = stubLookup(() => '127.0.0.1');
    const logger = new RecordingLogger();
    const remote = resources.add(new RealvirtualClient({ host: 'plant.invalid', port: server.port, secret: SECRET, lookup, logger, subscribe: ['A'], cycleMs: 0, reconnectIntervalMs: 10 }));
    const problems: string[] = [];
    remote.on('problem', (error) => problems.push(error.code));
    assert.equal(remote.sendsSecretInClearText, true);
    await within(remote.connect(), 'the client to connect through the stand-in resolver');
    assert.ok(lookup.calls.includes('plant.invalid'));
    // Subscribing to all signals reconnects: a second connection, no second warning.
    const reconnected = nextEvent(remote, 'status', (status) => status.state === 'connected');
    remote.setSubscription(null);
    await reconnected;
    assert.deepEqual(problems, ['ERR_INSECURE_SECRET']);
    const warnings = logger.visible.filter((line) => /clear text/.test(line));
    assert.equal(warnings.length, 1, JSON.stringify(logger.visible));
    assert.match(warnings[0], /the secret is sent to plant\.invalid over plain ws:\/\/, in clear text/);
    assert.ok(!warnings[0].includes(SECRET));

    const localLogger = new RecordingLogger();
    const local = resources.add(new RealvirtualClient({ port: server.port, secret: SECRET, logger: localLogger, autoReconnect: false }));
    await within(local.connect(), 'a loopback client with the secret');
    assert.deepEqual(localLogger.visible, [], 'no warning on this machine');
    for (const options of [{ host: 'localhost', secret: SECRET }, { host: '::1', secret: SECRET }, { host: 'plant.invalid' }, { host: 'plant.invalid', secret: SECRET, secure: true }]) {
      assert.equal(new RealvirtualClient(options).sendsSecretInClearText, false, JSON.stringify(options));
    }
  });

  it('rejects invalid options', function () {
    assert.throws(() => new RealvirtualServer({ secret: 5 as unknown as string }), /secret must be a string/);
    assert.throws(() => new RealvirtualServer({ maxClients: -1 }), /maxClients must be a whole number >= 0/);
    assert.throws(() => new RealvirtualServer({ maxClients: 1.5 }), /maxClients/);
    assert.throws(() => new RealvirtualServer({ initTimeoutMs: -1 }), /initTimeoutMs must be a number >= 0/);
    assert.throws(() => new RealvirtualClient({ secret: {} as unknown as string }), /secret must be a string/);
  });
});
