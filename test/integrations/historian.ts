/**
 * The checks of the historian examples (SQLite and PostgreSQL share the flow's shape and node
 * ids, rvex.<prefix>.*): the rows they write, read back from the database by the test, and the
 * replay of a session against the real realvirtual-sim.
 */
import assert from 'assert/strict';
import { RealvirtualClient } from '../../engine';
import { DEFAULT_SETTINGS } from '../../sim/scene';
import { Resources } from '../helpers/events';
import { FlowNode, Inbox, node, statuses, until, within } from '../nodes/harness';
import { delay, errorsIn, press } from './example-flow';

export interface Row {
  id: number;
  ts: number;
  session: string;
  direction: 'in' | 'out';
  signal: string;
  value: unknown;
}

/** Reads signal_log (value parsed from its JSON text), in the order of arrival (ts, then seq). */
export type ReadRows = () => Promise<Row[]>;

/** Each change of the conveyor, as a client of the simulator sees it: sent every tick, so one scene cycle apart at most. */
const CYCLE_MS = DEFAULT_SETTINGS.tickMs;
/** Timers and sockets of a loaded CI machine: a bound, not a measurement. */
const SCHEDULING_SLACK_MS = 300;

const sequence = (rows: Row[], signal: string): unknown[] => rows.filter((r) => r.signal === signal).map((r) => r.value);

