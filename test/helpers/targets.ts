/**
 * The endpoint under attack, in either role, with a raw peer that sends it whatever a
 * test likes, a bystander that must not notice, and the checks that must hold after
 * every bad frame: no exception escaped, the signal table is valid, nothing polluted.
 */
import assert from 'assert/strict';
import { Endpoint, RealvirtualClient, RealvirtualError, RealvirtualServer, SignalDeclaration, SignalRecord } from '../../engine';
import { INT_MAX, INT_MIN } from '../../engine/realvirtual/values';
import { FrameLog, nextEvent, RawClient, RawServer, Resources, until, WAIT_MS } from './events';
import { catchUncaught, RecordingLogger } from './faults';

/** Our declared signals: two we read (the peer may change them), two we write (it may not). */
export const DECLARED: SignalDeclaration[] = [
  { name: 'Flag', type: 'Bool', direction: 'read' },
  { name: 'Level', type: 'Int', direction: 'read' },
  { name: 'Speed', type: 'Float', direction: 'write', value: 1.5 },
  { name: 'Label', type: 'Text', direction: 'write', value: 'ours' },
  // The counter settle() sends before its request (declared, so that it fits even in a full table).
  { name: 'Barrier', type: 'Int', direction: 'read' },
];

export interface Target {
  role: 'server' | 'client';
  endpoint: RealvirtualServer | RealvirtualClient;
  logger: RecordingLogger;
  problems: RealvirtualError[];
  /** The raw peer connected now. */
  peer(): FrameLog;
  /** Call once the raw peer's connection was closed: resolves when a new one is up. */
  reopen(): Promise<void>;
  /** Waits until every frame sent so far was handled (a request/answer round trip), or the connection closed. */
  settle(): Promise<'open' | 'closed'>;
  /** A peer elsewhere that must not notice anything: it gets a fresh value each time. */
  checkBystander(): Promise<void>;
  /** Bystander disconnects so far (must stay 0). */
  bystanderDrops(): number;
  /** Exceptions that escaped (must stay empty). */
  uncaught(): unknown[];
  writes: SignalRecord;
}

export interface TargetOptions {
  maxPayload?: number;
  maxSignals?: number;
  maxTextBytes?: number;
  maxNameLength?: number;
  maxClientName?: number;
  maxTableBytes?: number;
}

/** The server under attack: raw ws clients send; a RealvirtualClient subscribed to Speed and Tick looks on. */
export async function serverTarget(resources: Resources, options: TargetOptions = {}): Promise<Target> {
  const logger = new RecordingLogger();
  const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0, signals: DECLARED, logger, ...options }));
  await server.listen();
  const problems: RealvirtualError[] = [];
  server.on('problem', (error) => problems.push(error));
  const uncaught = catchUncaught();
  resources.add({ close: () => uncaught.stop() });

  const bystander = resources.add(new RealvirtualClient({ port: server.port, clientName: 'Bystander', subscribe: ['Speed', 'Tick'], cycleMs: 0, heartbeatMs: 0, autoReconnect: false }));
  let drops = 0;
  bystander.on('disconnect', () => drops++);
  await bystander.connect();
  await until(() => server.clients.some((c) => c.name === 'Bystander'), 'the bystander introduced');

  let raw: RawClient;
  const open = async (): Promise<void> => {
    const connected = nextEvent(server, 'init', (peer) => peer.name === 'Raw');
    raw = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    raw.init('Raw');
    await connected;
  };
  await open();
  let tick = 0;
  return {
    role: 'server',
    endpoint: server,
    logger,
    problems,
    peer: () => raw,
    reopen: open,
    settle: () => settle(raw),
    async checkBystander() {
      const value = ++tick;
      server.write('Tick', value);
      await until(() => bystander.values().Tick === value, `the bystander to get Tick = ${value}`);
    },
    bystanderDrops: () => drops,
    uncaught: () => uncaught.errors,
    writes: server.values('write'),
  };
}

