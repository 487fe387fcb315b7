/**
 * realvirtual-import: asks the server (client mode) or every client (server mode) for
 * its catalog, one msg per answer; "declare" puts the signals in the connection's
 * table; a peer that never answers within the node's timeout fails through done(err).
 */
import assert from 'assert/strict';
import { DEFAULTS, ImportedSignal, RealvirtualClient, RealvirtualServer } from '../../engine';
import { IMPORT_DEFAULTS, readImportTimeoutMs } from '../../nodes/lib/import-settings';
import { RawClient } from '../helpers/events';
import { usePythonPeers } from '../interop/python';
import { catchNode, clientNames, completeNode, connection, errorsOf, freePort, helperNode, Inbox, load, node, TAB, runtimeResources, until, user, waitForStatus, within } from './harness';

const byName = (signals: ImportedSignal[]): ImportedSignal[] => [...signals].sort((a, b) => a.name.localeCompare(b.name));

/** A flow with an import node wired to h, a catch node wired to h-catch and a complete node (for the import) wired to h-done. */
function importFlow(props: Record<string, unknown>, declare = false, importProps: Record<string, unknown> = {}) {
  return [
    TAB,
    connection({ cycleMs: 0, ...props }),
    user('import', 'import', { declare, ...importProps }, ['h']),
    user('out', 'out'),
    catchNode('catch', 'h-catch'),
    completeNode('done', ['import'], 'h-done'),
    helperNode('h'),
    helperNode('h-catch'),
    helperNode('h-done'),
  ];
}