async function rowsUntil(read: ReadRows, condition: (rows: Row[]) => boolean, what: string, timeoutMs = 8000): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await read();
    if (condition(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; rows: ${JSON.stringify(rows.slice(-20))}`);
    await delay(50);
  }
}

/**
 * Records land with the right values and times: the conveyor's changes are those an independent
 * client of the simulator saw, in the same order; each command and the conveyor's answer carry a
 * time between the click and the moment the test found them.
 */
export async function checkRecords(flow: FlowNode[], prefix: string, simPort: number, read: ReadRows, resources: Resources, loadedAt: number): Promise<void> {
  const id = (key: string): string => `rvex.${prefix}.${key}`;
  const observer = resources.add(new RealvirtualClient({ port: simPort, clientName: 'Observer', autoReconnect: false }));
  const seen: Array<[string, unknown]> = [];
  observer.on('data', (event) => {
    for (const [name, value] of Object.entries(event.values)) seen.push([name, value]);
  });
  await within(observer.connect(), 'an observing client to connect to the simulator');
  await rowsUntil(read, (rows) => sequence(rows, 'DrivePosition').length >= 3, 'DrivePosition rows while the belt runs');

  const clickedOff = Date.now();
  press(id('i1'));
  let rows = await rowsUntil(read, (r) => r.some((row) => row.signal === 'Status' && row.value === 'Stopped'), 'Status "Stopped" recorded');
  const foundOff = Date.now();
  const off = rows.find((r) => r.direction === 'out' && r.signal === 'MotorOn' && r.value === false);
  const stopped = rows.find((r) => r.signal === 'Status' && r.value === 'Stopped');
  assert.ok(off && stopped, JSON.stringify(rows.slice(-10)));
  assert.equal(stopped.direction, 'in');
  assert.ok(clickedOff <= off.ts && off.ts <= stopped.ts && stopped.ts <= foundOff, `click ${clickedOff} ≤ command ${off.ts} ≤ answer ${stopped.ts} ≤ found ${foundOff}`);

  const clickedOn = Date.now();
  press(id('i2'));
  rows = await rowsUntil(read, (r) => r.some((row) => row.signal === 'Status' && row.value === 'Running' && row.ts >= clickedOn), 'Status "Running" recorded again');
  const foundOn = Date.now();
  const running = rows.find((r) => r.signal === 'Status' && r.value === 'Running' && r.ts >= clickedOn) as Row;
  assert.ok(running.ts <= foundOn);
  // A few more ticks of the running belt, then the observer's view and the rows are compared.
  const count = sequence(rows, 'DrivePosition').length;
  rows = await rowsUntil(read, (r) => sequence(r, 'DrivePosition').length >= count + 3, 'DrivePosition rows after the restart');
  await observer.close();

  const readAt = Date.now();
  assert.ok(
    rows.every((r) => loadedAt <= r.ts && r.ts <= readAt),
    `every time between the deploy (${loadedAt}) and the last read (${readAt})`,
  );
  assert.equal(new Set(rows.map((r) => r.session)).size, 1, 'one session');
  const positions = sequence(rows, 'DrivePosition') as number[];
  assert.ok(
    positions.every((p, i) => i === 0 || p > positions[i - 1]),
    `every DrivePosition row is a change, growing: ${JSON.stringify(rows.map((r) => [r.id, r.ts, r.direction, r.signal, r.value]))}`,
  );
  const on = rows.find((r) => r.direction === 'out' && r.signal === 'MotorOn' && r.value === true) as Row;
  const whileStopped = rows.filter((r) => r.signal === 'DrivePosition' && stopped.ts < r.ts && r.ts < on.ts);
  assert.deepEqual(whileStopped, [], 'the belt stood still from "Stopped" until the motor was switched on again');

  // The observer's changes appear in the rows in the same order, with the same values.
  for (const signal of ['DrivePosition', 'Status', 'Sensor1']) {
    const observed = seen.filter(([name]) => name === signal).map(([, value]) => value);
    const recorded = sequence(
      rows.filter((r) => r.direction === 'in'),
      signal,
    );
    assert.ok(observed.length > 0 || signal === 'Sensor1', `the observer saw ${signal}`);
    assert.ok(holdsRun(recorded, observed), `${signal}: the observer saw ${JSON.stringify(observed)}, the rows hold ${JSON.stringify(recorded)}`);
  }
  assert.deepEqual(errorsIn(flow), []);
}

/** The query buttons: the last hour of DrivePosition and the changes per minute, against the rows. */
export async function checkQueries(flow: FlowNode[], prefix: string, read: ReadRows): Promise<void> {
  const id = (key: string): string => `rvex.${prefix}.${key}`;
  const results = new Inbox(id('d1'));
  press(id('i6'));
  const [perMinute] = await results.next(1, 0, 8000);
  const rows = await read();
  const counted = (perMinute.payload as Array<{ signal: string; changes: number | string }>).filter((r) => r.signal === 'MotorOn').reduce((sum, r) => sum + Number(r.changes), 0);
  assert.equal(counted, rows.filter((r) => r.signal === 'MotorOn').length, 'MotorOn changes per minute add up to its rows');
  const from = results.mark();
  press(id('i5'));
  const [lastHour] = await results.next(1, from, 8000);
  const positions = (lastHour.payload as Array<{ ts: number | string; value: string }>).map((r) => [Number(r.ts), JSON.parse(r.value)]);
  assert.ok(positions.length > 0, 'DrivePosition rows in the last hour');
  const now = Date.now();
  assert.ok(
    positions.every(([ts]) => ts > now - 3600 * 1000 && ts <= now),
    'all within the last hour',
  );
  assert.deepEqual(errorsIn(flow), []);
}

/**
 * A session of commands clicked at chosen gaps, replayed by "replay this session": the replayed
 * commands and the conveyor's answers (Status) follow each other at the recorded intervals,
 * within one scene cycle plus scheduling slack; "compare" lists both sessions' Status changes.
 */
export async function checkReplay(flow: FlowNode[], prefix: string, read: ReadRows): Promise<void> {
  const id = (key: string): string => `rvex.${prefix}.${key}`;
  await rowsUntil(read, (rows) => rows.some((r) => r.signal === 'Status'), 'the first rows');
  const clicks: Array<[string, number]> = [
    ['i1', 700],
    ['i2', 500],
    ['i3', 900],
    ['i4', 0],
  ]; // off, on, 0 mm/s, 400 mm/s
  for (const [inject, gap] of clicks) {
    press(id(inject));
    await delay(gap);
  }
  const recorded = (await rowsUntil(read, (rows) => statusSince(rows, firstCommand(rows)).length >= 4, 'four Status answers to the clicks'))[0].session;

  const replayer = node(id('f3'));
  press(id('i7'));
  const rows = await rowsUntil(
    read,
    (all) => {
      const replay = all.filter((r) => r.session !== recorded);
      return replay.filter((r) => r.direction === 'out').length === 4 && statusSince(replay, firstCommand(replay)).length >= 4;
    },
    "the replayed commands and the conveyor's answers",
  );
  await until(() => statuses(replayer).some((s) => s.text === 'replayed 4 commands'), 'the replay to finish');

  const original = rows.filter((r) => r.session === recorded);
  const replay = rows.filter((r) => r.session !== recorded);
  assert.match(replay[0].session, /^replay /);
  const commands = (session: Row[]): Row[] => session.filter((r) => r.direction === 'out');
  assert.deepEqual(
    commands(replay).map((r) => [r.signal, r.value]),
    commands(original).map((r) => [r.signal, r.value]),
    'the same commands in the same order',
  );
  const answers = (session: Row[]): Row[] => statusSince(session, firstCommand(session)).slice(0, 4);
  assert.deepEqual(
    answers(replay).map((r) => r.value),
    ['Stopped', 'Running', 'Stopped', 'Running'],
  );
  assert.deepEqual(
    answers(replay).map((r) => r.value),
    answers(original).map((r) => r.value),
    'the conveyor answered as recorded',
  );

  const tolerance = CYCLE_MS + SCHEDULING_SLACK_MS;
  for (const [what, pick] of [
    ['command', commands],
    ['Status answer', answers],
  ] as const) {
    const a = intervals(pick(original));
    const b = intervals(pick(replay));
    b.forEach((interval, i) => assert.ok(Math.abs(interval - a[i]) <= tolerance, `${what} interval ${i}: replayed ${interval} ms, recorded ${a[i]} ms (tolerance ${tolerance} ms)`));
  }

  const comparison = new Inbox(id('d2'));
  press(id('i9'));
  const [compared] = await comparison.next(1, 0, 8000);
  const table = compared.payload as Array<{ session: string; value: string; offset_ms: number | string }>;
  assert.deepEqual([...new Set(table.map((r) => r.session))], [recorded, replay[0].session], 'recorded session first, then the replay');
  for (const session of [recorded, replay[0].session]) {
    assert.deepEqual(
      table
        .filter((r) => r.session === session)
        .slice(0, 4)
        .map((r) => JSON.parse(r.value)),
      ['Stopped', 'Running', 'Stopped', 'Running'],
    );
  }
  assert.deepEqual(errorsIn(flow), []);
}

/**
 * Whether `observed` appears in `recorded` as one unbroken run; its last few values may be
 * missing (the observer closed after the last read, so they may not have been written yet).
 */
function holdsRun(recorded: unknown[], observed: unknown[], unwrittenAtEnd = 3): boolean {
  if (observed.length === 0) return true;
  for (let start = 0; start < recorded.length; start++) {
    const length = Math.min(observed.length, recorded.length - start);
    if (length < observed.length - unwrittenAtEnd) break;
    if (observed.slice(0, length).every((value, j) => recorded[start + j] === value)) return true;
  }
  return false;
}

function firstCommand(rows: Row[]): number {
  const first = rows.find((r) => r.direction === 'out');
  return first ? first.ts : Infinity;
}

function statusSince(rows: Row[], since: number): Row[] {
  return rows.filter((r) => r.signal === 'Status' && r.ts >= since);
}

function intervals(rows: Row[]): number[] {
  return rows.slice(1).map((r, i) => r.ts - rows[i].ts);
}
