/**
 * The `rename` table of realvirtual-in and realvirtual-out in a real Node-RED runtime,
 * against our engine as the realvirtual peer: exact lines and "*" patterns both ways,
 * names no line matches, every output mode, and a bad table stopping the node with a
 * coded error. Flows without the property behave as before (the other node tests).
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { RealvirtualClient } from '../../engine';
import { SignalRenames } from '../../nodes/lib/signal-renames';
import { repoRoot } from '../repo';
import { catchNode, connection, errorsOf, freePort, helperNode, Inbox, load, node, runtimeResources, statuses, TAB, until, user, waitForStatus, within } from './harness';

const RENAMES = ['DriveSpeed = ns=1;s=Speed', 'Sensor1=plc/coil/0', '', '*=rv/*'].join('\n');

describe('nodes: rename table of realvirtual-in and realvirtual-out', function () {
  const resources = runtimeResources();

  describe('the table', () => {
    it('maps exact lines and "*" patterns both ways; unmatched names keep their name', () => {
      const renames = SignalRenames.parse(RENAMES)!;
      assert.deepEqual(
        ['DriveSpeed', 'Sensor1', 'Counter', ''].map((name) => renames.toExternal(name)),
        ['ns=1;s=Speed', 'plc/coil/0', 'rv/Counter', ''],
      );
      assert.deepEqual(
        ['ns=1;s=Speed', 'plc/coil/0', 'rv/Counter', 'rv/', 'other/Counter'].map((name) => renames.toRealvirtual(name)),
        ['DriveSpeed', 'Sensor1', 'Counter', 'rv/', 'other/Counter'],
      );
      assert.equal(SignalRenames.parse(''), null);
      assert.equal(SignalRenames.parse(undefined), null);
      assert.equal(SignalRenames.parse(' \n \n'), null);
    });

    it('rejects a bad line with ERR_INVALID_OPTION naming the line', () => {
      const bad: Array<[unknown, RegExp]> = [
        ['DriveSpeed', /line 1 .*realvirtualName=externalName/],
        ['A=B\n=C', /line 2 .*missing/],
        ['A=', /missing/],
        ['*=rv/*/*', /one "\*" on each side/],
        ['A*=rv', /one "\*" on each side/],
        ['A=x\nA=y', /A is renamed twice/],
        ['A=x\nB=x', /two signals are renamed to x/],
        ['*=rv/*\n*=rv/*', /already in the table/],
        [42, /must be text/],
      ];
      for (const [text, message] of bad) {
        assert.throws(
          () => SignalRenames.parse(text),
          (error: Error & { code?: string }) => error.code === 'ERR_INVALID_OPTION' && message.test(error.message),
          JSON.stringify(text),
        );
      }
    });
  });

  it("the editor's validation (renameProblem in realvirtual-connection.html) accepts and rejects what the runtime does", () => {
    const html = fs.readFileSync(path.join(repoRoot(), 'nodes', 'realvirtual-connection.html'), 'utf8');
    const source = /function renameProblem\(text\) \{[\s\S]*?\n {4}\}\n/.exec(html);
    assert.ok(source, 'realvirtual-connection.html defines renameProblem');
    const renameProblem = new Function(`${source[0]}; return renameProblem;`)() as (text: unknown) => string | null;
    const tables = [RENAMES, '', undefined, 'DriveSpeed', 'A=B\n=C', 'A=', '*=rv/*/*', 'A*=rv', 'A=x\nA=y', 'A=x\nB=x', '*=rv/*\n*=rv/*', '*=ns=1;s=*', ' A = B \r\n\nC=D'];
    for (const text of tables) {
      let runtimeAccepts = true;
      try {
        SignalRenames.parse(text);
      } catch {
        runtimeAccepts = false;
      }
      assert.equal(renameProblem(text) === null, runtimeAccepts, JSON.stringify(text));
    }
  });

  async function serverFlow(extra: Array<ReturnType<typeof user>>): Promise<number> {
    const port = await freePort();
    await load([TAB, connection({ port, cycleMs: 0 }), ...extra]);
    for (const n of extra.filter((n) => n.type.startsWith('realvirtual-'))) {
      await waitForStatus(node(n.id), (status) => status.fill === 'green', 'green (listening)');
    }
    return port;
  }

  it('realvirtual-in sends the external names: msg.topic per signal, the keys of changes and state', async function () {
    const port = await serverFlow([
      user('in', 'perSignal', { output: 'signal', rename: RENAMES }, ['h1']),
      user('in', 'changes', { output: 'changes', rename: RENAMES }, ['h2']),
      user('in', 'state', { output: 'state', signals: 'DriveSpeed,Sensor1', rename: RENAMES }, ['h3']),
      user('in', 'plain', { output: 'signal' }, ['h4']),
      helperNode('h1'),
      helperNode('h2'),
      helperNode('h3'),
      helperNode('h4'),
    ]);
    const [perSignal, changes, state, plain] = ['h1', 'h2', 'h3', 'h4'].map((id) => new Inbox(id));
    const twin = resources.add(
      new RealvirtualClient({
        port,
        clientName: 'Twin',
        cycleMs: 0,
        autoReconnect: false,
        signals: [
          { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 100 },
          { name: 'Sensor1', type: 'Bool', direction: 'write', value: false },
          { name: 'Counter', type: 'Int', direction: 'write', value: 0 },
        ],
      }),
    );
    await within(twin.connect(), 'the twin to connect');
    await perSignal.next(3);
    assert.deepEqual(
      perSignal.messages.map((m) => [m.topic, m.payload]),
      [
        ['ns=1;s=Speed', 100],
        ['plc/coil/0', false],
        ['rv/Counter', 0],
      ],
    );
    assert.deepEqual((await changes.next(1))[0].payload, { 'ns=1;s=Speed': 100, 'plc/coil/0': false, 'rv/Counter': 0 });
    assert.deepEqual((await state.next(1))[0].payload, { 'ns=1;s=Speed': 100, 'plc/coil/0': false });
    // Without the property nothing is renamed.
    assert.deepEqual(
      (await plain.next(3)).map((m) => m.topic),
      ['DriveSpeed', 'Sensor1', 'Counter'],
    );

    twin.write('Sensor1', true);
    const from = changes.mark();
    await until(() => changes.messages.length > from, 'the change');
    assert.deepEqual(changes.messages[from].payload, { 'plc/coil/0': true });
    assert.deepEqual((await perSignal.find((m) => m.topic === 'plc/coil/0' && m.payload === true, 'Sensor1 = true as plc/coil/0')).payload, true);
  });

  it('realvirtual-out takes external names in msg.topic and in payload keys; the Signal property stays a realvirtual name', async function () {
    const port = await serverFlow([user('out', 'out', { rename: RENAMES, signal: 'MotorOn' }), catchNode('catch', 'h-catch'), helperNode('h-catch')]);
    const caught = new Inbox('h-catch');
    const twin = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
    await within(twin.connect(), 'the twin to connect');
    node('out').receive({ topic: 'ns=1;s=Speed', payload: 150.5 });
    node('out').receive({ payload: { 'plc/coil/0': true, 'rv/Counter': 7, Untouched: 'x' } });
    node('out').receive({ payload: true });
    await until(
      () => twin.values().MotorOn === true,
      () => `every value at the twin (got ${JSON.stringify(twin.values())})`,
    );
    assert.deepEqual(twin.values(), { DriveSpeed: 150.5, Sensor1: true, Counter: 7, Untouched: 'x', MotorOn: true });
    assert.deepEqual(caught.messages, []);
  });

  it('a bad table stops the node with a red status and an ERR_INVALID_OPTION error; other nodes run', async function () {
    const port = await freePort();
    await load([TAB, connection({ port, cycleMs: 0 }), user('in', 'badIn', { rename: 'DriveSpeed' }), user('out', 'badOut', { rename: '*=x' }), user('out', 'good', { rename: '*=rv/*' })]);
    await waitForStatus(node('good'), (status) => status.fill === 'green', 'green (listening)');
    for (const id of ['badIn', 'badOut']) {
      assert.ok(
        statuses(node(id)).some((status) => status.fill === 'red' && /rename line 1/.test(status.text ?? '')),
        JSON.stringify(statuses(node(id))),
      );
      assert.equal(errorsOf(node(id)).length, 1);
      assert.ok(!statuses(node(id)).some((status) => status.fill === 'green'), 'a node with a bad table does not use the connection');
    }
    const twin = resources.add(new RealvirtualClient({ port, clientName: 'Twin', cycleMs: 0, autoReconnect: false }));
    await within(twin.connect(), 'the twin to connect');
    node('badOut').receive({ topic: 'A', payload: 1 });
    node('good').receive({ topic: 'rv/B', payload: 2 });
    await until(() => twin.values().B === 2, 'B from the good node');
    assert.equal(twin.values().A, undefined);
  });
});
