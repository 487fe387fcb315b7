/**
 * The endpoint shell both protocols stand on, without sockets or wall clocks: a scripted
 * attempt, a fake clock and a fixed random source pin down the status it reports in either
 * role, the listen retry's backoff and giving up, and problem reporting within one log budget,
 * the same for a realvirtual and a MinVR3 endpoint.
 */
import assert from 'assert/strict';
import { EndpointShell, EndpointStatus, LOG_LINES_PER_MINUTE, LOG_WINDOW_MS, PeerInfo, PeerLink, ShellEvents } from '../../engine/endpoint-shell';
import { ConnectionError, ProtocolError, RealvirtualError } from '../../engine/errors';
import { Attempt, AttemptHandle, ReconnectOptions } from '../../engine/lifecycle';
import { Logger } from '../../engine/logger';
import { MinVRClient, MinVRServer, RealvirtualClient, RealvirtualServer } from '../../engine';
import { FakeClock } from '../helpers/fake-clock';

const RETRY: ReconnectOptions = { autoReconnect: true, intervalMs: 1000, maxIntervalMs: 8000, maxAttempts: -1, jitter: 0.2 };

class RecordingLogger implements Logger {
  readonly lines: Array<[string, string]> = [];
  debug(): void {}
  info(message: string): void {
    this.lines.push(['info', message]);
  }
  warn(message: string): void {
    this.lines.push(['warn', message]);
  }
  error(message: string): void {
    this.lines.push(['error', message]);
  }
  at(level: string): string[] {
    return this.lines.filter(([l]) => l === level).map(([, message]) => message);
  }
}

interface TestPeer {
  info: PeerInfo;
  link: PeerLink<string>;
}

/** A shell whose attempts the test settles by hand; its peers are plain records. */
class TestShell extends EndpointShell<TestPeer, ShellEvents> {
  readonly handles: AttemptHandle[] = [];
  ends = 0;

  get url(): string {
    return 'test://127.0.0.1:1';
  }

  get last(): AttemptHandle {
    return this.handles[this.handles.length - 1];
  }

  start(): Promise<void> {
    return this.startLifecycle();
  }

  join(id: string, bufferedBytes = 0): TestPeer {
    const peer: TestPeer = { info: { id, name: `${id}:1` }, link: { send: () => undefined, bufferedBytes } };
    this.addPeer(peer);
    return peer;
  }

  leave(peer: TestPeer, reason: string): boolean {
    return this.removePeer(peer, reason);
  }

  problem(error: RealvirtualError, peer?: TestPeer): void {
    this.report(error, peer);
  }

  protected override connectedPeerName(): string | undefined {
    return this.role === 'client' ? 'server:1' : undefined;
  }

  protected attempt(handle: AttemptHandle): Attempt {
    this.handles.push(handle);
    return { abort: () => handle.closed(), end: () => (this.ends++, handle.closed()) };
  }
}

function shell(role: 'client' | 'server', retry: Partial<ReconnectOptions> = {}) {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const endpoint = new TestShell({ role, logger, clock, retry: { ...RETRY, ...retry }, random: () => 0.5 });
  const statuses: EndpointStatus[] = [];
  const events: string[] = [];
  endpoint.on('status', (status) => statuses.push(status));
  endpoint.on('connect', (peer) => events.push(`connect ${peer.id}`));
  endpoint.on('disconnect', (peer, reason) => events.push(`disconnect ${peer.id}: ${reason}`));
  return { clock, logger, endpoint, statuses, events, states: () => statuses.map((status) => status.state) };
}

function busy(): ConnectionError {
  const cause = Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' });
  return new ConnectionError('ERR_LISTEN', 'cannot listen on 127.0.0.1:1: address already in use (EADDRINUSE)', { cause });
}

async function settled(promise: Promise<void>): Promise<RealvirtualError | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error as RealvirtualError;
  }
}