describe('nodes: realvirtual-import', function () {
  const resources = runtimeResources();

  describe('client mode', function () {
    it('any input asks the server; payload = {peer, signals:[{name, remoteType, localType, valueType, direction, value}]}', async function () {
      const server = resources.add(
        new RealvirtualServer({
          port: 0,
          signals: [
            { name: 'Sensor', type: 'Bool', direction: 'write', value: true },
            { name: 'Target', type: 'Int', direction: 'read', value: 3 },
            { name: 'Label', type: 'Text', direction: 'write', value: 'hello' },
          ],
        }),
      );
      await within(server.listen(), 'our test server to listen');
      await load(importFlow({ mode: 'client', port: server.port }));
      await waitForStatus(node('import'), (status) => status.fill === 'green', 'connected');
      const inbox = new Inbox('h');
      const completed = new Inbox('h-done');
      node('import').receive({ payload: 'go', topic: 'mine', keep: 42 });
      const [msg] = await inbox.next(1);
      assert.deepEqual(msg.payload.peer, { id: 'server', name: `127.0.0.1:${server.port}` });
      assert.deepEqual(Object.keys(msg.payload).sort(), ['peer', 'signals']);
      assert.deepEqual(byName(msg.payload.signals), [
        { name: 'Label', remoteType: 'PLCOutputText', localType: 'PLCInputText', valueType: 'Text', direction: 'read', value: 'hello' },
        { name: 'Sensor', remoteType: 'PLCOutputBool', localType: 'PLCInputBool', valueType: 'Bool', direction: 'read', value: true },
        { name: 'Target', remoteType: 'PLCInputInt', localType: 'PLCOutputInt', valueType: 'Int', direction: 'write', value: 3 },
      ]);
      assert.equal(msg.rv.peer.id, 'server');
      assert.equal(msg.topic, 'mine', 'the input msg is passed on');
      assert.equal(msg.keep, 42);
      await completed.next(1);
      // Any input, also an empty one.
      node('import').receive({});
      await inbox.next(1, 1);
    });

    it('with "declare", the imported signals are added to the connection: types are enforced and a declared write signal is sent', async function () {
      const server = resources.add(
        new RealvirtualServer({
          port: 0,
          cycleMs: 0,
          signals: [
            { name: 'Target', type: 'Int', direction: 'read', value: 0 },
            { name: 'Sensor', type: 'Bool', direction: 'write', value: true },
          ],
        }),
      );
      await within(server.listen(), 'our test server to listen');
      const received: Array<Record<string, unknown>> = [];
      server.on('data', (event) => received.push(event.values));
      await load(importFlow({ mode: 'client', port: server.port }, true));
      await waitForStatus(node('import'), (status) => status.fill === 'green', 'connected');
      const inbox = new Inbox('h');
      const caught = new Inbox('h-catch');
      node('import').receive({});
      await inbox.next(1);

      // Target is now our Int write signal: its imported value goes to the server...
      await until(
        () => received.some((values) => values.Target === 0),
        () => `Target = 0 at the server (got ${JSON.stringify(received)})`,
      );
      // ...numeric text is converted to Int, other text is refused.
      node('out').receive({ topic: 'Target', payload: '42' });
      await until(
        () => server.values('read').Target === 42,
        () => `Target = 42 at the server (got ${JSON.stringify(received)})`,
      );
      node('out').receive({ topic: 'Target', payload: 'forty-two' });
      const [error] = await caught.next(1);
      assert.match(error.error.message, /"Target" is Int/);
      // Sensor is now a signal we read: writing it is refused.
      node('out').receive({ topic: 'Sensor', payload: false });
      const [refused] = await caught.next(1, 1);
      assert.match(refused.error.message, /"Sensor" is declared "read"/);
    });
  });

  describe('server mode', function () {
    it("asks every connected client and sends one msg per answer; a client that never answers import_request fails through done(err) after the node's timeout", async function () {
      const port = await freePort();
      // A short timeout: the two answering clients are on 127.0.0.1 and answer within it.
      await load(importFlow({ port }, false, { timeout: 1 }));
      await waitForStatus(node('import'), (status) => status.fill === 'green', 'listening');
      const one = resources.add(new RealvirtualClient({ port, clientName: 'One', autoReconnect: false, signals: [{ name: 'Speed', type: 'Float', direction: 'write', value: 1.5 }] }));
      const two = resources.add(new RealvirtualClient({ port, clientName: 'Two', autoReconnect: false, signals: [{ name: 'Start', type: 'Bool', direction: 'read' }] }));
      await within(Promise.all([one.connect(), two.connect()]), 'both clients to connect');
      await waitForStatus(node('import'), (status) => status.text === '2 clients', '"2 clients"');
      // Their init frames name them before we ask.
      await until(() => clientNames('conn').join() === 'One,Two', 'both clients named');

      const inbox = new Inbox('h');
      const completed = new Inbox('h-done');
      node('import').receive({ payload: 'go' });
      const answers = (await inbox.next(2)).sort((a, b) => a.payload.peer.name.localeCompare(b.payload.peer.name));
      assert.equal(answers[0].payload.peer.name, 'One');
      assert.match(answers[0].payload.peer.id, /^client-\d+$/);
      assert.deepEqual(answers[0].rv.peer, answers[0].payload.peer);
      assert.deepEqual(answers[0].payload.signals, [{ name: 'Speed', remoteType: 'PLCOutputFloat', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 1.5 }]);
      assert.equal(answers[1].payload.peer.name, 'Two');
      assert.deepEqual(answers[1].payload.signals, [{ name: 'Start', remoteType: 'PLCInputBool', localType: 'PLCOutputBool', valueType: 'Bool', direction: 'write', value: false }]);
      await completed.next(1);

      // A third client that never answers: the two answers still come, then the error.
      const silent = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/`));
      silent.init('Silent');
      await until(() => clientNames('conn').includes('Silent'), 'the silent client named');
      const caught = new Inbox('h-catch');
      const from = inbox.mark();
      node('import').receive({ payload: 'again' });
      await silent.waitFor((frame) => frame.type === 'import_request', 'import_request at the silent client');
      const again = await inbox.next(2, from);
      assert.deepEqual(again.map((msg) => msg.payload.peer.name).sort(), ['One', 'Two']);
      const [error] = await caught.next(1);
      assert.match(error.error.message, /no import_answer from Silent within 1000 ms/);
      assert.equal(error.error.code, 'ERR_TIMEOUT');
      assert.equal(error.error.source.id, 'import');
      assert.equal(error.payload, 'again', 'the Catch node gets the input msg');
      assert.equal(completed.messages.length, 1, 'done() without error for the failed import');
      await waitForStatus(node('import'), (status) => status.fill === 'red' && /Silent/.test(status.text ?? ''), 'red status naming the silent client');
    });

    it('a timeout that is not a number of seconds above 0: an error at deploy, and each input fails with ERR_INVALID_OPTION', async function () {
      const port = await freePort();
      const bad = ['soon', -1, 0];
      const imports = bad.map((timeout, index) => user('import', `bad${index}`, { timeout }, ['h']));
      await load([TAB, connection({ port }), ...imports, catchNode('catch', 'h-catch'), helperNode('h'), helperNode('h-catch')]);
      const caught = new Inbox('h-catch');
      for (const [index, timeout] of bad.entries()) {
        const id = `bad${index}`;
        assert.match(errorsOf(node(id)).join('\n'), /timeout must be a number of seconds above 0/, `${id}: the error at deploy`);
        node(id).receive({ payload: 'go' });
        const [error] = await caught.next(1, index);
        assert.equal(error.error.source.id, id);
        assert.equal(error.error.code, 'ERR_INVALID_OPTION', `timeout ${JSON.stringify(timeout)}`);
        assert.match(error.error.message, new RegExp(`got ${JSON.stringify(timeout)}`));
        assert.equal(error.payload, 'go', 'the Catch node gets the input msg');
        await waitForStatus(node(id), (status) => status.fill === 'red' && /timeout/.test(status.text ?? ''), 'red status naming the timeout');
      }
    });

    it('with no client connected: done(err) saying so', async function () {
      const port = await freePort();
      await load(importFlow({ port }));
      await waitForStatus(node('import'), (status) => status.fill === 'green', 'listening');
      const caught = new Inbox('h-catch');
      node('import').receive({});
      const [error] = await caught.next(1);
      assert.match(error.error.message, /No client is connected/);
    });
  });

  describe('timeout property', function () {
    it('absent or "" (flows saved before it existed) is the default of 5 s; numeric text is read; seconds become ms', function () {
      assert.equal(IMPORT_DEFAULTS.timeout * 1000, DEFAULTS.requestTimeoutMs);
      assert.equal(readImportTimeoutMs(undefined), 5000);
      assert.equal(readImportTimeoutMs(''), 5000);
      assert.equal(readImportTimeoutMs('2.5'), 2500);
      assert.equal(readImportTimeoutMs(0.0001), 1, 'at least 1 ms');
      for (const bad of ['x', 0, -1, Infinity, 1e9]) assert.throws(() => readImportTimeoutMs(bad), { code: 'ERR_INVALID_OPTION' });
    });
  });

  describe('with the reference Python server', function () {
    const startPython = usePythonPeers();

    it('client mode: returns its catalog, directions inverted to our side', async function () {
      this.timeout(30000);
      const port = await freePort();
      const py = startPython('server', port);
      await py.waitForLine(/^WebSocket server running on /, 8000);
      await load(importFlow({ mode: 'client', port }, true));
      await waitForStatus(node('import'), (status) => status.fill === 'green', 'connected', 0, 8000);
      const inbox = new Inbox('h');
      node('import').receive({});
      const [msg] = await inbox.next(1, 0, 8000).catch((error: Error) => {
        throw new Error(`${error.message}\npython server output:\n${py.transcript()}`);
      });
      assert.deepEqual(msg.payload.peer, { id: 'server', name: `127.0.0.1:${port}` });
      assert.deepEqual(byName(msg.payload.signals), [
        { name: 'PLC_Counter', remoteType: 'PLCOutputInt', localType: 'PLCInputInt', valueType: 'Int', direction: 'read', value: 0 },
        { name: 'PLC_Running', remoteType: 'PLCOutputBool', localType: 'PLCInputBool', valueType: 'Bool', direction: 'read', value: true },
        { name: 'PLC_Speed', remoteType: 'PLCOutputFloat', localType: 'PLCInputFloat', valueType: 'Float', direction: 'read', value: 0 },
      ]);
      // Declared: PLC_Speed is a Float we read, so writing it is refused.
      const caught = new Inbox('h-catch');
      node('out').receive({ topic: 'PLC_Speed', payload: 1 });
      const [error] = await caught.next(1);
      assert.match(error.error.message, /"PLC_Speed" is declared "read"/);
    });
  });
});
