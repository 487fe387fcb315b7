/**
 * realvirtual-connection: settings and defaults, invalid settings, when it opens and
 * closes, and the status every node using it shows, against real peers on 127.0.0.1.
 */
import assert from 'assert/strict';
import fs from 'fs';
import net from 'net';
import path from 'path';
import vm from 'vm';
import WebSocket from 'ws';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { RawServer } from '../helpers/events';
import {
  catchNode,
  connection,
  coreModules,
  deploy,
  errorsOf,
  FlowNode,
  freePort,
  helperNode,
  Inbox,
  load,
  node,
  nodesDir,
  removeDir,
  Status,
  statuses,
  TAB,
  tempDir,
  runtimeResources,
  until,
  user,
  waitForStatus,
  within,
} from './harness';

/** The properties and defaults of realvirtual-connection, as the issue specifies them. */
const CONTRACT_DEFAULTS = {
  name: '',
  mode: 'server',
  host: '127.0.0.1',
  port: 1234,
  path: '',
  clientName: 'Node-RED',
  cycleMs: 10,
  onlyChanged: true,
  preserveTransitions: false,
  maxPayload: 16777216,
  autoReconnect: true,
  reconnectInterval: 2,
  maxReconnectAttempts: -1,
  allowedOrigins: '',
  maxClients: 0,
  initTimeout: 10,
  subscribeWait: 0.5,
  slowPeerTimeout: 30,
  maxConfigBytes: 262144,
  remoteConfig: 'read-write',
  maxTextBytes: 65536,
  maxNameLength: 256,
  maxClientName: 256,
  maxTableBytes: 67108864,
  defaultDirection: 'read',
  inputPatterns: '',
  outputPatterns: '',
  debug: false,
  signals: [],
};

