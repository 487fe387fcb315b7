/**
 * realvirtual-connection's access control and TLS in Node-RED: the secret is a
 * credential (kept out of the flow), the server refuses clients without it, the client
 * sends it; allowed origins, max clients and the slow-peer timeout come from the node's
 * properties; wss:// in both modes with certificates made by openssl at test time; the
 * edit dialog warns about 0.0.0.0, and its Test connection and Import signals send the
 * stored secret only to the deployed target; a client that sends its secret unencrypted
 * to another machine says so in its status.
 */
import assert from 'assert/strict';
import dns from 'dns';
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { RawClient, RawServer } from '../helpers/events';
import { upgradeAnswer } from '../helpers/faults';
import { makeTlsMaterial, TlsMaterial } from '../helpers/tls';
import {
  connection,
  coreModules,
  deploy,
  errorsOf,
  FlowNode,
  freePort,
  helper,
  helperNode,
  Inbox,
  load,
  node,
  nodesDir,
  statuses,
  TAB,
  runtimeResources,
  unload,
  until,
  user,
  waitForStatus,
  within,
} from './harness';

const SECRET = 'correct horse battery staple';

describe('nodes: realvirtual-connection security', function () {
  const resources = runtimeResources();

  describe('a shared secret (a credential)', function () {
    it('server mode: refuses clients without the secret (401), accepts it as a Bearer header or the last path segment', async function () {
      const port = await freePort();
      await load([TAB, connection({ port, path: '/rv', cycleMs: 0 }), user('in', 'in', {}, ['h']), helperNode('h')], {}, [], { conn: { secret: SECRET } });
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      assert.equal((await upgradeAnswer(port, '/rv')).status, 401);
      assert.equal((await upgradeAnswer(port, '/rv/not-it')).status, 401);

      const stranger = resources.add(new RealvirtualClient({ port, path: '/rv', autoReconnect: false }));
      const refused = await stranger.connect().then(
        () => null,
        (error: Error & { cause?: Error & { code?: string } }) => error,
      );
      assert.equal(refused?.cause?.code, 'ERR_UNAUTHORIZED');

      const inbox = new Inbox('h');
      const trusted = resources.add(new RealvirtualClient({ port, path: '/rv', secret: SECRET, clientName: 'Trusted', cycleMs: 0, autoReconnect: false }));
      await within(trusted.connect(), 'a client with the secret to connect');
      trusted.write('A', 1);
      const [msg] = await inbox.next(1);
      assert.deepEqual(msg.payload, { A: 1 });
      // realvirtual's client can only set a path: the secret as its last segment.
      const unity = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/rv/${encodeURIComponent(SECRET)}`));
      unity.init('Unity');
      unity.send({ type: 'data', signals: { B: 2 } });
      await inbox.find((m) => m.payload.B === 2 && m.rv.peer.name === 'Unity', 'B from the path-segment client');
      // The refusals were logged once, without the secret.
      const lines = errorsOf(node('conn')).concat(
        (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((c) => c.thisValue === node('conn')).map((c) => String(c.args[0])),
      );
      assert.equal(lines.filter((line) => /HTTP 401/.test(line)).length, 1, JSON.stringify(lines));
      assert.ok(lines.every((line) => !line.includes(SECRET)));
    });

    it('client mode: sends the secret, so it can connect to a server that requires one; without it the status says why', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, path: '/rv', secret: SECRET, cycleMs: 0 }));
      await server.listen();
      await load([TAB, connection({ mode: 'client', port: server.port, path: '/rv', cycleMs: 0, reconnectInterval: 0.05 }), user('in', 'in', {}, ['h']), helperNode('h')], {}, [], {
        conn: { secret: SECRET },
      });
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'dot', 'connected');
      const inbox = new Inbox('h');
      server.write('FromServer', 5);
      await inbox.find((msg) => msg.payload.FromServer === 5, 'the server value');

      // A full deploy that forgets the secret (an empty credential removes it): refused, and the status says so.
      await deploy(
        [TAB, { ...connection({ mode: 'client', port: server.port, path: '/rv', cycleMs: 0, reconnectInterval: 0.05 }), credentials: { secret: '' } }, user('in', 'in', {}, ['h']), helperNode('h')],
        'full',
      );
      const red = await waitForStatus(node('in'), (status) => status.fill === 'red', 'red ring');
      assert.equal(red.text, 'disconnected: ERR_UNAUTHORIZED');
      await until(() => server.status.clients === 0, 'no client at the server');
    });

    it('is a credential: the deployed flow holds no secret, the runtime does; the editor declares it a password', async function () {
      const port = await freePort();
      await load([TAB, connection({ port })], {}, [], {});
      await deploy([TAB, { ...connection({ port, name: 'with secret' }), credentials: { secret: SECRET } }, user('in', 'in')], 'full');
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      assert.equal(node('conn').credentials.secret, SECRET);
      const flows = (helper as any)._redNodes.getFlows();
      const text = JSON.stringify(flows);
      assert.ok(!text.includes(SECRET), 'the flow configuration (what is exported) contains the secret');
      assert.ok(text.includes('with secret'), 'the flow configuration is the deployed one');
      assert.equal((await upgradeAnswer(port, '/')).status, 401);

      // The editor: credentials {secret: password}, and a password input for it.
      const html = fs.readFileSync(path.join(nodesDir, 'realvirtual-connection.html'), 'utf8');
      const registered = editorRegistration(html);
      assert.deepEqual(registered.credentials, { secret: { type: 'password' } });
      assert.ok(!('secret' in registered.defaults), 'the secret is no property');
      assert.match(html, /<input type="password" id="node-config-input-secret"/);
    });
  });

  describe("the edit dialog's Test connection with a secret", function () {
    async function post(body: unknown): Promise<{ status: number; body: any }> {
      const response = await within(Promise.resolve(helper.request().post('/realvirtual/test').send(body)), 'POST /realvirtual/test', 10000);
      return { status: response.status, body: response.body };
    }

    it('uses the secret typed in the dialog, else (a stored password shows as __PWRD__) the deployed one', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, secret: SECRET }));
      await server.listen();
      await load([TAB, connection({ mode: 'client', port: server.port }), user('in', 'in')], {}, [], { conn: { secret: SECRET } });
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'dot', 'the deployed connection connected');
      const settings = { mode: 'client', host: '127.0.0.1', port: server.port };
      const typed = await post({ id: 'conn', settings: { ...settings, secret: SECRET } });
      assert.equal(typed.body.ok, true, JSON.stringify(typed.body));
      const stored = await post({ id: 'conn', settings: { ...settings, secret: '__PWRD__' } });
      assert.equal(stored.body.ok, true, JSON.stringify(stored.body));
      const wrong = await post({ id: 'conn', settings: { ...settings, secret: 'not it' } });
      assert.deepEqual([wrong.body.ok, wrong.body.code], [false, 'ERR_UNAUTHORIZED']);
      assert.match(wrong.body.message, /HTTP 401/);
      const none = await post({ id: 'other', settings });
      assert.deepEqual([none.body.ok, none.body.code], [false, 'ERR_UNAUTHORIZED']);
    });

    it('sends the stored secret only to the deployed target (normalised); elsewhere only a typed secret, and the answer says why none was sent', async function () {
      const seen: Array<{ url: string; authorization: string | undefined }> = [];
      const recordHeaders = {
        verifyClient: (info: { req: { url?: string; headers: Record<string, string | string[] | undefined> } }) => {
          seen.push({ url: info.req.url ?? '', authorization: info.req.headers.authorization as string | undefined });
          return true;
        },
      };
      const deployedTarget = resources.add(await RawServer.start(0, recordHeaders));
      const elsewhere = resources.add(await RawServer.start(0, recordHeaders));
      await load([TAB, connection({ mode: 'client', port: deployedTarget.port, path: '/rv', cycleMs: 0 }), user('in', 'in')], {}, [], { conn: { secret: SECRET } });
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'dot', 'the deployed connection connected');
      assert.deepEqual(seen, [{ url: '/rv', authorization: `Bearer ${SECRET}` }], 'the deployed connection sends its secret');

      const dial = async (settings: Record<string, unknown>): Promise<{ body: any; authorization: string | undefined }> => {
        const from = seen.length;
        const answer = await post({ id: 'conn', settings: { mode: 'client', ...settings } });
        assert.equal(seen.length, from + 1, `one upgrade for ${JSON.stringify(settings)}: ${JSON.stringify(answer.body)}`);
        return { body: answer.body, authorization: seen[from].authorization };
      };
      const deployedSettings = { host: '127.0.0.1', port: deployedTarget.port, path: '/rv' };
      const sameTarget = [{ ...deployedSettings, secret: '__PWRD__' }, { ...deployedSettings }, { host: ' 127.0.0.1 ', port: String(deployedTarget.port), path: 'rv', secret: '__PWRD__' }];
      for (const settings of sameTarget) {
        const { body, authorization } = await dial(settings);
        assert.equal(authorization, `Bearer ${SECRET}`, `the deployed target, as ${JSON.stringify(settings)}`);
        assert.equal(body.ok, true, JSON.stringify(body));
        assert.equal(body.note, undefined);
      }
      const otherTargets = [
        { ...deployedSettings, port: elsewhere.port, secret: '__PWRD__' },
        { ...deployedSettings, port: elsewhere.port },
        { ...deployedSettings, path: '/other', secret: '__PWRD__' },
      ];
      for (const settings of otherTargets) {
        const { body, authorization } = await dial(settings);
        assert.equal(authorization, undefined, `the stored secret went to ${JSON.stringify(settings)}`);
        assert.equal(body.ok, true, JSON.stringify(body));
        assert.match(body.message, /\(the stored secret is only sent to the deployed target: none was sent/);
        assert.match(body.note, /only sent to the deployed target/);
      }
      const typed = await dial({ ...deployedSettings, port: elsewhere.port, secret: 'typed here' });
      assert.equal(typed.authorization, 'Bearer typed here', 'a secret typed into the dialog goes where the dialog says');
      assert.equal(typed.body.note, undefined);

      // Import signals too: a server elsewhere that requires the same secret does not get it.
      const other = resources.add(new RealvirtualServer({ port: 0, secret: SECRET, signals: [{ name: 'Speed', type: 'Float', direction: 'write', value: 1 }] }));
      await other.listen();
      const importFrom = (secret?: string): Promise<{ status: number; body: any }> =>
        within(
          Promise.resolve(
            helper
              .request()
              .post('/realvirtual/import')
              .send({ id: 'conn', settings: { mode: 'client', host: '127.0.0.1', port: other.port, ...(secret === undefined ? {} : { secret }) } }),
          ),
          'POST /realvirtual/import',
          10000,
        ).then((response) => ({ status: response.status, body: response.body }));
      const withheld = await importFrom('__PWRD__');
      assert.equal(withheld.status, 502, JSON.stringify(withheld.body));
      assert.equal(withheld.body.code, 'ERR_UNAUTHORIZED');
      assert.match(withheld.body.message, /HTTP 401.*the stored secret is only sent to the deployed target/);
      const typedImport = await importFrom(SECRET);
      assert.equal(typedImport.status, 200, JSON.stringify(typedImport.body));
      assert.equal(typedImport.body.answers[0].signals[0].name, 'Speed');
    });
  });

  describe('a client that sends its secret unencrypted to another machine', function () {
    it('warns once in the log and shows a yellow dot while connected', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, secret: SECRET, cycleMs: 0 }));
      await server.listen();
      // "plant.invalid" is not loopback by name; this stand-in for the system resolver sends it to 127.0.0.1.
      const resolver = dns as unknown as { lookup: (host: string, ...rest: unknown[]) => void };
      const systemLookup = resolver.lookup;
      resolver.lookup = (host, ...rest) => systemLookup(host === 'plant.invalid' ? '127.0.0.1' : host, ...rest);
      try {
        await load([TAB, connection({ mode: 'client', host: 'plant.invalid', port: server.port, cycleMs: 0 }), user('in', 'in')], {}, [], { conn: { secret: SECRET } });
        const connected = await waitForStatus(node('in'), (status) => status.shape === 'dot', 'connected');
        assert.deepEqual(connected, { fill: 'yellow', shape: 'dot', text: `connected: plant.invalid:${server.port} (secret sent unencrypted)` });
        assert.equal(server.clients.length, 1);
        const warnings = (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((c) => c.thisValue === node('conn')).map((c) => String(c.args[0]));
        const clearText = warnings.filter((line) => /clear text/.test(line));
        assert.equal(clearText.length, 1, JSON.stringify(warnings));
        assert.match(clearText[0], /the secret is sent to plant\.invalid over plain ws:\/\//);
      } finally {
        resolver.lookup = systemLookup;
      }
    });
  });

  describe('other server limits from the node properties', function () {
    it('allowedOrigins, maxClients, initTimeout, subscribeWait and slowPeerTimeout reach the engine', async function () {
      const port = await freePort();
      await load([TAB, connection({ port, allowedOrigins: 'https://hmi.example.com', maxClients: 1, initTimeout: 7, subscribeWait: 1.5, slowPeerTimeout: 5 }), user('in', 'in')]);
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      const settings = node('conn').connection.settings;
      assert.equal(settings.server.slowPeerTimeoutMs, 5000);
      assert.equal(settings.client.slowPeerTimeoutMs, 5000);
      assert.equal(settings.server.initTimeoutMs, 7000);
      assert.equal(settings.server.subscribeWaitMs, 1500);
      assert.equal((node('conn').connection as unknown as { endpoint: { subscribeWaitMs: number } }).endpoint.subscribeWaitMs, 1500);
      assert.equal((await upgradeAnswer(port, '/', { Origin: 'https://evil.example.com' })).status, 403);
      const hmi = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`, { origin: 'https://hmi.example.com' }));
      await waitForStatus(node('in'), (status) => status.text === '1 client', '1 client');
      // A client that has spoken keeps its place (a silent one would give it up to a newcomer).
      hmi.init('HMI');
      hmi.send({ type: 'import_request', version: 2 });
      await hmi.waitFor((frame) => frame.type === 'import_answer', 'the answer to its import_request');
      assert.equal((await upgradeAnswer(port, '/')).status, 503);
    });

    it('initTimeout: absent means 10 s; a silent client is closed with 1008 "no init"; at maxClients a real client takes the place of a silent one', async function () {
      const port = await freePort();
      await load([TAB, connection({ port }), user('in', 'in')]);
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      assert.equal(node('conn').connection.settings.server.initTimeoutMs, 10000, 'a flow saved without initTimeout gets the default');
      assert.equal(node('conn').connection.settings.server.subscribeWaitMs, 500, 'a flow saved without subscribeWait gets the default');
      await unload();

      await load([TAB, connection({ port, initTimeout: 0.3 }), user('in', 'in')]);
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      const quiet = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
      assert.deepEqual(await within(quiet.closed, 'the silent client to be closed'), { code: 1008, reason: 'no init' });
      await waitForStatus(node('in'), (status) => status.text === 'listening: 0 clients', 'no client left');
      await unload();

      // initTimeout 0 (never): at maxClients the silent client still gives up its place to a real one.
      await load([TAB, connection({ port, maxClients: 1, initTimeout: 0, cycleMs: 0 }), user('in', 'in', {}, ['h']), helperNode('h')]);
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      const squatter = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
      await waitForStatus(node('in'), (status) => status.text === '1 client', 'the silent client holds the only place');
      const inbox = new Inbox('h');
      const twin = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
      await within(twin.connect(), 'the real client to get in');
      assert.equal((await within(squatter.closed, 'the silent client to give up its place')).code, 1008);
      twin.write('Arrived', true);
      assert.deepEqual((await inbox.next(1))[0].payload, { Arrived: true });
      const warnings = (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((c) => c.thisValue === node('conn')).map((c) => String(c.args[0]));
      assert.equal(warnings.filter((line) => /sent nothing/.test(line)).length, 1, `logged once for this address: ${JSON.stringify(warnings)}`);
    });

    it('rejects invalid values with a red status', async function () {
      await load([TAB, connection({ maxClients: -2 }), user('in', 'in')]);
      const red = await waitForStatus(node('in'), (status) => status.fill === 'red', 'red ring');
      assert.match(red.text ?? '', /maxClients/);
      await unload();
      await load([TAB, connection({ initTimeout: -1 }), user('in', 'in')]);
      assert.match((await waitForStatus(node('in'), (status) => status.fill === 'red', 'red ring')).text ?? '', /initTimeout/);
      await unload();
      await load([TAB, connection({ slowPeerTimeout: 'soon' }), user('in', 'in')]);
      assert.match((await waitForStatus(node('in'), (status) => status.fill === 'red', 'red ring')).text ?? '', /slowPeerTimeout/);
    });
  });

  describe('TLS with certificates made by openssl at test time', function () {
    let tls: TlsMaterial;
    before(function () {
      tls = makeTlsMaterial();
    });
    after(function () {
      tls?.remove();
    });

    function tlsNode(props: Record<string, string | boolean>): FlowNode {
      return { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, servername: '', alpnprotocol: '', ...props };
    }

    it('server mode serves wss:// with the tls-config certificate and key, also with a secret', async function () {
      const port = await freePort();
      await load(
        [TAB, tlsNode({ cert: tls.files.cert, key: tls.files.key }), connection({ port, cycleMs: 0, tls: 'tls' }), user('in', 'in', {}, ['h']), helperNode('h')],
        {},
        coreModules(['tls-config']),
        { conn: { secret: SECRET } },
      );
      await waitForStatus(node('in'), (status) => status.fill === 'green', 'listening');
      const inbox = new Inbox('h');
      const client = resources.add(new RealvirtualClient({ port, secret: SECRET, clientName: 'Secure', cycleMs: 0, autoReconnect: false, tls: { ca: tls.ca } }));
      await within(client.connect(), 'a wss:// client that trusts the CA');
      client.write('Secure', true);
      assert.deepEqual((await inbox.next(1))[0].payload, { Secure: true });
      const wrongCa = resources.add(new RealvirtualClient({ port, secret: SECRET, autoReconnect: false, tls: { ca: tls.otherCa } }));
      const failure = await wrongCa.connect().then(
        () => null,
        (error: Error & { cause?: Error & { code?: string } }) => error,
      );
      assert.equal(failure?.cause?.code, 'ERR_TLS');
    });

    it('client mode verifies the server against the tls-config CA; with the wrong CA: a red status with the reason, and never plain text', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, cycleMs: 0, tls: { cert: tls.cert, key: tls.key } }));
      await within(server.listen(), 'our wss:// test server to listen');
      await load(
        [TAB, tlsNode({ ca: tls.files.ca }), connection({ mode: 'client', port: server.port, cycleMs: 0, tls: 'tls' }), user('in', 'in', {}, ['h']), helperNode('h')],
        {},
        coreModules(['tls-config']),
      );
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'dot', 'connected over wss://');
      assert.match(node('conn').connection.url, /^wss:\/\//);

      await deploy(
        [TAB, tlsNode({ ca: tls.files.otherCa }), connection({ mode: 'client', port: server.port, cycleMs: 0, tls: 'tls', reconnectInterval: 0.05 }), user('in', 'in', {}, ['h']), helperNode('h')],
        'full',
      );
      const red = await waitForStatus(node('in'), (status) => status.fill === 'red', 'red ring with the TLS reason');
      assert.match(red.text ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
      assert.match(node('conn').connection.url, /^wss:\/\//, 'still wss://: no plain-text fallback');
      await new Promise((resolve) => setTimeout(resolve, 300)); // several retries
      assert.equal(server.status.clients, 0);
      const warnings = (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((c) => c.thisValue === node('conn')).map((c) => String(c.args[0]));
      assert.equal(warnings.filter((line) => /TLS/.test(line)).length, 1, `one warning while retrying: ${JSON.stringify(warnings)}`);
      assert.ok(statuses(node('in')).filter((status) => status.fill === 'red').length <= 2);
    });
  });

  describe('the edit dialog', function () {
    it('warns when a server binds 0.0.0.0 (or ::), not for 127.0.0.1 or in client mode', function () {
      const html = fs.readFileSync(path.join(nodesDir, 'realvirtual-connection.html'), 'utf8');
      const dialog = openDialog(html, { mode: 'server', host: '0.0.0.0' });
      assert.equal(dialog.shown('#rv-warning-all-interfaces'), true, 'server on 0.0.0.0');
      dialog.set('host', '127.0.0.1');
      assert.equal(dialog.shown('#rv-warning-all-interfaces'), false, 'server on 127.0.0.1');
      dialog.set('host', '::');
      assert.equal(dialog.shown('#rv-warning-all-interfaces'), true, 'server on ::');
      dialog.set('mode', 'client');
      assert.equal(dialog.shown('#rv-warning-all-interfaces'), false, 'client mode');
      assert.equal(dialog.shown('.rv-server-only'), false, 'server-only fields hidden in client mode');
      dialog.set('mode', 'server');
      assert.equal(dialog.shown('.rv-server-only'), true, 'server-only fields shown in server mode');
    });
  });
});