describe('endpoint shell (fake clock)', function () {
  describe('status', function () {
    it('client: idle, connecting, connected with the peer name; one reconnecting per error; connected again with one info line', function () {
      const { endpoint, logger, states, statuses, clock } = shell('client');
      assert.deepEqual(endpoint.status, { state: 'idle', clients: 0 });
      void endpoint.start();
      endpoint.last.opened();
      assert.deepEqual(statuses[1], { state: 'connected', clients: 0, peerName: 'server:1' });
      endpoint.last.closed(new ConnectionError('ERR_CONNECTION', 'lost'));
      assert.equal(endpoint.status.retryInMs, 1000);
      clock.advance(1000);
      endpoint.last.closed(new ConnectionError('ERR_CONNECTION', 'lost'));
      clock.advance(2000);
      endpoint.last.opened();
      assert.deepEqual(states(), ['connecting', 'connected', 'reconnecting', 'connected']);
      assert.deepEqual(logger.at('warn'), ['test://127.0.0.1:1: lost; retrying']);
      assert.deepEqual(logger.at('info'), ['connected to test://127.0.0.1:1 again']);
    });

    it('server: connecting, then listening with the client count, which follows every peer that joins or leaves', function () {
      const { endpoint, logger, statuses, events } = shell('server');
      void endpoint.start();
      endpoint.last.opened();
      assert.deepEqual(logger.at('info'), ['listening on test://127.0.0.1:1']);
      const a = endpoint.join('a');
      endpoint.join('b', 70);
      assert.equal(endpoint.bufferedBytes, 70, 'the slowest peer');
      assert.deepEqual(endpoint.clients, [
        { id: 'a', name: 'a:1' },
        { id: 'b', name: 'b:1' },
      ]);
      assert.equal(endpoint.leave(a, 'bye'), true);
      assert.equal(endpoint.leave(a, 'bye'), false, 'a peer leaves once');
      assert.deepEqual(
        statuses.map((status) => `${status.state} ${status.clients}`),
        ['connecting 0', 'listening 0', 'listening 1', 'listening 2', 'listening 1'],
        'the count follows each peer; one that leaves changes it before its disconnect event',
      );
      assert.deepEqual(events, ['connect a', 'connect b', 'disconnect a: bye']);
    });

    it('an unchanged status is not emitted again; close() ends every attempt and emits closed once', async function () {
      const { endpoint, states } = shell('server');
      void endpoint.start();
      endpoint.last.opened();
      void endpoint.start();
      await endpoint.close();
      await endpoint.close();
      assert.equal(endpoint.ends, 1);
      assert.deepEqual(states(), ['connecting', 'listening', 'closed']);
      const error = await settled(endpoint.start());
      assert.equal((error as RealvirtualError).code, 'ERR_CLOSED');
      assert.match((error as RealvirtualError).message, /this server was closed/);
    });
  });

  describe('listen retry', function () {
    it('retries a busy port with backoff (1, 2, 4, 8, 8 s), one error line for the repeated failure, then listens', async function () {
      const { endpoint, clock, logger, statuses } = shell('server');
      const listening = endpoint.start();
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        endpoint.last.closed(busy());
        delays.push(clock.dueIn()[0]);
        clock.advance(delays[i]);
      }
      assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
      assert.equal(endpoint.handles.length, 6);
      const retrying = statuses.filter((status) => status.state === 'reconnecting');
      assert.equal(retrying.length, 1, 'one status while the same error repeats');
      assert.equal(retrying[0].error?.code, 'ERR_LISTEN');
      assert.equal(retrying[0].retryInMs, 1000);
      assert.deepEqual(logger.at('error'), ['cannot listen on 127.0.0.1:1: address already in use (EADDRINUSE); retrying']);
      endpoint.last.opened();
      assert.equal(await settled(listening), 'resolved');
      assert.equal(endpoint.status.state, 'listening');
      assert.equal(clock.pending, 0);
    });

    it('jitter spreads each delay by ±20 %', function () {
      const clock = new FakeClock();
      const low = new TestShell({ role: 'server', logger: new RecordingLogger(), clock, retry: RETRY, random: () => 0 });
      void low.start();
      low.last.closed(busy());
      assert.deepEqual(clock.dueIn(), [800]);
    });

    it('gives up after maxAttempts retries with ERR_GAVE_UP naming the listen retries, the ERR_LISTEN as cause, no timer left', async function () {
      const { endpoint, clock, logger } = shell('server', { maxAttempts: 2 });
      const listening = endpoint.start();
      endpoint.last.closed(busy());
      clock.advance(1000);
      endpoint.last.closed(busy());
      clock.advance(2000);
      endpoint.last.closed(busy());
      const error = (await settled(listening)) as RealvirtualError;
      assert.equal(error.code, 'ERR_GAVE_UP');
      assert.equal(error.message, 'gave up after 2 listen retries: cannot listen on 127.0.0.1:1: address already in use (EADDRINUSE)');
      assert.equal(((error as { cause?: RealvirtualError }).cause as RealvirtualError).code, 'ERR_LISTEN');
      assert.equal(endpoint.status.state, 'failed');
      assert.equal(endpoint.status.error, error);
      assert.equal(endpoint.handles.length, 3);
      assert.equal(clock.pending, 0);
      assert.equal(logger.at('error').length, 2, 'the busy port once, giving up once');
    });

    it('with no retry allowed, the failure itself (ERR_LISTEN) ends it at once', async function () {
      const { endpoint, clock, logger } = shell('server', { maxAttempts: 0 });
      const listening = endpoint.start();
      endpoint.last.closed(busy());
      const error = (await settled(listening)) as RealvirtualError;
      assert.equal(error.code, 'ERR_LISTEN');
      assert.deepEqual(endpoint.status, { state: 'failed', clients: 0, error });
      assert.deepEqual(logger.at('error'), [error.message]);
      assert.equal(clock.pending, 0);
    });

    it('a client that runs out of retries keeps the lifecycle’s wording', async function () {
      const { endpoint, clock } = shell('client', { maxAttempts: 1 });
      const connected = endpoint.start();
      endpoint.last.closed(new ConnectionError('ERR_CONNECTION', 'refused'));
      clock.advance(1000);
      endpoint.last.closed(new ConnectionError('ERR_CONNECTION', 'refused'));
      const error = (await settled(connected)) as RealvirtualError;
      assert.equal(error.code, 'ERR_GAVE_UP');
      assert.match(error.message, /^gave up after 1 reconnect attempt: refused$/);
    });
  });

  describe('problems and the log budget', function () {
    it(`every problem reaches 'problem'; the log gets ${LOG_LINES_PER_MINUTE} a minute, then one summary`, function () {
      const { endpoint, logger, clock } = shell('server');
      const problems: Array<string | undefined> = [];
      endpoint.on('problem', (_error, peer) => problems.push(peer?.id));
      const peer = endpoint.join('a');
      for (let i = 0; i < 25; i++) endpoint.problem(new ProtocolError('ERR_INVALID_JSON', `bad frame ${i}`), peer);
      assert.equal(problems.length, 25);
      assert.deepEqual(problems[0], 'a');
      assert.equal(logger.at('warn').length, LOG_LINES_PER_MINUTE);
      assert.equal(logger.at('warn')[0], 'bad frame 0 (peer a:1)');
      clock.advance(LOG_WINDOW_MS);
      assert.equal(logger.at('warn')[LOG_LINES_PER_MINUTE], 'suppressed 5 more problem lines in the last minute');
    });

    it("a 'problem' listener that throws costs a log line, not the caller", function () {
      const { endpoint, logger } = shell('client');
      endpoint.on('problem', () => {
        throw new Error('listener broke');
      });
      endpoint.problem(new ProtocolError('ERR_INVALID_JSON', 'bad frame'));
      assert.deepEqual(logger.at('warn'), ['bad frame', "a 'problem' listener threw: listener broke"]);
    });

    it('closing drops a pending summary', async function () {
      const { endpoint, logger, clock } = shell('client');
      for (let i = 0; i < LOG_LINES_PER_MINUTE + 3; i++) endpoint.problem(new ProtocolError('ERR_INVALID_JSON', 'bad frame'));
      await endpoint.close();
      clock.advance(LOG_WINDOW_MS);
      assert.equal(logger.at('warn').length, LOG_LINES_PER_MINUTE);
      assert.equal(clock.pending, 0);
    });

    for (const [protocol, make] of [
      ['realvirtual server', (clock: FakeClock, logger: Logger) => new RealvirtualServer({ port: 0, clock, logger })],
      ['realvirtual client', (clock: FakeClock, logger: Logger) => new RealvirtualClient({ port: 1, clock, logger })],
      ['MinVR3 server', (clock: FakeClock, logger: Logger) => new MinVRServer({ port: 0, clock, logger })],
      ['MinVR3 client', (clock: FakeClock, logger: Logger) => new MinVRClient({ port: 1, clock, logger })],
    ] as const) {
      it(`${protocol}: the same shell, the same budget and summary`, async function () {
        const clock = new FakeClock();
        const logger = new RecordingLogger();
        const endpoint = make(clock, logger);
        assert.ok(endpoint instanceof EndpointShell);
        const report = (endpoint as unknown as { report(error: RealvirtualError): void }).report.bind(endpoint);
        for (let i = 0; i < LOG_LINES_PER_MINUTE + 2; i++) report(new ProtocolError('ERR_INVALID_JSON', `bad frame ${i}`));
        clock.advance(LOG_WINDOW_MS);
        assert.equal(logger.at('warn').length, LOG_LINES_PER_MINUTE + 1);
        assert.equal(logger.at('warn')[LOG_LINES_PER_MINUTE], 'suppressed 2 more problem lines in the last minute');
        await endpoint.close();
        assert.equal(endpoint.status.state, 'closed');
      });
    }
  });
});
