/**
 * realvirtual-config: reads and writes the server's configuration (client mode), and
 * in server mode the connection's own configuration: answered to clients, merged from
 * their config_set and from input msgs, applied, and persisted in the user directory.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { configFileName } from '../../nodes/lib/config-store';
import { RawServer, Resources } from '../helpers/events';
import {
  catchNode,
  completeNode,
  connection,
  coreModules,
  deploy,
  FlowNode,
  freePort,
  clientNames,
  helperNode,
  Inbox,
  load,
  node,
  removeDir,
  TAB,
  tempDir,
  unload,
  until,
  user,
  waitForStatus,
  within,
} from './harness';

function configFlow(props: Record<string, unknown>): FlowNode[] {
  return [
    TAB,
    connection(props),
    user('config', 'config', {}, ['h']),
    catchNode('catch', 'h-catch'),
    completeNode('done', ['config'], 'h-done'),
    helperNode('h'),
    helperNode('h-catch'),
    helperNode('h-done'),
  ];
}

describe('nodes: realvirtual-config', function () {
  const resources = new Resources();
  let userDir: string | null = null;

  afterEach(async function () {
    await unload();
    await resources.closeAll();
    removeDir(userDir);
    userDir = null;
  });

  describe('client mode', function () {
    it('an empty payload (undefined, null, "", {}) sends config_get and outputs the config; an object sends config_set and outputs {success, message}', async function () {
      const raw = resources.add(await RawServer.start());
      await load(configFlow({ mode: 'client', port: raw.port }));
      const server = await raw.connection(0);
      server.on('frame', (frame: { type: string; config?: unknown }) => {
        if (frame.type === 'config_get') server.send({ type: 'config_answer', version: 2, config: { publishIntervalMs: 5, logLevel: 'info' } });
        if (frame.type === 'config_set') server.send({ type: 'config_result', version: 2, success: true, message: `stored ${Object.keys(frame.config as object).join(',')}` });
      });
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'connected');
      const inbox = new Inbox('h');
      const completed = new Inbox('h-done');

      const empties = [undefined, null, '', {}];
      for (let i = 0; i < empties.length; i++) {
        node('config').receive({ payload: empties[i], topic: `read ${i}` });
        const [msg] = await inbox.next(1, i);
        assert.deepEqual(msg.payload, { publishIntervalMs: 5, logLevel: 'info' }, `payload ${JSON.stringify(empties[i])}`);
        assert.equal(msg.topic, `read ${i}`, 'the input msg is passed on');
      }
      assert.equal(server.ofType('config_get').length, 4);
      assert.equal(server.ofType('config_set').length, 0);

      node('config').receive({ payload: { publishIntervalMs: 20, logLevel: 'debug' } });
      const [result] = await inbox.next(1, 4);
      assert.deepEqual(result.payload, { success: true, message: 'stored publishIntervalMs,logLevel' });
      const [set] = server.ofType('config_set');
      assert.deepEqual(set.config, { publishIntervalMs: 20, logLevel: 'debug' });
      await completed.next(5);
    });

    it('against our engine as server: config_set is applied there; a payload that is neither empty nor an object fails through done(err)', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0, cycleMs: 20, config: { color: 'blue' } }));
      await within(server.listen(), 'our test server to listen');
      await load(configFlow({ mode: 'client', port: server.port }));
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'connected');
      const inbox = new Inbox('h');
      const caught = new Inbox('h-catch');
      node('config').receive({});
      assert.deepEqual((await inbox.next(1))[0].payload, { color: 'blue', publishIntervalMs: 20 });
      node('config').receive({ payload: { publishIntervalMs: 50, color: 'red' } });
      assert.deepEqual((await inbox.next(1, 1))[0].payload, { success: true, message: 'Configuration saved and applied' });
      assert.equal(server.cycleMs, 50);
      assert.deepEqual(server.config, { color: 'red', publishIntervalMs: 50 });

      for (const payload of [42, 'text', [1], true]) node('config').receive({ payload });
      const errors = await caught.next(4);
      for (const error of errors) assert.match(error.error.message, /msg\.payload must be empty/);
      assert.equal(inbox.messages.length, 2);
    });
  });

  describe('server mode', function () {
    const file = (dir: string) => path.join(dir, 'realvirtual', configFileName('conn'));
    const flushed = () => within((node('conn').connection as any).store.flush(), 'the configuration to be stored');

    async function serverConfigFlow(port: number, cycleMs: number): Promise<void> {
      await load(configFlow({ port, cycleMs }), { userDir });
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'listening');
    }

    async function remote(port: number, name = 'Remote'): Promise<RealvirtualClient> {
      const client = resources.add(new RealvirtualClient({ port, clientName: name, autoReconnect: false }));
      await within(client.connect(), `${name} to connect`);
      return client;
    }

    const cycleOf = () => (node('conn').connection as any).endpoint.cycleMs as number;

    it("answers config_get with its config (publishIntervalMs = cycleMs); merges, applies, persists and emits a client's config_set; merges input objects", async function () {
      userDir = tempDir();
      const port = await freePort();
      await serverConfigFlow(port, 25);
      const inbox = new Inbox('h');
      const client = await remote(port);
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 25 });
      node('config').receive({});
      assert.deepEqual((await inbox.next(1))[0].payload, { publishIntervalMs: 25 });
      assert.ok(!fs.existsSync(file(userDir)), 'nothing stored before a change');

      // A client's config_set: answered, merged, applied to the cycle, stored, emitted.
      const result = await within(client.setConfig({ publishIntervalMs: 40, color: 'red' }), 'config_result');
      assert.equal(result.success, true);
      const [emitted] = await inbox.next(1, 1);
      assert.deepEqual(emitted.payload, { publishIntervalMs: 40, color: 'red' });
      assert.equal(emitted.rv.type, 'config_set');
      assert.equal(emitted.rv.peer.name, 'Remote');
      assert.match(emitted.rv.peer.id, /^client-\d+$/);
      assert.equal(cycleOf(), 40, 'publishIntervalMs changed the cycle');
      await flushed();
      const stored = JSON.parse(fs.readFileSync(file(userDir), 'utf8'));
      assert.deepEqual(stored.config, { publishIntervalMs: 40, color: 'red' });
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 40, color: 'red' });

      // An input object merges into it the same way (and is answered with the whole config).
      node('config').receive({ payload: { extra: 1 } });
      const [merged] = await inbox.next(1, 2);
      assert.deepEqual(merged.payload, { publishIntervalMs: 40, color: 'red', extra: 1 });
      await flushed();
      assert.deepEqual(JSON.parse(fs.readFileSync(file(userDir), 'utf8')).config, { publishIntervalMs: 40, color: 'red', extra: 1 });
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 40, color: 'red', extra: 1 });

      // An invalid publishIntervalMs is refused, from a client and from a msg; nothing is merged.
      const refused = await within(client.setConfig({ publishIntervalMs: -1, other: true }), 'config_result');
      assert.equal(refused.success, false);
      assert.match(refused.message, /publishIntervalMs/);
      const caught = new Inbox('h-catch');
      node('config').receive({ payload: { publishIntervalMs: 'fast' } });
      assert.match((await caught.next(1))[0].error.message, /publishIntervalMs/);
      assert.equal(cycleOf(), 40);
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 40, color: 'red', extra: 1 });
    });

    it('a remote publishIntervalMs stays in force across restarts until a different cycleMs is deployed', async function () {
      userDir = tempDir();
      const port = await freePort();
      await serverConfigFlow(port, 25);
      let client = await remote(port);
      await within(client.setConfig({ publishIntervalMs: 40, color: 'red' }), 'config_result');
      await client.close();

      // Restart (stop and start the runtime's flows) with the same settings.
      await unload();
      await serverConfigFlow(port, 25);
      assert.equal(cycleOf(), 40);
      client = await remote(port);
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 40, color: 'red' });
      await client.close();

      // A full redeploy with the same cycleMs keeps it too.
      await deploy(configFlow({ port, cycleMs: 25, name: 'renamed' }), 'full');
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'listening');
      assert.equal(cycleOf(), 40);

      // Deploying a different cycleMs overrides the remote value; other keys stay.
      await deploy(configFlow({ port, cycleMs: 30 }), 'full');
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'listening');
      assert.equal(cycleOf(), 30);
      client = await remote(port);
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 30, color: 'red' });
      await client.close();

      // ...for good: going back to the first cycleMs does not bring the old remote value back.
      await unload();
      await serverConfigFlow(port, 25);
      assert.equal(cycleOf(), 25);
      client = await remote(port);
      assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 25, color: 'red' });
    });

    it('forgets the stored configuration when the connection is removed from the flows', async function () {
      userDir = tempDir();
      const port = await freePort();
      await serverConfigFlow(port, 25);
      const client = await remote(port);
      await within(client.setConfig({ color: 'blue' }), 'config_result');
      await client.close();
      await flushed();
      assert.ok(fs.existsSync(file(userDir)), 'the configuration was stored');
      await deploy([TAB, helperNode('h')], 'full');
      assert.equal(fs.existsSync(file(userDir)), false, 'the removed connection left its stored configuration behind');
    });

    it('merges the object a Function node builds (an object of another realm)', async function () {
      const port = await freePort();
      const func = { id: 'func', z: 'f1', type: 'function', x: 0, y: 0, func: "msg.payload = { color: 'green' }; return msg;", outputs: 1, noerr: 0, wires: [['config']] };
      await load([...configFlow({ port, cycleMs: 10 }), func], {}, coreModules(['function']));
      await waitForStatus(node('config'), (status) => status.fill === 'green', 'listening');
      const inbox = new Inbox('h');
      const caught = new Inbox('h-catch');
      node('func').receive({ payload: 'go' });
      const [msg] = await inbox.next(1).catch((error: Error) => {
        throw new Error(`${error.message}; caught: ${caught.describe()}`);
      });
      assert.deepEqual(msg.payload, { publishIntervalMs: 10, color: 'green' });
    });

    it("a config node emits every client's config_set, naming the client", async function () {
      const port = await freePort();
      await serverConfigFlow(port, 10);
      const inbox = new Inbox('h');
      const one = await remote(port, 'One');
      const two = await remote(port, 'Two');
      await until(() => clientNames('conn').join() === 'One,Two', 'both clients named');
      await within(one.setConfig({ a: 1 }), 'config_result for One');
      await within(two.setConfig({ b: 2 }), 'config_result for Two');
      const [first, second] = await inbox.next(2);
      assert.deepEqual([first.rv.peer.name, first.payload], ['One', { publishIntervalMs: 10, a: 1 }]);
      assert.deepEqual([second.rv.peer.name, second.payload], ['Two', { publishIntervalMs: 10, a: 1, b: 2 }]);
    });
  });
});
