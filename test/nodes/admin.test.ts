/**
 * The edit dialog's admin routes: Test connection and Import signals with the dialog's
 * (undeployed) settings, and the signal picker's catalog of a deployed connection.
 */
import assert from 'assert/strict';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { DIAL_TIMEOUT_MS, DIAL_TIMEOUT_SETTING, dialTimeoutMs } from '../../nodes/lib/admin';
import { freePort, SilentServer } from '../helpers/events';
import { connection, helper, HttpAnswer, load, node, TAB, runtimeResources, user, waitForStatus, within } from './harness';

async function post(path: string, body: unknown): Promise<HttpAnswer> {
  const response = await within(Promise.resolve(helper.request().post(path).send(body)), `POST ${path}`, 10000);
  return { status: response.status, body: response.body };
}

async function get(path: string): Promise<HttpAnswer> {
  const response = await within(Promise.resolve(helper.request().get(path)), `GET ${path}`, 10000);
  return { status: response.status, body: response.body };
}

describe('nodes: admin routes of the edit dialog', function () {
  this.timeout(20000);
  const resources = runtimeResources();

  /** A flow with nothing realvirtual deployed, so that the routes exist but only the dialog's settings count. */
  const loadEmpty = (): Promise<void> => load([TAB, user('out', 'unused', { connection: 'missing' })]);

  describe('client mode, with the dialog settings', function () {
    it('Test connection reports success against a live server and a clear failure against a closed port', async function () {
      const server = resources.add(new RealvirtualServer({ port: 0 }));
      await server.listen();
      await loadEmpty();
      const good = await post('/realvirtual/test', { settings: { mode: 'client', host: '127.0.0.1', port: server.port } });
      assert.equal(good.status, 200);
      assert.equal(good.body.ok, true, JSON.stringify(good.body));
      assert.match(good.body.message, new RegExp(`connected to ws://127\\.0\\.0\\.1:${server.port}/`));

      const closedPort = await freePort();
      const bad = await post('/realvirtual/test', { settings: { mode: 'client', host: '127.0.0.1', port: closedPort } });
      assert.equal(bad.status, 200);
      assert.equal(bad.body.ok, false);
      assert.equal(bad.body.code, 'ERR_CONNECTION');
      assert.match(bad.body.message, /connection refused/);
    });

    it('Import signals returns the server catalog with directions inverted, without deploying anything', async function () {
      const server = resources.add(
        new RealvirtualServer({
          port: 0,
          signals: [
            { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 },
            { name: 'Start', type: 'Bool', direction: 'read' },
          ],
        }),
      );
      await server.listen();
      await loadEmpty();
      const answer = await post('/realvirtual/import', { settings: { mode: 'client', host: '127.0.0.1', port: server.port, clientName: 'Editor' } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const signals = answer.body.answers[0].signals as Array<Record<string, unknown>>;
      const byName = new Map(signals.map((signal) => [signal.name, signal]));
      assert.deepEqual(byName.get('Speed'), { name: 'Speed', remoteType: 'PLCOutputFloat', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 1.5 });
      assert.deepEqual(byName.get('Start'), { name: 'Start', remoteType: 'PLCInputBool', localType: 'PLCOutputBool', valueType: 'Bool', direction: 'write', value: false });
      assert.equal(server.clients.length, 0, 'the dialog client disconnected again');
    });

    it('times out cleanly against a server that never completes the handshake', async function () {
      const silent = resources.add(await SilentServer.start('hang'));
      await load([TAB, user('out', 'unused', { connection: 'missing' })], { [DIAL_TIMEOUT_SETTING]: 0.3 });
      const answer = await post('/realvirtual/test', { settings: { mode: 'client', host: '127.0.0.1', port: silent.port } });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.ok, false);
      assert.equal(answer.body.code, 'ERR_HANDSHAKE_TIMEOUT');
    });

    it(`the dial timeout is ${DIAL_TIMEOUT_MS / 1000} s unless the Node-RED setting ${DIAL_TIMEOUT_SETTING} gives positive seconds`, function () {
      assert.equal(dialTimeoutMs({}), DIAL_TIMEOUT_MS);
      assert.equal(dialTimeoutMs({ [DIAL_TIMEOUT_SETTING]: 0.3 }), 300);
      assert.equal(dialTimeoutMs({ [DIAL_TIMEOUT_SETTING]: 10 }), 10000);
      for (const invalid of [0, -1, '2', NaN, Infinity, null]) assert.equal(dialTimeoutMs({ [DIAL_TIMEOUT_SETTING]: invalid }), DIAL_TIMEOUT_MS, String(invalid));
    });

    it('rejects invalid settings with 400 and a message naming the property', async function () {
      await loadEmpty();
      const answer = await post('/realvirtual/test', { settings: { mode: 'client', port: 'abc' } });
      assert.equal(answer.status, 400);
      assert.match(answer.body.message, /port/);
    });
  });

  describe('server mode, with the deployed connection', function () {
    it('Test connection shows the listening server and its clients; Import signals asks every client; the catalog lists what it knows', async function () {
      const port = await freePort();
      await load([TAB, connection({ mode: 'server', port, signals: [{ name: 'Speed', type: 'Float', direction: 'write', value: 0 }] }), user('out', 'out')]);
      await waitForStatus(node('out'), (status) => status.fill === 'green', 'listening');
      const settings = { mode: 'server', host: '127.0.0.1', port };

      const empty = await post('/realvirtual/import', { id: 'conn', settings });
      assert.equal(empty.status, 409);
      assert.match(empty.body.message, /[Nn]o client/);

      const client = resources.add(new RealvirtualClient({ port, clientName: 'Twin', signals: [{ name: 'Sensor', type: 'Bool', direction: 'write', value: true }] }));
      await within(client.connect(), 'the client to connect');
      await waitForStatus(node('out'), (status) => status.text === '1 client', 'one client');

      const test = await post('/realvirtual/test', { id: 'conn', settings });
      assert.equal(test.body.ok, true);
      assert.equal(test.body.clients, 1);

      const imported = await post('/realvirtual/import', { id: 'conn', settings });
      assert.equal(imported.status, 200, JSON.stringify(imported.body));
      assert.equal(imported.body.answers.length, 1);
      assert.deepEqual(imported.body.answers[0].peer, { id: 'client-1', name: 'Twin' });
      const sensor = (imported.body.answers[0].signals as Array<Record<string, unknown>>).find((signal) => signal.name === 'Sensor');
      assert.deepEqual(sensor, { name: 'Sensor', remoteType: 'PLCOutputBool', localType: 'PLCInputBool', valueType: 'Bool', direction: 'read', value: true });

      const catalog = await get('/realvirtual/catalog/conn');
      assert.equal(catalog.status, 200);
      const names = (catalog.body.signals as Array<{ name: string; direction: string }>).map((signal) => `${signal.name}:${signal.direction}`);
      assert.ok(names.includes('Speed:write'), names.join());
    });

    it('Test connection of an undeployed server says whether its port is free', async function () {
      const busy = resources.add(new RealvirtualServer({ port: 0 }));
      await busy.listen();
      await loadEmpty();
      const taken = await post('/realvirtual/test', { settings: { mode: 'server', host: '127.0.0.1', port: busy.port } });
      assert.equal(taken.body.ok, false);
      assert.equal(taken.body.code, 'EADDRINUSE');
      const free = await post('/realvirtual/test', { settings: { mode: 'server', host: '127.0.0.1', port: await freePort() } });
      assert.equal(free.body.ok, true);
      assert.match(free.body.message, /free/);
    });

    it('the catalog of a connection that is not deployed is 404', async function () {
      await loadEmpty();
      const answer = await get('/realvirtual/catalog/nothing-here');
      assert.equal(answer.status, 404);
    });
  });
});
