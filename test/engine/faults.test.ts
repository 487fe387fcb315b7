/**
 * Network faults on real sockets (127.0.0.1), each injected for real: a server process
 * killed and restarted while the client writes, a server that is not there yet, peers
 * killed in the middle of a frame, half-open connections, name resolution failures and
 * refused connections. The engine must recover by itself and say so once, not in a flood.
 */
import assert from 'assert/strict';
import { ChildProcess, fork } from 'child_process';
import path from 'path';
import { ClientOptions, EndpointStatus, RealvirtualClient, RealvirtualServer } from '../../engine';
import { delay, freePort, nextEvent, RawClient, RawServer, Resources, until, WAIT_MS, within } from '../helpers/events';
import { notFound, rawWebSocket, RecordingLogger, reset, ScriptedServer, stubLookup, wsFrame } from '../helpers/faults';
import { FAULTS } from '../helpers/counts';

const FAST_RETRY: ClientOptions = { reconnectIntervalMs: 20, maxReconnectIntervalMs: 100, reconnectJitter: 0 };

type ChildEvent = { event: string; [key: string]: any };

/** A RealvirtualServer in a child process (test/helpers/server-process.ts). */
class ServerProcess {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: ChildEvent) => this.events.push(message));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(port: number, firstCounter: number): Promise<ServerProcess> {
    const child = fork(path.join(__dirname, '..', 'helpers', 'server-process.js'), [String(port), String(firstCounter)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const server = new ServerProcess(child);
    await until(() => server.events.some((e) => e.event === 'listening' || e.event === 'error'), 'the server process to listen', 10000);
    const failed = server.events.find((e) => e.event === 'error');
    if (failed) throw new Error(`the server process could not listen: ${failed.message}`);
    return server;
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  /** Asks for its received values (and its own counter's last value); resolves with the answer. */
  async ask(cmd: 'values' | 'stopCounter'): Promise<{ values: Record<string, unknown>; written: number }> {
    const from = this.events.length;
    this.child.send({ cmd });
    await until(() => this.events.slice(from).some((e) => e.event === 'values'), `an answer to ${cmd} from the server process`);
    const answer = this.events.slice(from).find((e) => e.event === 'values') as ChildEvent;
    return { values: answer.values, written: answer.written };
  }

  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await within(this.exited, `the server process to exit after ${signal}`, 5000);
  }

  close(): Promise<void> {
    return this.stop('SIGKILL');
  }
}

describe('faults on real sockets', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  it(`a server process restarted ${FAULTS.restarts} times (killed and stopped in turn) while the client writes a counter: both sides end with the last value, with one init and one subscribe per connection`, async function () {
    this.timeout(60000);
    const port = await freePort();
    const client = resources.add(new RealvirtualClient({ host: '127.0.0.1', port, clientName: 'Counter', subscribe: ['ServerCounter'], cycleMs: 10, keepAliveMs: 0, heartbeatMs: 500, ...FAST_RETRY }));
    let written = 0;
    const writer = setInterval(() => client.write('ClientCounter', ++written), 3);
    resources.add({ close: () => clearInterval(writer) });
    const connects: number[] = [];
    client.on('connect', () => connects.push(Date.now()));

    let server = resources.add(await ServerProcess.start(port, 0));
    void client.connect();
    for (let restart = 1; restart <= FAULTS.restarts; restart++) {
      // Let it run: connected, subscribed, values flowing both ways.
      await until(() => server.count('subscribe') >= 1, `the client subscribed to server ${restart}`, 10000);
      await until(() => typeof client.values().ServerCounter === 'number' && (client.values().ServerCounter as number) > (restart - 1) * 1e6 + 3, `values from server ${restart}`);
      const atKill = written;
      await server.stop(restart % 2 === 1 ? 'SIGKILL' : 'SIGTERM');
      assert.equal(server.count('init'), 1, `server ${restart}: one init`);
      assert.equal(server.count('subscribe'), 1, `server ${restart}: one subscribe`);
      assert.equal(server.count('connect'), 1, `server ${restart}: one connection`);
      await until(() => client.status.state === 'reconnecting', 'the client to notice the server is gone');
      await until(() => written > atKill + 5, 'the client to write on while the server is down');
      server = resources.add(await ServerProcess.start(port, restart * 1e6));
    }
    await until(() => server.count('subscribe') >= 1, 'the client subscribed to the last server', 10000);
    clearInterval(writer);
    const last = written;
    // Both sides hold the last value written by the other.
    let held: unknown;
    for (const deadline = Date.now() + WAIT_MS; held !== last; await delay(20)) {
      held = (await server.ask('values')).values.ClientCounter;
      if (held !== last && Date.now() > deadline) assert.fail(`the last server holds ClientCounter = ${held}, not the last value written, ${last}`);
    }
    const { written: serverLast } = await server.ask('stopCounter');
    await until(
      () => client.values().ServerCounter === serverLast,
      () => `the client to hold ServerCounter = ${serverLast} (holds ${client.values().ServerCounter})`,
    );
    assert.equal(server.count('init'), 1, 'last server: one init');
    assert.deepEqual(
      server.events.filter((e) => e.event === 'subscribe').map((e) => e.names),
      [['ServerCounter']],
      'last server: one subscribe, with the subscription',
    );
    assert.equal(connects.length, FAULTS.restarts + 1, 'one connection per server, none duplicated');
    assert.equal(client.status.state, 'connected');
  });

  it('a server that is not up yet: the client retries, then connects and delivers what was written meanwhile', async function () {
    const port = await freePort();
    const client = resources.add(new RealvirtualClient({ host: '127.0.0.1', port, clientName: 'Early', cycleMs: 10, ...FAST_RETRY }));
    const retrying = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
    const connected = client.connect();
    const [status] = await retrying;
    assert.match(String(status.error?.message), /ECONNREFUSED/);
    client.write('Early', 'written before the server was up');
    await until(() => client.status.state === 'reconnecting' && (client as any).lifecycle.status.attempts >= 3, 'three failed attempts');
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port }));
    await server.listen();
    await within(connected, 'connect() to resolve once the server is up');
    await until(() => server.values().Early === 'written before the server was up', 'the value written meanwhile at the server');
  });

  it('a client killed in the middle of a frame (TCP reset): the server drops it and the other clients carry on', async function () {
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0 }));
    await server.listen();
    const bystander = resources.add(new RealvirtualClient({ port: server.port, clientName: 'Bystander', cycleMs: 0, autoReconnect: false }));
    await bystander.connect();
    const problems: string[] = [];
    server.on('problem', (error) => problems.push(error.code));

    const connected = nextEvent(server, 'connect');
    const victim = await rawWebSocket(server.port);
    resources.add({ close: () => victim.destroy() });
    const [peer] = await connected;
    const dropped = nextEvent(server, 'disconnect', (info) => info.id === peer.id);
    // Half of a masked data frame, then a reset.
    const frame = wsFrame(1, JSON.stringify({ type: 'data', signals: { Half: 1, More: 'x'.repeat(500) } }), { mask: true });
    victim.write(frame.subarray(0, Math.floor(frame.length / 2)));
    await delay(20);
    reset(victim);
    await dropped;
    assert.equal(server.values().Half, undefined, 'nothing of the cut frame was applied');

    const arrived = nextEvent(bystander, 'data', (event) => event.values.After === true);
    server.write('After', true);
    await arrived;
    assert.ok(bystander.connected);
    assert.deepEqual(
      server.clients.map((c) => c.name),
      ['Bystander'],
    );
    assert.ok(
      problems.every((code) => code === 'ERR_CONNECTION'),
      `problems: ${problems}`,
    );
  });

  it('a server killed in the middle of a frame (TCP reset): the client reconnects and the cut frame applies nothing', async function () {
    const half = wsFrame(1, JSON.stringify({ type: 'snapshot', signals: { Half: 1, Pad: 'x'.repeat(500) } }));
    const scripted = resources.add(
      await ScriptedServer.start((socket, index) => {
        if (index === 0) {
          socket.write(half.subarray(0, Math.floor(half.length / 2)));
          setTimeout(() => reset(socket), 20);
        } else {
          socket.write(wsFrame(1, JSON.stringify({ type: 'snapshot', signals: { Whole: 2 } })));
        }
      }),
    );
    const client = resources.add(new RealvirtualClient({ port: scripted.port, ...FAST_RETRY, heartbeatMs: 0 }));
    const reconnecting = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
    await client.connect();
    const [status] = await reconnecting;
    assert.match(String(status.error?.message), /ECONNRESET|closed with code 1006/);
    await until(() => client.values().Whole === 2, 'the snapshot of the second connection');
    assert.equal(client.values().Half, undefined, 'nothing of the cut frame was applied');
    assert.equal(scripted.connections, 2);
  });

  it('half-open: a server that stops reading (no pongs) is detected within two heartbeat periods, and the client reconnects', async function () {
    const heartbeatMs = 300;
    const raw = resources.add(await RawServer.start());
    const client = resources.add(new RealvirtualClient({ port: raw.port, heartbeatMs, keepAliveMs: 0, ...FAST_RETRY }));
    await client.connect();
    const first = await raw.connection(0);
    await delay(2 * heartbeatMs); // pings answered: still connected
    assert.equal(client.status.state, 'connected');

    const detected = nextEvent(client, 'status', (status) => status.state === 'reconnecting', 5 * heartbeatMs);
    first.ws.pause(); // the peer stops reading: no pong will come back
    const pausedAt = Date.now();
    const [status] = await detected;
    const detectedAfter = Date.now() - pausedAt;
    assert.equal(status.error?.code, 'ERR_HEARTBEAT_TIMEOUT');
    // Bound: two periods, plus half a period of timer slack for a loaded machine (three periods would be a miss).
    assert.ok(detectedAfter <= 2.5 * heartbeatMs, `detected after ${detectedAfter} ms (heartbeat ${heartbeatMs} ms)`);
    await raw.connection(1);
    await until(() => client.status.state === 'connected', 'reconnected');
  });

  it('half-open: a client that stops reading (no pongs) is dropped by the server within two heartbeat periods', async function () {
    const heartbeatMs = 300;
    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port: 0, heartbeatMs }));
    await server.listen();
    const connected = nextEvent(server, 'connect');
    const raw = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    await connected;
    await delay(2 * heartbeatMs);
    assert.equal(server.status.clients, 1, 'a client that answers pings stays');
    const dropped = nextEvent(server, 'disconnect', undefined, 5 * heartbeatMs);
    raw.ws.pause();
    const pausedAt = Date.now();
    await dropped;
    const after = Date.now() - pausedAt;
    assert.ok(after <= 2.5 * heartbeatMs, `dropped after ${after} ms (heartbeat ${heartbeatMs} ms)`);
    assert.equal(server.status.clients, 0);
  });

  it(`name resolution failures, then refused connections: over ${FAULTS.refusedAttempts} failed attempts, one status and one log line per change, none per attempt`, async function () {
    this.timeout(20000);
    const port = await freePort();
    // A host in the reserved .invalid domain, resolved by a stand-in: no packet leaves the machine.
    let resolvable = false;
    const lookup = stubLookup((host) => (resolvable ? '127.0.0.1' : notFound(host)));
    const logger = new RecordingLogger();
    const client = resources.add(new RealvirtualClient({ host: 'plc.invalid', port, lookup, logger, reconnectIntervalMs: 5, maxReconnectIntervalMs: 10, reconnectJitter: 0 }));
    const statuses: EndpointStatus[] = [];
    client.on('status', (status) => statuses.push(status));
    const attempts = (): number => (client as any).lifecycle.status.attempts as number;
    void client.connect();
    await until(
      () => attempts() >= FAULTS.refusedAttempts / 2,
      () => `${FAULTS.refusedAttempts / 2} failed lookups (got ${attempts()})`,
      10000,
    );
    resolvable = true;
    const before = attempts();
    await until(
      () => attempts() >= before + FAULTS.refusedAttempts / 2,
      () => `${FAULTS.refusedAttempts / 2} refused connections (got ${attempts() - before})`,
      10000,
    );
    assert.ok(lookup.calls.every((host) => host === 'plc.invalid'));

    const server = resources.add(new RealvirtualServer({ host: '127.0.0.1', port }));
    await server.listen();
    await until(() => client.status.state === 'connected', 'connected once the server is up');

    assert.deepEqual(
      statuses.map((s) => `${s.state}${s.error ? ` ${((s.error as any).cause?.code as string) ?? s.error.code}` : ''}`),
      ['connecting', 'reconnecting ENOTFOUND', 'reconnecting ECONNREFUSED', 'connected'],
    );
    assert.match(String(statuses[1].error?.message), /host name not found/);
    const visible = logger.visible;
    assert.equal(visible.length, 2, `one line per change: ${JSON.stringify(visible)}`);
    assert.match(visible[0], /ENOTFOUND/);
    assert.match(visible[1], /ECONNREFUSED/);
    assert.deepEqual(
      logger.lines.filter((l) => l.level === 'info').map((l) => l.text),
      [`connected to ws://plc.invalid:${port}/ again`],
    );
  });
});
