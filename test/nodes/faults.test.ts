/**
 * Faults as a Node-RED user sees them: one red status and one log line per state change
 * while retrying (not one per attempt), maxReconnectAttempts honoured with a red "gave
 * up" status, and Node-RED shutting down within 1 s whatever the connection is doing,
 * leaving no socket or timer behind.
 */
import assert from 'assert/strict';
import net from 'net';
import { RealvirtualServer } from '../../engine';
import { SilentServer, silentClient } from '../helpers/events';
import { handleCounts } from '../helpers/faults';
import { connection, errorsOf, FlowNode, freePort, load, node, RedNode, statuses, TAB, runtimeResources, unload, until, user, waitForStatus } from './harness';

function warningsOf(target: RedNode): string[] {
  return (target.warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((call) => call.thisValue === target).map((call) => String(call.args[0]));
}

/** Sockets, servers and timers open now (mocha's own test timer included, so compare like with like). */
function openHandles(): { sockets: number; servers: number; timers: number } {
  const counts = handleCounts();
  return { sockets: counts.TCPSocketWrap ?? 0, servers: counts.TCPServerWrap ?? 0, timers: counts.Timeout ?? 0 };
}

describe('nodes: faults', function () {
  const resources = runtimeResources();

  it('client mode, server down: over many attempts one red status and one warning; when it comes up, green and one info line', async function () {
    const port = await freePort();
    await load([TAB, connection({ mode: 'client', port, reconnectInterval: 0.01 }), user('in', 'in'), user('out', 'out')]);
    const endpoint = (node('conn').connection as any).endpoint;
    await until(
      () => endpoint.lifecycle.status.attempts >= 6,
      () => `6 failed attempts (got ${endpoint.lifecycle.status.attempts})`,
      10000,
    );
    const red = statuses(node('in')).filter((status) => status.fill === 'red');
    assert.deepEqual(red, [{ fill: 'red', shape: 'ring', text: 'disconnected: ECONNREFUSED' }]);
    const warnings = warningsOf(node('conn'));
    assert.equal(warnings.length, 1, `one warning: ${JSON.stringify(warnings)}`);
    assert.match(warnings[0], /connection refused.*ECONNREFUSED.*retrying/);
    assert.deepEqual(errorsOf(node('conn')), []);

    const server = resources.add(new RealvirtualServer({ port }));
    await server.listen();
    await waitForStatus(node('in'), (status) => status.fill === 'green', 'green once the server is up', 0, 10000);
    assert.equal(warningsOf(node('conn')).length, 1);
  });

  it('client mode, maxReconnectAttempts 2: exactly three attempts, then a red "gave up" status and one error line', async function () {
    const reset = resources.add(await SilentServer.start('reset'));
    await load([TAB, connection({ mode: 'client', port: reset.port, reconnectInterval: 0.01, maxReconnectAttempts: 2 }), user('in', 'in')]);
    const gaveUp = await waitForStatus(node('in'), (status) => status.fill === 'red' && /gave up/.test(status.text ?? ''), 'red "gave up"');
    assert.match(gaveUp.text ?? '', /^gave up after 2 reconnect attempts/);
    await new Promise((resolve) => setTimeout(resolve, 200)); // many retry intervals: no further attempt
    assert.equal(reset.connections, 3);
    const errors = errorsOf(node('conn'));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /gave up after 2 reconnect attempts/);
    assert.equal(statuses(node('in')).slice(-1)[0].text, gaveUp.text, 'it stays red');
  });

  it('server mode, busy port, maxReconnectAttempts 2: three listen attempts, then a red "gave up" status', async function () {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    resources.add({ close: () => new Promise<void>((resolve) => blocker.close(() => resolve())) });
    await load([TAB, connection({ port, reconnectInterval: 0.02, maxReconnectAttempts: 2 }), user('in', 'in')]);
    const gaveUp = await waitForStatus(node('in'), (status) => status.fill === 'red' && /gave up/.test(status.text ?? ''), 'red "gave up"');
    assert.match(gaveUp.text ?? '', /^gave up after 2 listen retries/);
    const errors = errorsOf(node('conn'));
    assert.equal(errors.length, 2, `the busy port once, giving up once: ${JSON.stringify(errors)}`);
    assert.match(errors[0], /EADDRINUSE|in use/);
    assert.match(errors[1], /gave up after 2 listen retries/);
  });

  it('server mode, busy port, autoReconnect off: one error line and a red status with the reason; the port is not tried again', async function () {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    let blocking = true;
    resources.add({ close: () => (blocking ? new Promise<void>((resolve) => blocker.close(() => resolve())) : undefined) });
    await load([TAB, connection({ port, autoReconnect: false, reconnectInterval: 0.01 }), user('in', 'in')]);
    const red = await waitForStatus(node('in'), (status) => status.fill === 'red', 'red');
    assert.match(red.text ?? '', /^cannot listen on 127\.0\.0\.1:\d+: address already in use/);
    const endpoint = (node('conn').connection as any).endpoint;
    assert.equal(endpoint.status.state, 'failed');
    assert.equal(endpoint.status.error.code, 'ERR_LISTEN');
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    blocking = false;
    await new Promise((resolve) => setTimeout(resolve, 100)); // many retry intervals: no further attempt
    assert.equal(endpoint.status.state, 'failed');
    const errors = errorsOf(node('conn'));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /EADDRINUSE|in use/);
  });

  describe('Node-RED shutting down closes within 1 s and leaves nothing open', function () {
    const cases: Array<[string, () => Promise<FlowNode[]>]> = [
      ['client mode while reconnecting (a 60 s retry pending)', async () => [TAB, connection({ mode: 'client', port: await freePort(), reconnectInterval: 60 }), user('in', 'in')]],
      [
        'client mode during a handshake that never completes',
        async () => {
          const hang = resources.add(await SilentServer.start('hang'));
          return [TAB, connection({ mode: 'client', port: hang.port }), user('in', 'in')];
        },
      ],
      [
        'client mode connected to a server that ignores the close handshake',
        async () => {
          const silent = resources.add(await SilentServer.start('upgrade'));
          return [TAB, connection({ mode: 'client', port: silent.port }), user('in', 'in')];
        },
      ],
      [
        'server mode retrying a busy port',
        async () => {
          const port = await freePort();
          const blocker = net.createServer();
          await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
          resources.add({ close: () => new Promise<void>((resolve) => blocker.close(() => resolve())) });
          return [TAB, connection({ port, reconnectInterval: 60 }), user('in', 'in')];
        },
      ],
      ['server mode with a client that ignores the close handshake', async () => [TAB, connection({ port: await freePort() }), user('in', 'in')]],
    ];
    for (const [what, setUp] of cases) {
      it(what, async function () {
        await new Promise((resolve) => setImmediate(resolve)); // mocha's own test timer is set by now
        const before = openHandles();
        const flow = await setUp();
        await load(flow);
        const conn = node('conn');
        const inNode = node('in');
        if (/server mode with a client/.test(what)) {
          await waitForStatus(inNode, (status) => status.fill === 'green', 'listening');
          const socket = await silentClient(conn.connection.settings.server.port);
          resources.add({ close: () => socket.destroy() });
          await waitForStatus(inNode, (status) => status.text === '1 client', 'the silent client connected');
        } else if (/busy port|reconnecting/.test(what)) {
          await waitForStatus(inNode, (status) => status.fill === 'red', 'red (retrying)');
        } else if (/ignores the close/.test(what)) {
          await waitForStatus(inNode, (status) => status.fill === 'green', 'connected');
        } else {
          await new Promise((resolve) => setTimeout(resolve, 50)); // the handshake is pending
        }
        const started = Date.now();
        await unload();
        const took = Date.now() - started;
        assert.ok(took < 1000, `Node-RED took ${took} ms to stop`);
        // Nothing of ours is left: with the test's own peers closed, sockets, servers and timers are back to what they were.
        await resources.closeAll();
        await until(
          () => {
            const now = openHandles();
            return now.sockets <= before.sockets && now.servers <= before.servers && now.timers <= before.timers;
          },
          () => `handles back to ${JSON.stringify(before)} (now ${JSON.stringify(openHandles())})`,
          2000,
        );
      });
    }
  });
});
