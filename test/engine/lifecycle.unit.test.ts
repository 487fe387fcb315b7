/**
 * The connection lifecycle without sockets or wall clocks: a scripted `dial`, a fake clock
 * and a fixed random source pin down backoff, jitter, giving up, status de-duplication,
 * drop and close, the heartbeat's timeout and untilState.
 */
import assert from 'assert/strict';
import { EventEmitter } from 'events';
import { ConnectionError, RealvirtualError } from '../../engine/errors';
import { Attempt, AttemptHandle, backoffDelay, checkReconnectOptions, ConnectionLifecycle, DEFAULT_RECONNECT, Heartbeat, LinkStatus, ReconnectOptions, untilState } from '../../engine/lifecycle';
import { FakeClock } from '../helpers/fake-clock';

const NO_JITTER: ReconnectOptions = { autoReconnect: true, intervalMs: 1000, maxIntervalMs: 8000, maxAttempts: -1, jitter: 0 };

function refused(code = 'ECONNREFUSED'): ConnectionError {
  const cause = Object.assign(new Error(`connect ${code}`), { code });
  return new ConnectionError('ERR_CONNECTION', `cannot connect: ${code}`, { cause });
}

/** A lifecycle whose attempts the test drives by hand through their handles. */
function scripted(options: Partial<ReconnectOptions> = {}, random: () => number = () => 0.5) {
  const clock = new FakeClock();
  const handles: AttemptHandle[] = [];
  const calls = { aborts: 0, ends: 0 };
  const lifecycle = new ConnectionLifecycle(
    { ...NO_JITTER, ...options },
    (handle): Attempt => {
      handles.push(handle);
      return { abort: () => calls.aborts++, end: () => calls.ends++ };
    },
    random,
    clock,
  );
  const states: LinkStatus[] = [];
  const failures: number[] = [];
  lifecycle.on('state', (status) => states.push(status));
  lifecycle.on('attemptFailed', (_error, attempt) => failures.push(attempt));
  const last = (): AttemptHandle => handles[handles.length - 1];
  return { clock, lifecycle, handles, calls, states, failures, last };
}