type Registration = { defaults: Record<string, unknown>; credentials?: Record<string, unknown>; oneditprepare: () => void };

/** The connection's editor registration, from its script blocks run with a stub RED (the later ones define the shared editor helpers). */
function editorRegistration(html: string, $: unknown = () => undefined): Registration {
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((match) => match[1]);
  assert.ok(scripts.length > 0);
  let registration: Registration | null = null;
  const RED = {
    nodes: { registerType: (_type: string, definition: Registration) => (registration = definition) },
    validators: { number: () => () => true, regex: () => () => true },
    _: (key: string) => key,
  };
  const context = vm.createContext({ RED, $, window: {} });
  for (const script of [...scripts.slice(1), scripts[0]]) vm.runInContext(script, context);
  assert.ok(registration);
  return JSON.parse(JSON.stringify(registration, (key, value) => (typeof value === 'function' && key !== 'oneditprepare' ? undefined : value))) as Registration;
}

/**
 * Runs the dialog's oneditprepare against a tiny stand-in for jQuery: inputs hold the
 * given values, `toggle` is recorded per selector and change handlers can be fired.
 */
function openDialog(html: string, values: Record<string, string>): { set(field: string, value: string): void; shown(selector: string): boolean | undefined } {
  const inputs: Record<string, string> = {};
  for (const key of Object.keys(values)) inputs[`#node-config-input-${key}`] = values[key];
  const shown: Record<string, boolean> = {};
  const handlers: Record<string, Array<() => void>> = {};
  const element = (selector: string): unknown => {
    const self: Record<string, unknown> = {};
    const chain = (): unknown => self;
    for (const method of [
      'attr',
      'css',
      'append',
      'appendTo',
      'text',
      'show',
      'hide',
      'empty',
      'addClass',
      'removeClass',
      'prop',
      'find',
      'each',
      'closest',
      'insertAfter',
      'data',
      'html',
      'typedInput',
      'autocomplete',
    ])
      self[method] = chain;
    self.val = (value?: string) => {
      if (value === undefined) return inputs[selector] ?? '';
      inputs[selector] = value;
      return self;
    };
    self.toggle = (state: boolean) => {
      shown[selector] = state;
      return self;
    };
    self.is = () => false;
    self.on = (events: string, handler: () => void) => {
      for (const event of events.split(' ')) (handlers[`${selector} ${event}`] ??= []).push(handler);
      return self;
    };
    self.editableList = () => self;
    return self;
  };
  const $ = Object.assign((selector: unknown) => element(String(selector)), { parseHTML: () => [] });
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((match) => match[1]);
  assert.ok(scripts.length > 0);
  let registration: Registration | null = null;
  const RED = {
    nodes: { registerType: (_type: string, definition: Registration) => (registration = definition), getType: () => registration },
    validators: { number: () => () => true, regex: () => () => true },
    _: (key: string) => key,
  };
  const context = vm.createContext({ RED, $, window: {} });
  for (const script of [...scripts.slice(1), scripts[0]]) vm.runInContext(script, context);
  assert.ok(registration);
  (registration as Registration).oneditprepare.call({ _def: registration, signals: [], mode: values.mode, host: values.host });
  return {
    set(field, value) {
      const selector = `#node-config-input-${field}`;
      inputs[selector] = value;
      for (const handler of [...(handlers[`${selector} change`] ?? []), ...(handlers[`${selector} input`] ?? [])]) handler();
    },
    shown: (selector) => shown[selector],
  };
}