/** The client under attack: a raw ws server sends; another client/server pair in the process looks on. */
export async function clientTarget(resources: Resources, options: TargetOptions = {}): Promise<Target> {
  const logger = new RecordingLogger();
  const raw = resources.add(await RawServer.start());
  const client = resources.add(
    new RealvirtualClient({
      port: raw.port,
      clientName: 'Target',
      cycleMs: 0,
      heartbeatMs: 0,
      keepAliveMs: 0,
      reconnectIntervalMs: 5,
      maxReconnectIntervalMs: 20,
      reconnectJitter: 0,
      signals: DECLARED,
      logger,
      ...options,
    }),
  );
  const problems: RealvirtualError[] = [];
  client.on('problem', (error) => problems.push(error));
  const uncaught = catchUncaught();
  resources.add({ close: () => uncaught.stop() });

  const healthyServer = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0 }));
  await healthyServer.listen();
  const bystander = resources.add(new RealvirtualClient({ port: healthyServer.port, clientName: 'Bystander', cycleMs: 0, heartbeatMs: 0, autoReconnect: false }));
  let drops = 0;
  bystander.on('disconnect', () => drops++);
  await bystander.connect();

  let index = 0;
  await client.connect();
  const introduced = async (): Promise<void> => {
    const connection = await raw.connection(index, WAIT_MS);
    await connection.waitFor((frame) => frame.type === 'init', 'the client init');
  };
  await introduced();
  let tick = 0;
  return {
    role: 'client',
    endpoint: client,
    logger,
    problems,
    peer: () => raw.connections[index],
    async reopen() {
      index++;
      await introduced();
    },
    settle: () => settle(raw.connections[index]),
    async checkBystander() {
      const value = ++tick;
      healthyServer.write('Tick', value);
      await until(() => bystander.values().Tick === value, `the bystander to get Tick = ${value}`);
    },
    bystanderDrops: () => drops,
    uncaught: () => uncaught.errors,
    writes: client.values('write'),
  };
}

let barrier = 0;

/**
 * Every earlier frame was handled once an import_answer carries the latest Barrier value
 * (sent just before the request: frames are handled in order, and a test's own frames
 * may ask for imports too). A closed connection ends the wait as well.
 */
async function settle(peer: FrameLog): Promise<'open' | 'closed'> {
  if (!peer.open) return 'closed';
  const from = peer.mark();
  const mark = ++barrier;
  let closed = false;
  void peer.closed.then(() => (closed = true));
  try {
    peer.send({ type: 'data', signals: { Barrier: mark } });
    peer.send({ type: 'import_request', version: 2 });
  } catch {
    return 'closed';
  }
  const answered = (): boolean => peer.ofType('import_answer', from).some((frame) => (frame.signals as Record<string, unknown> | undefined)?.Barrier === mark);
  await until(() => closed || answered(), 'an import_answer after every earlier frame, or the connection closed', 3 * WAIT_MS);
  return closed || !peer.open ? 'closed' : 'open';
}

/**
 * What must hold after any input: every signal carries a valid value of its type, the
 * declared ones keep their type and direction, our own writes are untouched, no
 * prototype was polluted and no exception escaped.
 */
export function assertHealthy(target: Target, what: string): void {
  const endpoint = target.endpoint as Endpoint;
  assert.deepEqual(target.uncaught(), [], `${what}: an exception escaped`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, `${what}: Object.prototype was polluted`);
  assert.equal(Object.getPrototypeOf(endpoint.values()), Object.prototype, `${what}: values() has a foreign prototype`);
  for (const signal of endpoint.table) {
    const { name, value, valueType } = signal;
    const ok =
      valueType === 'Bool'
        ? typeof value === 'boolean'
        : valueType === 'Text'
          ? typeof value === 'string'
          : valueType === 'Int'
            ? Number.isInteger(value) && (value as number) >= INT_MIN && (value as number) <= INT_MAX
            : typeof value === 'number' && Number.isFinite(value);
    if (!ok) assert.fail(`${what}: signal ${JSON.stringify(name.slice(0, 80))} (${valueType}) holds ${JSON.stringify(value)}`);
  }
  for (const declared of DECLARED) {
    const signal = endpoint.table.get(declared.name);
    assert.ok(signal, `${what}: declared signal ${declared.name} is gone`);
    assert.equal(signal.valueType, declared.type, `${what}: ${declared.name} changed type`);
    assert.equal(signal.direction, declared.direction, `${what}: ${declared.name} changed direction`);
  }
  const writes = endpoint.values('write');
  for (const name of Object.keys(target.writes)) assert.equal(writes[name], target.writes[name], `${what}: our write signal ${name} was changed by the peer`);
  assert.equal(target.bystanderDrops(), 0, `${what}: the bystander was disconnected`);
}