/** The `defaults` each node type registers in the editor, read by running the .html's script with a stub RED. */
function editorDefaults(type: string): Record<string, { value?: unknown; type?: string }> {
  const html = fs.readFileSync(path.join(nodesDir, `${type}.html`), 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((match) => match[1]);
  const registered: Record<string, { defaults: Record<string, { value?: unknown; type?: string }> }> = {};
  const RED = {
    nodes: { registerType: (name: string, definition: { defaults: Record<string, { value?: unknown }> }) => (registered[name] = definition) },
    validators: { number: () => () => true, regex: () => () => true },
    _: (key: string) => key,
  };
  for (const script of scripts) vm.runInNewContext(script, { RED, $: () => undefined, window: {} });
  assert.ok(registered[type], `${type}.html registers no node type ${type}`);
  // Plain data of this realm (the script's objects have the sandbox's prototypes).
  return JSON.parse(JSON.stringify(registered[type].defaults));
}

/** A self-signed test certificate for 127.0.0.1 (valid 2000-2100) and its key. Test fixture only. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBWzCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAAVPyVrHaI0oBcB
NcBqtvpsEAkk7z5SNcPdNPPh4H7YIzr36gpfNryg47b5Y6N3gVrFG2RB94ahlmCf
HPc82aajQzBBMA8GA1UdEQQIMAaHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQUmE9B9AOH7FzA1q2A942nRYxVuG8wCgYIKoZIzj0EAwIDRwAwRAIgOpcn
xcKwRpvEhO/7sFGZUKlYg9r+dBTMrNhIC/SjdEUCIF0Mu+IRJYXtjQ6jL8NoFpfe
rh7KIvrPQIFkICoFlTL5
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCTUPlBXJ2oftDQZx
5Wpl852mlM0mEAFjgE8t+SSPqwmhRANCAAQAFT8lax2iNKAXATXAarb6bBAJJO8+
UjXD3TTz4eB+2CM69+oKXza8oOO2+WOjd4FaxRtkQfeGoZZgnxz3PNmm
-----END PRIVATE KEY-----
`;

const isGreenDot = (status: Status) => status.fill === 'green' && status.shape === 'dot';
const isRedRing = (status: Status) => status.fill === 'red' && status.shape === 'ring';

describe('nodes: realvirtual-connection', function () {
  const resources = runtimeResources();

  describe('settings', function () {
    it('the editor registers the documented defaults', function () {
      const defaults = editorDefaults('realvirtual-connection');
      const values: Record<string, unknown> = {};
      for (const key of Object.keys(defaults)) if (key !== 'tls') values[key] = defaults[key].value;
      assert.deepEqual(values, CONTRACT_DEFAULTS);
      assert.equal(defaults.tls.type, 'tls-config', 'tls is a tls-config node id');
      for (const type of ['realvirtual-in', 'realvirtual-out', 'realvirtual-import', 'realvirtual-config']) {
        assert.equal(editorDefaults(type).connection.type, 'realvirtual-connection', `${type} uses a realvirtual-connection`);
      }
      assert.equal(editorDefaults('realvirtual-in').signals.value, '');
      assert.equal(editorDefaults('realvirtual-in').output.value, 'changes');
      assert.equal(editorDefaults('realvirtual-import').declare.value, false);
    });

    it('a connection with no properties set runs with the documented defaults', async function () {
      // No node uses it, so it opens nothing (and binds no port).
      await load([TAB, connection({})]);
      const settings = node('conn').connection.settings;
      assert.ok(settings, `settings rejected: ${node('conn').connection.settingsError?.message}`);
      assert.equal(settings.mode, 'server');
      assert.equal(settings.debug, false);
      assert.equal(settings.label, '127.0.0.1:1234');
      const { server, client } = settings;
      assert.deepEqual(
        {
          host: server.host,
          port: server.port,
          path: server.path,
          cycleMs: server.cycleMs,
          onlyChanged: server.onlyChanged,
          preserveTransitions: server.preserveTransitions,
          maxPayload: server.maxPayload,
          defaultDirection: server.defaultDirection,
          inputPatterns: server.inputPatterns,
          outputPatterns: server.outputPatterns,
          signals: server.signals,
        },
        {
          host: '127.0.0.1',
          port: 1234,
          path: '',
          cycleMs: 10,
          onlyChanged: true,
          preserveTransitions: false,
          maxPayload: 16777216,
          defaultDirection: 'read',
          inputPatterns: '',
          outputPatterns: '',
          signals: [],
        },
      );
      assert.deepEqual(
        { clientName: client.clientName, autoReconnect: client.autoReconnect, reconnectIntervalMs: client.reconnectIntervalMs, maxReconnectAttempts: client.maxReconnectAttempts },
        { clientName: 'Node-RED', autoReconnect: true, reconnectIntervalMs: 2000, maxReconnectAttempts: -1 },
      );
      assert.equal(node('conn').connection.userCount, 0);
    });

    it('client mode with defaults connects to 127.0.0.1 and introduces itself as "Node-RED"', async function () {
      const raw = resources.add(await RawServer.start());
      await load([TAB, connection({ mode: 'client', port: raw.port }), user('in', 'in')]);
      const peer = await raw.connection(0);
      const init = await peer.waitFor((frame) => frame.type === 'init', 'init');
      assert.equal(init.name, 'Node-RED');
      assert.equal(init.version, 2);
      await waitForStatus(node('in'), (status) => isGreenDot(status) && status.text === `connected: 127.0.0.1:${raw.port}`, `green dot "connected: 127.0.0.1:${raw.port}"`);
    });

    const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
      ['port "abc"', { port: 'abc' }, /port/],
      ['port 70000', { port: 70000 }, /port/],
      ['client mode with port "abc"', { mode: 'client', port: 'abc' }, /port/],
      ['mode "x"', { mode: 'x' }, /mode/],
      ['cycleMs -1', { cycleMs: -1 }, /cycleMs/],
      ['defaultDirection "up"', { defaultDirection: 'up' }, /defaultDirection/],
      ['a declared signal of type "Double"', { signals: [{ name: 'S', type: 'Double', direction: 'write' }] }, /declared signal 1.*type/],
      ['a declared signal without a name', { signals: [{ name: '', type: 'Bool', direction: 'write' }] }, /declared signal 1 has no name/],
      [
        'a declared signal declared twice',
        {
          signals: [
            { name: 'S', type: 'Bool' },
            { name: 'S', type: 'Int' },
          ],
        },
        /declared twice/,
      ],
      ['a declared signal with direction "both"', { signals: [{ name: 'S', type: 'Bool', direction: 'both' }] }, /direction/],
      ['a declared Int with the value "abc"', { signals: [{ name: 'S', type: 'Int', direction: 'write', value: 'abc' }] }, /"S".*Int/],
      ['signals that are not a list', { signals: 'S' }, /signals must be a list/],
      ['a tls-config id that names no node', { tls: 'no-such-tls-node' }, /TLS configuration node is missing/],
    ];
    for (const [what, props, pattern] of invalid) {
      it(`invalid settings (${what}): red status and an error, no crash, and inputs fail through done(err)`, async function () {
        const port = await freePort();
        await load([TAB, connection({ port, ...props }), user('in', 'in', {}, ['h-in']), user('out', 'out'), catchNode('catch', 'h-catch'), helperNode('h-in'), helperNode('h-catch')]);
        const red = await waitForStatus(node('in'), isRedRing, 'red ring');
        assert.match(red.text ?? '', pattern);
        await waitForStatus(node('out'), (status) => isRedRing(status) && pattern.test(status.text ?? ''), 'red ring naming the problem');
        const errors = errorsOf(node('conn')).filter((error) => error.startsWith('Invalid realvirtual-connection settings:'));
        assert.equal(errors.length, 1, `expected one error about the settings, got ${JSON.stringify(errorsOf(node('conn')))}`);
        assert.match(errors[0], pattern);
        // A message to the out node fails through done(err): a Catch node sees it.
        const caught = new Inbox('h-catch');
        node('out').receive({ payload: { A: 1 } });
        const [msg] = await caught.next();
        assert.match(msg.error.message, pattern);
        assert.equal(msg.error.source.id, 'out');
        // Nothing listens: the settings never reached a socket.
        if (props.mode !== 'client') await assertRefused(port);
      });
    }
  });

  describe('TLS (a tls-config node)', function () {
    let dir: string | null = null;

    afterEach(function () {
      removeDir(dir);
      dir = null;
    });

    function tlsNode(props: Record<string, string | boolean>): FlowNode {
      return { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, servername: '', alpnprotocol: '', ...props };
    }

    function writeFixtures(): { cert: string; key: string } {
      dir = tempDir('rv-tls-');
      const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
      fs.writeFileSync(files.cert, CERT);
      fs.writeFileSync(files.key, KEY);
      return files;
    }

    it('server mode serves wss:// with its certificate and key', async function () {
      const files = writeFixtures();
      const port = await freePort();
      await load([TAB, tlsNode({ cert: files.cert, key: files.key }), connection({ port, cycleMs: 0, tls: 'tls' }), user('in', 'in', {}, ['h']), helperNode('h')], {}, coreModules(['tls-config']));
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      const inbox = new Inbox('h');
      // The certificate is verified against our CA (the certificate itself).
      const client = resources.add(new RealvirtualClient({ port, clientName: 'SecureTwin', cycleMs: 0, autoReconnect: false, tls: { ca: CERT } }));
      assert.ok(client.url.startsWith('wss://'));
      await within(client.connect(), 'a wss:// client to connect');
      client.write('Secure', true);
      const [msg] = await inbox.next(1);
      assert.deepEqual(msg.payload, { Secure: true });
      assert.equal(msg.rv.peer.name, 'SecureTwin');
      // Plain ws:// gets no WebSocket there.
      const plain = new RealvirtualClient({ port, autoReconnect: false });
      resources.add(plain);
      await assert.rejects(within(plain.connect(), 'a plain ws:// attempt to fail'));
    });

    it('client mode connects with wss:// and verifies the server against the configured CA', async function () {
      const files = writeFixtures();
      const server = resources.add(new RealvirtualServer({ port: 0, cycleMs: 0, tls: { cert: CERT, key: KEY } }));
      await within(server.listen(), 'our wss:// test server to listen');
      await load(
        [TAB, tlsNode({ ca: files.cert }), connection({ mode: 'client', port: server.port, cycleMs: 0, tls: 'tls' }), user('in', 'in', {}, ['h']), helperNode('h')],
        {},
        coreModules(['tls-config']),
      );
      await waitForStatus(node('in'), (status) => isGreenDot(status) && status.text === `connected: 127.0.0.1:${server.port}`, 'connected');
      const inbox = new Inbox('h');
      await until(() => server.clients.some((peer) => peer.name === 'Node-RED'), 'our client named at the server');
      server.write('Hello', 'secure');
      const [msg] = await inbox.next(1);
      assert.deepEqual(msg.payload, { Hello: 'secure' });

      // Without that CA the self-signed certificate is refused.
      await deploy([TAB, tlsNode({}), connection({ mode: 'client', port: server.port, cycleMs: 0, tls: 'tls', reconnectInterval: 0.1 }), user('in', 'in', {}, ['h']), helperNode('h')], 'full');
      const refused = await waitForStatus(node('in'), isRedRing, 'red ring');
      assert.match(refused.text ?? '', /SELF_SIGNED|certificate/i);
    });
  });

  describe('lifecycle', function () {
    it('opens when the first node registers and closes when the last one is removed', async function () {
      const port = await freePort();
      const alone = [TAB, connection({ port, cycleMs: 0 })];
      await load(alone);
      assert.equal(node('conn').connection.userCount, 0);
      assert.equal((node('conn').connection as any).endpoint, null, 'no endpoint while no node uses the connection');
      await assertRefused(port);

      // A "nodes" deploy adds a realvirtual-in: the server starts listening.
      await deploy([...alone, user('in', 'in')], 'nodes');
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'ring', 'green ring (listening)');
      assert.equal(node('conn').connection.userCount, 1);
      const client = resources.add(new RealvirtualClient({ port, autoReconnect: false }));
      await within(client.connect(), 'a client to connect');
      await client.close();

      // A "nodes" deploy removes it again: the port is released before the deploy returns.
      await deploy(alone, 'nodes');
      assert.equal(node('conn').connection.userCount, 0);
      await assertRefused(port);
      await reuseAndRelease(port);
    });

    it('server mode: green ring with 0 clients, green dot "1 client" / "2 clients" while clients are connected', async function () {
      const port = await freePort();
      await load([TAB, connection({ port, cycleMs: 0 }), user('in', 'in'), user('out', 'out')]);
      const inNode = node('in');
      const listening = await waitForStatus(inNode, (status) => status.fill === 'green' && status.shape === 'ring', 'green ring');
      assert.equal(listening.text, 'listening: 0 clients');
      assert.equal(statuses(inNode)[0].fill, 'yellow', 'first status: connecting');

      const first = resources.add(new RealvirtualClient({ port, clientName: 'One', autoReconnect: false }));
      await within(first.connect(), 'client One to connect');
      await waitForStatus(inNode, (status) => isGreenDot(status) && status.text === '1 client', 'green dot "1 client"');
      const second = resources.add(new RealvirtualClient({ port, clientName: 'Two', autoReconnect: false }));
      await within(second.connect(), 'client Two to connect');
      await waitForStatus(inNode, (status) => isGreenDot(status) && status.text === '2 clients', 'green dot "2 clients"');
      assert.deepEqual(statuses(node('out')).slice(-1)[0], statuses(inNode).slice(-1)[0], 'every node of the connection shows its status');

      let mark = statuses(inNode).length;
      await second.close();
      await waitForStatus(inNode, (status) => isGreenDot(status) && status.text === '1 client', 'back to "1 client"', mark);
      mark = statuses(inNode).length;
      await first.close();
      await waitForStatus(inNode, (status) => status.fill === 'green' && status.shape === 'ring' && status.text === 'listening: 0 clients', 'back to the green ring', mark);
    });

    it('server mode: a busy port shows a red status with the reason, and the server listens once the port is free', async function () {
      const port = await freePort();
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
      let blocking = true;
      resources.add({ close: () => (blocking ? new Promise<void>((resolve) => blocker.close(() => resolve())) : undefined) });

      await load([TAB, connection({ port, reconnectInterval: 0.1 }), user('in', 'in')]);
      const red = await waitForStatus(node('in'), isRedRing, 'red ring');
      assert.match(red.text ?? '', /EADDRINUSE|in use/i);
      assert.match(red.text ?? '', /^cannot listen on /, 'the status says why it cannot listen, as before the engine retried');
      await until(() => errorsOf(node('conn')).some((error) => /EADDRINUSE|in use/i.test(error)), 'an error naming the busy port');

      const mark = statuses(node('in')).length;
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      blocking = false;
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'ring', 'green ring once the port is free', mark);
      const client = resources.add(new RealvirtualClient({ port, autoReconnect: false }));
      await within(client.connect(), 'a client to connect');
      // The same failure is logged once, not once per retry.
      const busy = errorsOf(node('conn')).filter((error) => /EADDRINUSE|in use/i.test(error));
      assert.equal(new Set(busy).size, busy.length, `a repeated listen error was logged again: ${JSON.stringify(busy)}`);
    });

    it('client mode: yellow ring connecting, red ring with the reason while the server is down, green dot with the peer name after (re)connecting', async function () {
      const port = await freePort();
      await load([TAB, connection({ mode: 'client', port, reconnectInterval: 0.1 }), user('in', 'in'), user('out', 'out')]);
      const inNode = node('in');
      assert.deepEqual(statuses(inNode)[0], { fill: 'yellow', shape: 'ring', text: 'connecting' });
      const down = await waitForStatus(inNode, isRedRing, 'red ring while nothing listens');
      assert.equal(down.text, 'disconnected: ECONNREFUSED');

      let server = resources.add(new RealvirtualServer({ port }));
      await within(server.listen(), 'our test server to listen');
      let mark = statuses(inNode).length;
      const connected = `connected: 127.0.0.1:${port}`;
      await waitForStatus(inNode, (status) => isGreenDot(status) && status.text === connected, `green dot "${connected}"`, mark);

      // The server goes away: red with the reason; it comes back: green again.
      mark = statuses(inNode).length;
      await server.close();
      const lost = await waitForStatus(inNode, isRedRing, 'red ring after the server closed', mark);
      assert.match(lost.text ?? '', /^disconnected: /);
      server = resources.add(new RealvirtualServer({ port }));
      await within(server.listen(), 'our test server to listen again');
      mark = statuses(inNode).length;
      await waitForStatus(inNode, (status) => isGreenDot(status) && status.text === connected, 'green dot after reconnecting', mark);
      await until(
        () => server.clients.length === 1 && server.clients[0].name === 'Node-RED',
        () => `one client named Node-RED on the server (got ${JSON.stringify(server.clients)})`,
      );
    });

    it('sets no status per message: 50 messages each way leave the number of status calls unchanged', async function () {
      const port = await freePort();
      await load([TAB, connection({ port, cycleMs: 0 }), user('in', 'in', { output: 'signal' }, ['h']), user('out', 'out'), helperNode('h')]);
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'green (listening)');
      const client = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
      const received: number[] = [];
      client.on('data', (event) => {
        if (typeof event.values.Out === 'number') received.push(event.values.Out);
      });
      await within(client.connect(), 'the client to connect');
      await waitForStatus(node('in'), (status) => isGreenDot(status) && status.text === '1 client', '"1 client"');
      await waitForStatus(node('out'), (status) => isGreenDot(status) && status.text === '1 client', '"1 client"');
      const inbox = new Inbox('h');
      const before = { in: statuses(node('in')).length, out: statuses(node('out')).length };

      for (let i = 1; i <= 50; i++) {
        node('out').receive({ topic: 'Out', payload: i });
        client.write('In', i);
      }
      await until(
        () => received.includes(50),
        () => `the client to receive Out = 50 (got ${received.slice(-3)})`,
      );
      await inbox.find((msg) => msg.topic === 'In' && msg.payload === 50, 'In = 50');
      assert.equal(inbox.messages.length, 50);
      assert.equal(statuses(node('in')).length, before.in, `realvirtual-in set a status per message: ${JSON.stringify(statuses(node('in')).slice(before.in, before.in + 3))}…`);
      assert.equal(statuses(node('out')).length, before.out, `realvirtual-out set a status per message: ${JSON.stringify(statuses(node('out')).slice(before.out, before.out + 3))}…`);
    });
  });
});

/** Asserts nothing accepts connections on the port (ECONNREFUSED). */
async function assertRefused(port: number): Promise<void> {
  const outcome = await within(
    new Promise<string>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
      socket.on('open', () => {
        socket.terminate();
        resolve('open');
      });
      socket.on('error', (error: Error & { code?: string }) => resolve(error.code ?? error.message));
    }),
    `a connection attempt to port ${port}`,
  );
  assert.equal(outcome, 'ECONNREFUSED', `expected nothing to listen on port ${port}`);
}

/** Asserts the port can be bound (nothing holds it), then releases it. */
async function reuseAndRelease(port: number): Promise<void> {
  const probe = net.createServer();
  await within(
    new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    }),
    `binding port ${port}`,
  );
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
