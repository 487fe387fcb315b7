/**
 * The signal monitor's runtime side in a real Node-RED, against a real peer over
 * 127.0.0.1: an editor's watch (over the admin routes) gets its full view, then over
 * comms only what changed, at most once per tick; values are set and held from the
 * editor as realvirtual-out would write them; nothing is followed while nobody watches.
 */
import assert from 'assert/strict';
import { RealvirtualServer } from '../../engine';
import { MinVRServer } from '../../engine/minvr/server';
import { Connection } from '../../nodes/lib/connection';
import { allows } from '../../nodes/lib/monitor/permissions';
import { TICK_MS } from '../../nodes/lib/monitor/monitor';
import { connection, helper, HttpAnswer, load, node, runtimeResources, TAB, until, user, waitForStatus, within } from './harness';

async function post(path: string, body: unknown): Promise<HttpAnswer> {
  const response = await within(Promise.resolve(helper.request().post(path).send(body)), `POST ${path}`, 10000);
  return { status: response.status, body: response.body };
}

interface Frame {
  watch: string;
  seq: number;
  now: number;
  total?: number;
  header?: { mode: string; state: string; peers: Array<{ name: string; address: string; since: number }> };
  rows?: Array<[number, string, string, string, unknown, number, string, number | null, number]>;
}

/** Every frame the runtime publishes for one watch, as Node-RED's comms hands them to editors. */
class FrameLog {
  readonly frames: Frame[] = [];
  private readonly listener = (event: { topic: string; data: Frame }): void => {
    if (event.topic === `realvirtual/monitor/${this.watch}`) this.frames.push(event.data);
  };
  constructor(private readonly watch: string) {
    helper._events.on('comms', this.listener);
  }
  stop(): void {
    helper._events.removeListener('comms', this.listener);
  }
  rowsNamed(name: string, from = 0): Array<NonNullable<Frame['rows']>[number]> {
    return this.frames.slice(from).flatMap((frame) => (frame.rows ?? []).filter((row) => row[1] === name));
  }
}

