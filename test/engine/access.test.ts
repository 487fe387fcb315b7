/**
 * Access control of the server, checked with real upgrade requests on 127.0.0.1: the
 * default bind address, a shared secret (last path segment or Bearer header, 401 before
 * the upgrade otherwise), an allow-list of browser origins (403) and a maximum client
 * count (503). Refusals are logged once per kind and address, never with the secret.
 */
import assert from 'assert/strict';
import { AddressInfo } from 'net';
import { RealvirtualClient, RealvirtualServer, ServerOptions } from '../../engine';
import { nextEvent, RawClient, Resources, until, within } from '../helpers/events';
import { RecordingLogger, upgradeAnswer } from '../helpers/faults';

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
    const stranger = resources.add(new RealvirtualClient({ port: server.port, path: '/rv', clientName: 'Stranger', reconnectIntervalMs: 10, maxReconnectIntervalMs: 20, maxReconnectAttempts: 3, logger }));
    const failed = nextEvent(stranger, 'status', (status) => status.state === 'failed');
    const retrying = nextEvent(stranger, 'status', (status) => status.state === 'reconnecting');
    void stranger.connect();
    const [status] = await retrying;
    assert.equal(status.error?.code, 'ERR_UNAUTHORIZED');
    assert.match(String(status.error?.message), /refused the connection \(HTTP 401\): wrong or missing secret/);
    await failed;
    assert.deepEqual(server.clients.map((c) => c.name), ['Trusted']);
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

  it('maxClients: further upgrades get 503 before the upgrade; a freed place can be taken again', async function () {
    const { server, problems } = await start({ maxClients: 2, cycleMs: 0 });
    const first = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    await until(() => server.status.clients === 2, 'two clients');
    const full = await upgradeAnswer(server.port, '/');
    assert.equal(full.status, 503);
    assert.equal(full.headers['retry-after'], '5');
    assert.match(full.body, /maxClients \(2\) clients are connected/);
    const third = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false }));
    const error = await third.connect().then(() => null, (e: Error & { code?: string; cause?: Error & { code?: string } }) => e);
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
    resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`, { headers: { Authorization: `Bearer ${SECRET}` } }));
    await until(() => server.status.clients === 1, 'one client');
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://bad.example' })).status, 401);
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://bad.example', Authorization: `Bearer ${SECRET}` })).status, 403);
    assert.equal((await upgradeAnswer(server.port, '/', { Origin: 'https://ok.example', Authorization: `Bearer ${SECRET}` })).status, 503);
  });

  it('rejects invalid options', function () {
    assert.throws(() => new RealvirtualServer({ secret: 5 as unknown as string }), /secret must be a string/);
    assert.throws(() => new RealvirtualServer({ maxClients: -1 }), /maxClients must be a whole number >= 0/);
    assert.throws(() => new RealvirtualServer({ maxClients: 1.5 }), /maxClients/);
    assert.throws(() => new RealvirtualClient({ secret: {} as unknown as string }), /secret must be a string/);
  });
});
