/**
 * The signal-table limits as connection properties in a real Node-RED: a write from a
 * flow beyond them reaches a Catch node with its code while the rest of the msg goes out,
 * a flow saved without the properties gets the defaults, and an invalid one is refused.
 */
import assert from 'assert/strict';
import { RealvirtualClient } from '../../engine';
import { readConnectionSettings } from '../../nodes/lib/connection-settings';
import { catchNode, connection, freePort, helperNode, Inbox, load, node, TAB, runtimeResources, until, user, waitForStatus, within } from './harness';

describe('nodes: signal-table limits of realvirtual-connection', function () {
  const resources = runtimeResources();

  async function flow(props: Record<string, unknown>): Promise<{ port: number; received: Record<string, unknown> }> {
    const port = await freePort();
    await load([TAB, connection({ port, cycleMs: 0, ...props }), user('out', 'out'), catchNode('catch', 'h-catch'), helperNode('h-catch')]);
    await waitForStatus(node('out'), (status) => status.fill === 'green', 'green (listening)');
    const client = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
    const received: Record<string, unknown> = {};
    client.on('data', (event) => Object.assign(received, event.values));
    await within(client.connect(), 'the client to connect');
    return { port, received };
  }

  it('maxTextBytes and maxNameLength set on the connection: realvirtual-out fails through done(err) with the code, the valid values go out', async function () {
    const { received } = await flow({ maxTextBytes: '100', maxNameLength: 20 });
    const caught = new Inbox('h-catch');
    node('out').receive({ payload: { Note: 'x'.repeat(101), Good: 1 } });
    const [first] = await caught.next(1);
    assert.equal(first.error.code, 'ERR_VALUE_TOO_LARGE');
    assert.match(first.error.message, /"Note".*maxTextBytes \(100\)/);
    node('out').receive({ payload: { ['N'.repeat(21)]: 1, Fine: 'ok' } });
    const [second] = await caught.next(1, 1);
    assert.equal(second.error.code, 'ERR_NAME_TOO_LONG');
    await until(() => received.Good === 1 && received.Fine === 'ok', 'the valid values at the client');
    assert.equal(received.Note, undefined);
  });

  it('a flow saved without the properties gets the defaults: a 64 KiB text fits, one byte more is ERR_VALUE_TOO_LARGE', async function () {
    const { received } = await flow({});
    const caught = new Inbox('h-catch');
    node('out').receive({ payload: { Fits: 'f'.repeat(65536) } });
    node('out').receive({ payload: { TooBig: 't'.repeat(65537) } });
    const [error] = await caught.next(1);
    assert.equal(error.error.code, 'ERR_VALUE_TOO_LARGE');
    await until(() => typeof received.Fits === 'string', 'the 64 KiB text at the client');
    assert.equal(caught.messages.length, 1);
  });

  it('readConnectionSettings: absent or "" means the default, a bad value names the property', function () {
    const settings = readConnectionSettings({ maxTextBytes: '', maxTableBytes: '1048576' });
    assert.equal(settings.server.maxTextBytes, 65536);
    assert.equal(settings.server.maxNameLength, 256);
    assert.equal(settings.server.maxClientName, 256);
    assert.equal(settings.server.maxTableBytes, 1048576);
    assert.equal(settings.client.maxTableBytes, 1048576);
    assert.throws(() => readConnectionSettings({ maxNameLength: 0 }), /maxNameLength must be a whole number >= 1/);
    assert.throws(() => readConnectionSettings({ maxTextBytes: 'lots' }), /maxTextBytes/);
  });
});