describe('nodes: the signal monitor (runtime side)', function () {
  this.timeout(20000);
  const resources = runtimeResources();
  let peer: RealvirtualServer;
  const watches: string[] = [];

  afterEach(async function () {
    for (const watch of watches.splice(0)) await post('/realvirtual/monitor/unwatch', { watch });
  });

  async function start(): Promise<Connection> {
    peer = resources.add(
      new RealvirtualServer({
        port: 0,
        cycleMs: 0,
        signals: [
          { name: 'Position', type: 'Float', direction: 'write', value: 1.5 },
          { name: 'Sensor', type: 'Bool', direction: 'write', value: false },
          { name: 'DriveSpeed', type: 'Float', direction: 'read', value: 0 },
          { name: 'Label', type: 'Text', direction: 'read', value: '' },
        ],
      }),
    );
    await peer.listen();
    await load([
      TAB,
      connection({
        mode: 'client',
        host: '127.0.0.1',
        port: peer.port,
        clientName: 'NodeRED',
        cycleMs: 0,
        signals: [
          { name: 'DriveSpeed', type: 'Float', direction: 'write', value: '' },
          { name: 'Label', type: 'Text', direction: 'write', value: '' },
        ],
      }),
      user('in', 'in1', {}),
      user('out', 'out1', { signal: 'DriveSpeed' }),
    ]);
    await waitForStatus(node('in1'), (status) => status.fill === 'green', 'connected');
    const conn = (node('conn') as unknown as { connection: Connection }).connection;
    await until(() => conn.engine?.table.get('Position')?.value === 1.5, 'the first snapshot from the peer');
    return conn;
  }

  async function watch(query: Record<string, unknown> = {}): Promise<Frame> {
    const answer = await post('/realvirtual/monitor/watch', { connection: 'conn', offset: 0, limit: 50, ...query });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    watches.push(answer.body.watch);
    return answer.body;
  }

  it('follows nothing while nobody watches, and only while an editor watches', async function () {
    const conn = await start();
    const endpoint = conn.engine!;
    const idle = { data: endpoint.listenerCount('data'), writes: conn.writeObservers.size };
    const first = await watch();
    assert.equal(endpoint.listenerCount('data'), idle.data + 1, 'one data listener while watched');
    assert.equal(conn.writeObservers.size, idle.writes + 1, 'one write observer while watched');
    await post('/realvirtual/monitor/unwatch', { watch: first.watch });
    assert.equal(endpoint.listenerCount('data'), idle.data, 'no data listener once nobody watches');
    assert.equal(conn.writeObservers.size, idle.writes, 'no write observer once nobody watches');
    const renewed = await post('/realvirtual/monitor/watch', { watch: first.watch, renew: true });
    assert.deepEqual(renewed.body, { ok: false }, 'an ended watch is not renewed (nor a new one started)');
    assert.equal(endpoint.listenerCount('data'), idle.data);
  });

  it('sends the full view on watch, then only changed rows, one frame per tick at most', async function () {
    await start();
    const first = await watch();
    assert.equal(first.total, 4);
    assert.deepEqual(
      first.rows!.map((row) => [row[1], row[2], row[3], row[4]]),
      [
        ['DriveSpeed', 'Float', 'write', 0],
        ['Label', 'Text', 'write', ''],
        ['Position', 'Float', 'read', 1.5],
        ['Sensor', 'Bool', 'read', false],
      ],
    );
    assert.equal(first.header!.mode, 'client');
    assert.equal(first.header!.state, 'connected');
    assert.equal(first.header!.peers.length, 1);
    const log = new FrameLog(first.watch);
    try {
      // A burst of 200 values within a few ticks: the editor gets the last one, in few frames.
      for (let i = 1; i <= 200; i++) peer.write('Position', i);
      await until(() => log.rowsNamed('Position').some((row) => row[4] === 200), 'Position 200 in a frame');
      const positions = log.rowsNamed('Position');
      assert.ok(positions.length < 200, `not every value is sent: ${positions.length} rows for 200 values`);
      const row = positions[positions.length - 1];
      assert.ok(row[5] > 0, 'the time of the change');
      assert.equal(row[6], first.header!.peers[0].name, 'changed by the peer');
      for (const frame of log.frames) assert.ok(!(frame.rows ?? []).some((r) => r[1] === 'Sensor' || r[1] === 'Label'), 'unchanged rows are not sent again');
      for (let i = 1; i < log.frames.length; i++) {
        assert.equal(log.frames[i].seq, log.frames[i - 1].seq + 1);
        assert.ok(log.frames[i].now - log.frames[i - 1].now >= TICK_MS - 5, `frames at least a tick apart: ${log.frames[i].now - log.frames[i - 1].now} ms`);
      }
      // Changes per second are measured for the rows in view.
      await until(() => log.rowsNamed('Position').some((r) => typeof r[7] === 'number' && r[7] > 0), 'a measured rate of Position', 5000);
    } finally {
      log.stop();
    }
  });

  it('filters by direction, search, names and recent changes', async function () {
    await start();
    assert.deepEqual(
      (await watch({ direction: 'read' })).rows!.map((r) => r[1]),
      ['Position', 'Sensor'],
    );
    assert.deepEqual(
      (await watch({ search: 'drive' })).rows!.map((r) => r[1]),
      ['DriveSpeed'],
    );
    assert.deepEqual(
      (await watch({ names: ['Sensor', 'Label'] })).rows!.map((r) => r[1]),
      ['Label', 'Sensor'],
    );
    const recent = await watch({ recentMs: 60000 });
    assert.equal(recent.total, 0, 'nothing changed since watching began');
    const log = new FrameLog(recent.watch);
    try {
      peer.write('Sensor', true);
      await until(() => log.frames.some((frame) => frame.total === 1 && (frame.rows ?? []).some((r) => r[1] === 'Sensor' && r[4] === true)), 'Sensor listed as changed recently');
    } finally {
      log.stop();
    }
    const bad = await post('/realvirtual/monitor/watch', { connection: 'conn', direction: 'sideways' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'ERR_INVALID_FIELD');
    const tooMany = await post('/realvirtual/monitor/watch', { connection: 'conn', limit: 100000 });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.code, 'ERR_INVALID_FIELD');
  });

  it('sees every change of rows out of view, every new and every removed signal, each by who made it', async function () {
    const conn = await start();
    // A window of 2 rows of those changed recently: no row is in view at first, so only the tick sees changes.
    const recent = await watch({ recentMs: 60000, limit: 2 });
    assert.equal(recent.total, 0);
    const recentLog = new FrameLog(recent.watch);
    let extraLog: FrameLog | null = null;
    try {
      const peerName = recent.header!.peers[0].name;
      peer.write('Sensor', true);
      node('out1').receive({ payload: 7 });
      await until(() => recentLog.frames.some((frame) => frame.total === 2), 'two rows changed recently');
      const drive = recentLog.rowsNamed('DriveSpeed').pop()!;
      assert.deepEqual([drive[4], drive[6]], [7, 'flow'], 'a flow write, seen by the tick');
      const sensor = recentLog.rowsNamed('Sensor').pop()!;
      assert.deepEqual([sensor[4], sensor[6]], [true, peerName], 'a peer value, seen by the tick');
      // Sensor is now out of the window (DriveSpeed, Position), and changes again.
      peer.write('Position', 2.5);
      await until(() => recentLog.frames.some((frame) => frame.total === 3), 'three rows changed recently');
      const seen = recentLog.frames.length;
      peer.write('Sensor', false);
      await until(() => conn.engine!.table.get('Sensor')?.value === false, 'Sensor false in the table');
      const view = await watch({ search: 'sensor', limit: 1 });
      assert.deepEqual([view.rows![0][4], view.rows![0][6]], [false, peerName], 'the change out of view');
      assert.ok(!recentLog.frames.slice(seen).some((frame) => (frame.rows ?? []).some((row) => row[1] === 'Sensor')), 'not sent to the view without it');
      peer.write('Extra', 'new');
      await until(() => conn.engine!.table.has('Extra'), 'the new signal in the table');
      const extra = await watch({ search: 'extra', limit: 1 });
      assert.deepEqual([extra.rows![0][1], extra.rows![0][2], extra.rows![0][4], extra.rows![0][5]], ['Extra', 'Text', 'new', 0], 'a new row, with no change yet (as the rows of a watch that begins)');
      extraLog = new FrameLog(extra.watch);
      assert.equal(conn.engine!.table.remove('Extra'), true);
      await until(() => extraLog!.frames.some((frame) => frame.total === 0), 'its row gone');
      assert.equal((await watch({ limit: 50 })).total, 4);
    } finally {
      recentLog.stop();
      extraLog?.stop();
    }
  });

  it('sets a signal we write as realvirtual-out would, names the editor user, and refuses what cannot be set', async function () {
    await start();
    const first = await watch();
    const log = new FrameLog(first.watch);
    try {
      const answer = await post('/realvirtual/monitor/write', { connection: 'conn', name: 'DriveSpeed', value: 432 });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      await until(() => peer.values('read').DriveSpeed === 432, 'the peer receiving DriveSpeed 432');
      await until(() => log.rowsNamed('DriveSpeed').some((row) => row[4] === 432 && row[6] === 'editor:anonymous'), 'DriveSpeed marked as set from the editor');
      const logged = (node('conn').log as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls().map((call) => String(call.args[0]));
      assert.ok(
        logged.some((line) => /editor:anonymous set DriveSpeed = 432/.test(line)),
        `logged with the user's name: ${logged.join(' | ')}`,
      );
    } finally {
      log.stop();
    }
    const refusals: Array<[unknown, number, string]> = [
      [{ connection: 'conn', name: 'Position', value: 1 }, 400, 'ERR_DIRECTION'],
      [{ connection: 'conn', name: 'Nope', value: 1 }, 404, 'ERR_UNKNOWN_SIGNAL'],
      [{ connection: 'nope', name: 'DriveSpeed', value: 1 }, 404, 'ERR_UNKNOWN_CONNECTION'],
      [{ connection: 'conn', name: 'DriveSpeed', value: 'fast' }, 400, 'ERR_TYPE_MISMATCH'],
      [{ connection: 'conn', name: 'DriveSpeed' }, 400, 'ERR_INVALID_FIELD'],
      [{ connection: 'conn', name: 'DriveSpeed', value: 1, hold: 'yes' }, 400, 'ERR_INVALID_FIELD'],
    ];
    for (const [body, status, code] of refusals) {
      const answer = await post('/realvirtual/monitor/write', body);
      assert.equal(answer.status, status, JSON.stringify([body, answer.body]));
      assert.equal(answer.body.code, code, JSON.stringify([body, answer.body]));
    }
    assert.equal(peer.values('read').DriveSpeed, 432, 'no refused write changed the value');
  });

  it('holds a value against the flow until released', async function () {
    await start();
    const first = await watch();
    const held = await post('/realvirtual/monitor/write', { connection: 'conn', name: 'DriveSpeed', value: 5, hold: true });
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.equal(held.body.held, true);
    const log = new FrameLog(first.watch);
    try {
      await until(() => log.rowsNamed('DriveSpeed').some((row) => row[8] === 1 && row[4] === 5), 'DriveSpeed shown as held');
    } finally {
      log.stop();
    }
    node('out1').receive({ payload: 7 });
    node('out1').receive({ payload: 8 });
    await until(() => peer.values('read').DriveSpeed === 5, 'the peer keeps the held value');
    assert.equal((node('conn') as unknown as { connection: Connection }).connection.engine!.table.get('DriveSpeed')!.value, 5, 'the held value stays in the table');
    // The hold outlives the editor's watch.
    await post('/realvirtual/monitor/unwatch', { watch: first.watch });
    node('out1').receive({ payload: 9 });
    assert.equal((node('conn') as unknown as { connection: Connection }).connection.engine!.table.get('DriveSpeed')!.value, 5);
    const released = await post('/realvirtual/monitor/release', { connection: 'conn', name: 'DriveSpeed' });
    assert.equal(released.body.released, true);
    node('out1').receive({ payload: 7 });
    await until(() => peer.values('read').DriveSpeed === 7, 'the flow sets the value again once released');
  });

  it('serves a window of 10,000 signals: each view gets only its rows, wherever it scrolls', async function () {
    peer = resources.add(
      new RealvirtualServer({
        port: 0,
        cycleMs: 10,
        signals: Array.from({ length: 10000 }, (_, i) => ({ name: `S${String(i).padStart(5, '0')}`, type: 'Int' as const, direction: 'write' as const, value: i })),
      }),
    );
    await peer.listen();
    await load([TAB, connection({ mode: 'client', host: '127.0.0.1', port: peer.port, cycleMs: 10 }), user('in', 'in1', {})]);
    const conn = (node('conn') as unknown as { connection: Connection }).connection;
    await until(() => conn.engine?.table.size === 10000, 'the 10,000 signals');
    const bottom = await watch({ offset: 9960, limit: 60 });
    assert.equal(bottom.total, 10000);
    assert.equal(bottom.rows!.length, 40, 'only the rows from the offset to the end');
    assert.deepEqual([bottom.rows![0][0], bottom.rows![0][1]], [9960, 'S09960']);
    assert.deepEqual([bottom.rows![39][0], bottom.rows![39][1], bottom.rows![39][4]], [9999, 'S09999', 9999]);
    const log = new FrameLog(bottom.watch);
    try {
      // Every signal changes: the watcher is sent its 40 rows, never the other 9,960.
      const all: Record<string, number> = {};
      for (let i = 0; i < 10000; i++) all[`S${String(i).padStart(5, '0')}`] = i + 1;
      peer.writeMany(all);
      await until(() => log.rowsNamed('S09999').some((row) => row[4] === 10000), 'S09999 updated');
      const sent = new Set(log.frames.flatMap((frame) => (frame.rows ?? []).map((row) => row[1])));
      assert.ok(
        [...sent].every((name) => name >= 'S09960'),
        'only rows of the window',
      );
    } finally {
      log.stop();
    }
  });

  it('shows the last MinVR3 event per name with its type and data', async function () {
    const server = resources.add(new MinVRServer({ port: 0 }));
    await within(server.listen(), 'the MinVR3 server');
    await load([
      TAB,
      { id: 'vr', type: 'minvr-connection', mode: 'client', port: server.port, reconnectInterval: 0.2 },
      { id: 'vin', z: 'f1', type: 'minvr-in', x: 0, y: 0, connection: 'vr', wires: [[]] },
    ]);
    await until(() => server.status.clients === 1, 'the minvr-connection to connect');
    const first = await post('/realvirtual/monitor/watch', { connection: 'vr', offset: 0, limit: 50 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    watches.push(first.body.watch);
    assert.equal(first.body.header.kind, 'minvr');
    const log = new FrameLog(first.body.watch);
    try {
      server.send({ name: 'Head/Position', type: 'Vector3', data: { x: 1, y: 1.7, z: -3.25 } });
      server.send({ name: 'Head/Position', type: 'Vector3', data: { x: 2, y: 1.7, z: -3.25 } });
      server.send({ name: 'Trigger', type: 'Single', data: 0.5 });
      await until(
        () =>
          log.rowsNamed('Head/Position').some((row) => row[2] === 'Vector3' && row[4] === '{"x":2,"y":1.7,"z":-3.25}') &&
          log.rowsNamed('Trigger').some((row) => row[2] === 'Single' && row[4] === '0.5'),
        'the last event of each name',
      );
    } finally {
      log.stop();
    }
  });

  it('checks permissions as Node-RED does', function () {
    assert.equal(allows('*', 'realvirtual.write'), true);
    assert.equal(allows('read', 'realvirtual.read'), true);
    assert.equal(allows('read', 'realvirtual.write'), false);
    assert.equal(allows(['realvirtual.read', 'flows.read'], 'realvirtual.read'), true);
    assert.equal(allows(['realvirtual.read'], 'realvirtual.write'), false);
    assert.equal(allows(undefined, 'realvirtual.read'), false);
  });
});