describe('lifecycle (fake clock)', function () {
  describe('backoffDelay', function () {
    it('doubles from intervalMs per attempt up to maxIntervalMs, without jitter exactly', function () {
      const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, NO_JITTER));
      assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
    });

    it('attempt 0 or below counts as the first; a huge attempt number stays finite and capped', function () {
      assert.equal(backoffDelay(0, NO_JITTER), 1000);
      assert.equal(backoffDelay(-5, NO_JITTER), 1000);
      assert.equal(backoffDelay(1e9, NO_JITTER), 8000);
      assert.equal(backoffDelay(1e9, { ...NO_JITTER, maxIntervalMs: Number.MAX_SAFE_INTEGER }), 1000 * 2 ** 30);
    });

    it('jitter spreads each delay within ±jitter of the capped value and never above maxIntervalMs', function () {
      const options = { ...NO_JITTER, jitter: 0.2 };
      assert.equal(
        backoffDelay(1, options, () => 0),
        800,
        'random 0: the lowest',
      );
      assert.equal(
        backoffDelay(1, options, () => 0.5),
        1000,
        'random 0.5: the middle',
      );
      assert.equal(
        backoffDelay(1, options, () => 0.999999),
        1200,
        'random → 1: the highest',
      );
      assert.equal(
        backoffDelay(4, options, () => 0),
        6400,
        'at the cap the spread goes down…',
      );
      assert.equal(
        backoffDelay(4, options, () => 0.999999),
        8000,
        '…but never above the cap',
      );
      let seed = 12345;
      const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
      for (let attempt = 1; attempt <= 8; attempt++) {
        const capped = Math.min(8000, 1000 * 2 ** (attempt - 1));
        for (let i = 0; i < 200; i++) {
          const delay = backoffDelay(attempt, options, random);
          assert.ok(delay >= Math.round(capped * 0.8) && delay <= Math.min(8000, Math.round(capped * 1.2)), `attempt ${attempt}: ${delay}`);
        }
      }
    });

    it('interval 0 retries at once', function () {
      assert.equal(
        backoffDelay(3, { ...NO_JITTER, intervalMs: 0, jitter: 1 }, () => 0.9),
        0,
      );
    });

    it('checkReconnectOptions refuses impossible settings with ERR_INVALID_OPTION', function () {
      const bad: Array<[Partial<ReconnectOptions>, RegExp]> = [
        [{ intervalMs: -1 }, /reconnect interval/],
        [{ intervalMs: Infinity, maxIntervalMs: Infinity }, /reconnect interval/],
        [{ intervalMs: NaN }, /reconnect interval/],
        [{ intervalMs: 5000, maxIntervalMs: 1000 }, /maximum reconnect interval/],
        [{ maxAttempts: -2 }, /max reconnect attempts/],
        [{ maxAttempts: 1.5 }, /max reconnect attempts/],
        [{ jitter: 1.1 }, /jitter/],
        [{ jitter: -0.1 }, /jitter/],
      ];
      for (const [change, message] of bad) {
        assert.throws(
          () => checkReconnectOptions({ ...DEFAULT_RECONNECT, ...change }),
          (error: RealvirtualError) => error.code === 'ERR_INVALID_OPTION' && message.test(error.message),
          JSON.stringify(change),
        );
      }
      assert.doesNotThrow(() => checkReconnectOptions(DEFAULT_RECONNECT));
      assert.throws(() => new ConnectionLifecycle({ ...DEFAULT_RECONNECT, jitter: 2 }, () => ({ abort: () => undefined })), { code: 'ERR_INVALID_OPTION' });
    });
  });

  describe('ConnectionLifecycle', function () {
    it('connects: connecting, then connected with the attempts reset', function () {
      const { lifecycle, handles, states, last } = scripted();
      assert.equal(lifecycle.status.state, 'idle');
      lifecycle.start();
      assert.equal(handles.length, 1);
      assert.deepEqual(states, [{ state: 'connecting', attempts: 0 }]);
      last().opened();
      assert.equal(lifecycle.connected, true);
      assert.deepEqual(states[1], { state: 'connected', attempts: 0 });
      lifecycle.start();
      assert.equal(handles.length, 1, 'start while connected does nothing');
    });

    it('retries after each failure at exactly the backoff delay, capped', function () {
      const { clock, lifecycle, handles, last } = scripted();
      lifecycle.start();
      const expected = [1000, 2000, 4000, 8000, 8000];
      for (let i = 0; i < expected.length; i++) {
        last().closed(refused());
        assert.equal(lifecycle.status.state, 'reconnecting');
        assert.equal(lifecycle.status.retryInMs, expected[i]);
        assert.equal(lifecycle.status.attempts, i + 1);
        assert.deepEqual(clock.dueIn(), [expected[i]], 'one retry timer, due at the delay');
        clock.advance(expected[i] - 1);
        assert.equal(handles.length, i + 1, 'not a millisecond early');
        clock.advance(1);
        assert.equal(handles.length, i + 2);
        assert.equal(clock.pending, 0, 'no timer while an attempt runs');
      }
    });

    it('the jittered delay is the one the retry timer uses', function () {
      const { clock, lifecycle, last } = scripted({ jitter: 0.5 }, () => 0);
      lifecycle.start();
      last().closed(refused());
      assert.equal(lifecycle.status.retryInMs, 500);
      assert.deepEqual(clock.dueIn(), [500]);
    });

    it('a successful connection resets the backoff to the first interval', function () {
      const { clock, lifecycle, last } = scripted();
      lifecycle.start();
      last().closed(refused());
      clock.advance(1000);
      last().closed(refused());
      clock.advance(2000);
      last().opened();
      assert.equal(lifecycle.status.attempts, 0);
      last().closed(new ConnectionError('ERR_CONNECTION', 'server went away'));
      assert.equal(lifecycle.status.retryInMs, 1000);
      assert.equal(lifecycle.status.attempts, 1);
    });

    it('maxReconnectAttempts: gives up after that many retries with ERR_GAVE_UP, the last failure as cause, no timer left', function () {
      const { clock, lifecycle, handles, states, failures, last } = scripted({ maxAttempts: 2 });
      lifecycle.start();
      last().closed(refused());
      clock.advance(1000);
      last().closed(refused());
      clock.advance(2000);
      const final = refused('EHOSTUNREACH');
      last().closed(final);
      assert.equal(handles.length, 3, 'the first try and 2 retries');
      assert.deepEqual(failures, [1, 2, 3]);
      const status = lifecycle.status;
      assert.equal(status.state, 'failed');
      assert.equal(status.error?.code, 'ERR_GAVE_UP');
      assert.match(status.error?.message ?? '', /^gave up after 2 reconnect attempts: cannot connect: EHOSTUNREACH$/);
      assert.equal((status.error as { cause?: unknown }).cause, final);
      assert.equal(clock.pending, 0);
      assert.equal(clock.runAll(), 3000, 'nothing more happens');
      assert.equal(handles.length, 3);
      assert.equal(states[states.length - 1].state, 'failed');
    });

    it('maxReconnectAttempts 1 says "1 reconnect attempt"; 0 gives up at the first failure', function () {
      const one = scripted({ maxAttempts: 1 });
      one.lifecycle.start();
      one.last().closed(refused());
      one.clock.advance(1000);
      one.last().closed(refused());
      assert.match(one.lifecycle.status.error?.message ?? '', /gave up after 1 reconnect attempt:/);
      const zero = scripted({ maxAttempts: 0 });
      zero.lifecycle.start();
      zero.last().closed(refused());
      assert.equal(zero.lifecycle.status.state, 'failed');
      assert.equal(zero.handles.length, 1);
    });

    it('autoReconnect off: the first failure is final, and says so', function () {
      const { clock, lifecycle, handles, last } = scripted({ autoReconnect: false });
      lifecycle.start();
      last().opened();
      last().closed(new ConnectionError('ERR_CONNECTION', 'closed with code 1001'));
      assert.equal(lifecycle.status.state, 'failed');
      assert.equal(lifecycle.status.error?.code, 'ERR_GAVE_UP');
      assert.match(lifecycle.status.error?.message ?? '', /disconnected and auto reconnect is off: closed with code 1001/);
      assert.equal(clock.pending, 0);
      assert.equal(handles.length, 1);
    });

    it('start after giving up gets the full number of retries again', function () {
      const { clock, lifecycle, handles, last } = scripted({ maxAttempts: 1 });
      lifecycle.start();
      last().closed(refused());
      clock.advance(1000);
      last().closed(refused());
      assert.equal(lifecycle.status.state, 'failed');
      lifecycle.start();
      assert.equal(lifecycle.status.state, 'connecting');
      last().closed(refused());
      assert.equal(lifecycle.status.state, 'reconnecting', 'a retry, not an immediate give-up');
      assert.equal(lifecycle.status.retryInMs, 1000);
      clock.advance(1000);
      assert.equal(handles.length, 4);
    });

    it('status de-duplication: one state event per state, error code and system error; attemptFailed every time', function () {
      const { clock, lifecycle, states, failures, last } = scripted({ maxIntervalMs: 1000 });
      lifecycle.start();
      for (let i = 0; i < 5; i++) {
        last().closed(refused());
        clock.advance(1000);
      }
      assert.deepEqual(
        states.map((status) => status.state),
        ['connecting', 'reconnecting'],
        'five refused tries: one reconnecting status',
      );
      last().closed(refused('ENOTFOUND'));
      clock.advance(1000);
      assert.equal(states.length, 3, 'a new system error is a new status');
      assert.equal(causeOf(states[2]), 'ENOTFOUND');
      last().closed(new ConnectionError('ERR_HANDSHAKE_TIMEOUT', 'the opening handshake timed out'));
      clock.advance(1000);
      assert.equal(states.length, 4, 'a new error code is a new status');
      assert.equal(states[3].error?.code, 'ERR_HANDSHAKE_TIMEOUT');
      last().closed(new ConnectionError('ERR_HANDSHAKE_TIMEOUT', 'the opening handshake timed out'));
      assert.equal(states.length, 4);
      assert.deepEqual(failures, [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(lifecycle.status.attempts, 8, 'the status itself is always current');
      clock.advance(1000);
      last().opened();
      last().closed(refused());
      assert.deepEqual(
        states.slice(4).map((status) => status.state),
        ['connected', 'reconnecting'],
        'after a connection the same failure is news again',
      );
    });

    it('a dial that throws counts as a failed attempt with ERR_CONNECTION (coded errors kept as they are)', function () {
      const clock = new FakeClock();
      let dials = 0;
      const lifecycle = new ConnectionLifecycle(
        NO_JITTER,
        () => {
          dials++;
          if (dials === 1) throw new Error('bad URL');
          throw new ConnectionError('ERR_TLS', 'no certificate');
        },
        () => 0.5,
        clock,
      );
      lifecycle.start();
      assert.equal(lifecycle.status.state, 'reconnecting');
      assert.equal(lifecycle.status.error?.code, 'ERR_CONNECTION');
      assert.match(lifecycle.status.error?.message ?? '', /could not start a connection: bad URL/);
      clock.advance(1000);
      assert.equal(lifecycle.status.error?.code, 'ERR_TLS');
      assert.equal(dials, 2);
    });

    it('drop: aborts the connection and reconnects after the backoff; immediately: at once, no attempt counted', function () {
      const { clock, lifecycle, handles, calls, last } = scripted();
      lifecycle.start();
      const first = last();
      first.opened();
      lifecycle.drop(new ConnectionError('ERR_HEARTBEAT_TIMEOUT', 'no pong'));
      assert.equal(calls.aborts, 1);
      assert.equal(first.stale, true);
      assert.equal(lifecycle.status.state, 'reconnecting');
      assert.equal(lifecycle.status.error?.code, 'ERR_HEARTBEAT_TIMEOUT');
      first.closed(refused());
      assert.equal(lifecycle.status.attempts, 1, 'the dropped socket closing later is ignored');
      clock.advance(1000);
      const second = last();
      second.opened();
      lifecycle.drop(new ConnectionError('ERR_CONNECTION', 'resubscribe'), true);
      assert.equal(handles.length, 3, 'dialled again at once');
      assert.equal(second.stale, true);
      assert.equal(lifecycle.status.state, 'connecting');
      assert.equal(lifecycle.status.attempts, 0);
      second.opened();
      assert.equal(lifecycle.status.state, 'connecting', 'a stale attempt cannot report open');
      last().opened();
      assert.equal(lifecycle.status.state, 'connected');
    });

    it('drop without a current attempt (waiting for a retry) does nothing', function () {
      const { clock, lifecycle, handles, last } = scripted();
      lifecycle.start();
      last().closed(refused());
      lifecycle.drop(new ConnectionError('ERR_CONNECTION', 'x'), true);
      assert.equal(handles.length, 1);
      assert.deepEqual(clock.dueIn(), [1000]);
    });

    it('close while connected: ends politely, resolves once the socket closed, then nothing reconnects', async function () {
      const { clock, lifecycle, handles, calls, last } = scripted();
      lifecycle.start();
      last().opened();
      let closed = false;
      const closing = lifecycle.close().then(() => (closed = true));
      assert.equal(lifecycle.close(), lifecycle.close(), 'one promise, however often');
      assert.equal(calls.ends, 1);
      await Promise.resolve();
      assert.equal(closed, false, 'not before the socket has closed');
      last().closed(refused());
      await closing;
      assert.equal(lifecycle.status.state, 'closed');
      assert.equal(clock.pending, 0);
      lifecycle.start();
      assert.equal(handles.length, 1, 'a closed lifecycle does not start again');
    });

    it('close while waiting for a retry: the retry timer is cleared and close resolves at once', async function () {
      const { clock, lifecycle, handles, last } = scripted();
      lifecycle.start();
      last().closed(refused());
      assert.equal(clock.pending, 1);
      await lifecycle.close();
      assert.equal(clock.pending, 0);
      assert.equal(lifecycle.status.state, 'closed');
      clock.runAll();
      assert.equal(handles.length, 1);
    });

    it('close without end() aborts', async function () {
      const clock = new FakeClock();
      let handle: AttemptHandle | undefined;
      let aborts = 0;
      const lifecycle = new ConnectionLifecycle(NO_JITTER, (h) => ((handle = h), { abort: () => aborts++ }), Math.random, clock);
      lifecycle.start();
      const closing = lifecycle.close();
      assert.equal(aborts, 1);
      handle?.closed();
      await closing;
      assert.equal(lifecycle.status.state, 'closed');
    });
  });

  describe('Heartbeat', function () {
    function beating(intervalMs = 100) {
      const clock = new FakeClock();
      const log: string[] = [];
      const heartbeat = new Heartbeat(
        intervalMs,
        () => log.push(`ping@${clock.now()}`),
        () => log.push(`timeout@${clock.now()}`),
        clock,
      );
      return { clock, log, heartbeat };
    }

    it('pings every interval while the peer answers', function () {
      const { clock, log, heartbeat } = beating();
      heartbeat.start();
      for (let i = 0; i < 5; i++) {
        clock.advance(100);
        heartbeat.alive();
      }
      assert.deepEqual(log, ['ping@100', 'ping@200', 'ping@300', 'ping@400', 'ping@500']);
    });

    it('a silent peer times out at the second tick: within two intervals of the last sign of life, once', function () {
      const { clock, log, heartbeat } = beating();
      heartbeat.start();
      clock.advance(100);
      heartbeat.alive();
      clock.advance(100);
      assert.deepEqual(log, ['ping@100', 'ping@200']);
      clock.advance(99);
      assert.equal(log.length, 2);
      clock.advance(1);
      assert.deepEqual(log.slice(2), ['timeout@300']);
      assert.equal(clock.pending, 0, 'stopped after the timeout');
      clock.advance(1000);
      assert.equal(log.length, 3);
    });

    it('any sign of life between ticks counts, however early', function () {
      const { clock, log, heartbeat } = beating();
      heartbeat.start();
      clock.advance(100);
      clock.advance(1);
      heartbeat.alive();
      clock.advance(99);
      clock.advance(100);
      assert.deepEqual(log, ['ping@100', 'ping@200', 'timeout@300']);
    });

    it('stop clears the timer; start again begins a fresh interval; interval 0 means off', function () {
      const { clock, log, heartbeat } = beating();
      heartbeat.start();
      clock.advance(150);
      heartbeat.stop();
      assert.equal(clock.pending, 0);
      heartbeat.start();
      heartbeat.start();
      assert.equal(clock.pending, 1, 'start twice: still one timer');
      assert.deepEqual(clock.dueIn(), [100]);
      clock.advance(100);
      assert.deepEqual(log, ['ping@100', 'ping@250']);
      const off = beating(0);
      off.heartbeat.start();
      assert.equal(off.clock.pending, 0);
    });

    it('the timeout handler may restart the heartbeat', function () {
      const clock = new FakeClock();
      let timeouts = 0;
      const heartbeat: Heartbeat = new Heartbeat(
        100,
        () => undefined,
        () => {
          timeouts++;
          heartbeat.start();
        },
        clock,
      );
      heartbeat.start();
      clock.advance(1000);
      assert.equal(timeouts, 5, 'one timeout per two intervals');
    });
  });

  describe('untilState', function () {
    interface Status {
      state: string;
      error?: RealvirtualError;
    }
    class Source extends EventEmitter {
      status: Status = { state: 'idle' };
      set(status: Status): void {
        this.status = status;
        this.emit('status');
      }
    }

    it('resolves when the goal state comes, and stops listening', async function () {
      const source = new Source();
      const done = untilState(source, 'connected', () => source.set({ state: 'connecting' }));
      assert.equal(source.listenerCount('status'), 1);
      source.set({ state: 'reconnecting' });
      source.set({ state: 'connected' });
      await done;
      assert.equal(source.listenerCount('status'), 0);
    });

    it('resolves at once when start reaches the goal synchronously, or it already holds', async function () {
      const source = new Source();
      await untilState(source, 'connected', () => source.set({ state: 'connected' }));
      await untilState(source, 'connected', () => undefined);
      assert.equal(source.listenerCount('status'), 0);
    });

    it('rejects with the status error on failed, with ERR_CLOSED on a closed without one', async function () {
      const source = new Source();
      const gaveUp = new ConnectionError('ERR_GAVE_UP', 'gave up after 3 reconnect attempts');
      const failing = untilState(source, 'connected', () => undefined);
      source.set({ state: 'failed', error: gaveUp });
      await assert.rejects(failing, (error) => error === gaveUp);
      const closing = untilState(source, 'listening', () => source.set({ state: 'idle' }));
      source.set({ state: 'closed' });
      await assert.rejects(closing, { code: 'ERR_CLOSED', message: 'closed before it was listening' });
      assert.equal(source.listenerCount('status'), 0);
    });

    it('an ignored rejection is not unhandled', async function () {
      const unhandled: unknown[] = [];
      const record = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', record);
      try {
        const source = new Source();
        void untilState(source, 'connected', () => source.set({ state: 'failed' }));
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('unhandledRejection', record);
      }
      assert.deepEqual(unhandled, []);
    });

    it('over a lifecycle that never connects: rejects with ERR_GAVE_UP exactly when the retries are spent', async function () {
      const { clock, lifecycle, last } = scripted({ maxAttempts: 3 });
      const source = new EventEmitter() as EventEmitter & { status: LinkStatus };
      Object.defineProperty(source, 'status', { get: () => lifecycle.status });
      lifecycle.on('state', () => source.emit('status'));
      let settled: string | null = null;
      const connecting = untilState(source, 'connected', () => lifecycle.start()).then(
        () => (settled = 'resolved'),
        (error: RealvirtualError) => (settled = `${error.code}@${clock.now()}`),
      );
      for (let attempt = 0; attempt < 4; attempt++) {
        last().closed(refused());
        await Promise.resolve();
        if (attempt < 3) {
          assert.equal(settled, null, `still trying after ${attempt + 1} failures`);
          clock.advance(1000 * 2 ** attempt);
        }
      }
      await connecting;
      assert.equal(settled, 'ERR_GAVE_UP@7000', 'after retries at 1 s, 3 s and 7 s');
    });
  });
});

function causeOf(status: LinkStatus): unknown {
  return ((status.error as { cause?: { code?: unknown } } | undefined)?.cause ?? {}).code;
}
